// The data channels of one association (RFC 8831 §6, RFC 8832): which SCTP stream carries
// which channel, DCEP opening in both directions, messages with their string/binary PPIDs,
// and closing by stream reset (RFC 8831 §6.7: each side resets its outgoing stream). Sans-IO
// on top of sctp::Association: the caller feeds it the association's messages and events
// after each packet or timer and takes back what happened to the channels.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "datachannel/dcep.hpp"
#include "sctp/association.hpp"

namespace strata::datachannel {

struct Channel {
  uint16_t stream_id = 0;
  OpenMessage open;         // label, protocol, ordered/reliability as negotiated
  bool acked = false;       // the peer answered our OPEN (or we answered theirs)
  bool closing = false;     // our outgoing stream reset is asked
  bool out_reset = false;   // ... and done
  bool in_reset = false;    // the peer reset its outgoing stream
};

struct ChannelMessage {
  uint16_t stream_id = 0;
  bool binary = false;
  Bytes data;               // empty for an empty message (PPID 56/57)
};

struct ChannelEvent {
  enum class Kind : uint8_t { kOpened, kClosed };
  Kind kind;
  uint16_t stream_id = 0;
  std::string label;
  bool by_peer = false;     // kOpened: the peer sent the OPEN
};

struct ChannelCounters {
  uint64_t bad_dcep = 0;          // malformed OPEN/ACK: dropped (and the stream reset)
  uint64_t unknown_stream = 0;    // a user message on a stream no channel opened
  uint64_t bad_ppid = 0;          // a PPID that is not DCEP, string or binary
  uint64_t stream_collisions = 0; // an OPEN on a stream we opened ourselves
};

enum class ChannelSendResult : uint8_t { kSent, kUnknownChannel, kTooLarge, kBufferFull, kNotOpen };

class Channels {
 public:
  // `dtls_client`: RFC 8832 §6: the DTLS client opens channels on even streams, the server
  // on odd ones. Strata is the DTLS server of WHIP/WHEP peers and the client towards an
  // origin it relays from.
  Channels(sctp::Association& association, bool dtls_client, size_t max_message_size);

  // Reads what the association delivered and reported since the last call.
  void poll(Timestamp now);

  // Opens a channel (RFC 8832 §6: OPEN on a free stream of our parity); nullopt when no
  // stream is free or the association is not up.
  std::optional<uint16_t> open(const OpenMessage& open, Timestamp now);
  ChannelSendResult send(uint16_t stream_id, bool binary, ByteSpan data, Timestamp now);
  void close(uint16_t stream_id, Timestamp now);

  const Channel* channel(uint16_t stream_id) const;
  const std::map<uint16_t, Channel>& all() const { return channels_; }
  std::vector<ChannelMessage>& messages() { return messages_; }
  std::vector<ChannelEvent> take_events() { return std::exchange(events_, {}); }
  const ChannelCounters& counters() const { return counters_; }

 private:
  void on_dcep(const sctp::ReceivedMessage& m, Timestamp now);
  void on_user_message(sctp::ReceivedMessage m);
  void on_incoming_reset(const std::vector<uint16_t>& streams, Timestamp now);
  void close_if_done(std::map<uint16_t, Channel>::iterator it);
  sctp::SendOptions options_of(const Channel& c) const;

  sctp::Association& association_;
  bool dtls_client_;
  size_t max_message_;
  uint16_t next_stream_;
  std::map<uint16_t, Channel> channels_;
  std::vector<ChannelMessage> messages_;
  std::vector<ChannelEvent> events_;
  ChannelCounters counters_;
};

}  // namespace strata::datachannel
