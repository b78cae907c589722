// One SCTP association (RFC 9260) as a WebRTC data channel transport needs it (RFC 8831 §5):
// one path, no multi-homing, no ASCONF or AUTH (DTLS protects the packets, RFC 8261), with
// RFC 3758 partial reliability and RFC 6525 stream resets. Sans-IO: packets (decrypted DTLS
// application data) and time in; packets to send, delivered messages, events and the next
// deadline out. The caller owns the clock and the randomness (tags and initial TSNs).
//
// Handshake (§5.1): either side may send INIT (connect()); the other answers INIT ACK with a
// state cookie, COOKIE ECHO, COOKIE ACK. Both sides connecting at once (as browsers do) is
// the INIT collision of §5.2.1: each answers the other's INIT with its own parameters and the
// association comes up on whichever COOKIE ECHO arrives first. The state cookie is not
// stateless (§5.1.3 allows either): a DTLS peer has already authenticated, so the association
// keeps its INIT ACK parameters and compares the echoed cookie with the one it sent.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "sctp/chunks.hpp"
#include "sctp/data_receiver.hpp"
#include "sctp/data_sender.hpp"
#include "sctp/packet.hpp"
#include "sctp/rto.hpp"

namespace strata::sctp {

struct AssociationConfig {
  uint16_t local_port = 5000;   // a=sctp-port (RFC 8841 §5.1); 5000 is every browser's
  uint16_t remote_port = 5000;
  uint32_t local_tag = 0;       // the caller's random, non-zero Initiate Tag
  uint32_t initial_tsn = 0;     // the caller's random initial TSN
  uint16_t streams = 65535;     // offered in each direction
  size_t mtu = 1200;            // largest SCTP packet (one DTLS record inside one UDP datagram)
  size_t receive_window = 1 << 20;
  size_t send_buffer = 1 << 20;
  size_t max_message_size = 256 * 1024;  // a=max-message-size
  RtoConfig rto;
  uint32_t max_retransmissions = 10;       // Association.Max.Retrans (§16)
  uint32_t max_init_retransmissions = 8;   // Max.Init.Retransmits
  Duration delayed_sack = std::chrono::milliseconds(200);  // §6.2
};

enum class AssociationState : uint8_t {
  kClosed,          // before connect() or an INIT; and after ABORT / SHUTDOWN COMPLETE
  kCookieWait,      // INIT sent
  kCookieEchoed,    // COOKIE ECHO sent
  kEstablished,
  kShutdownPending, // shutdown() asked: waiting for our data to be acknowledged
  kShutdownSent,
  kShutdownReceived,
  kShutdownAckSent,
};

struct AssociationCounters {
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t bad_packets = 0;        // too short, bad checksum, malformed chunk
  uint64_t bad_tag = 0;            // a verification tag that is not ours (§8.5): dropped
  uint64_t bad_chunks = 0;         // a chunk its parser refused
  uint64_t unknown_chunks = 0;
  uint64_t heartbeats = 0;
};

// What happened, for the data channel layer; taken with take_events().
struct AssociationEvent {
  enum class Kind : uint8_t { kEstablished, kClosed, kIncomingStreamsReset, kOutgoingStreamsReset };
  Kind kind;
  std::vector<uint16_t> streams;   // the reset streams
  std::string reason;              // kClosed: why (ABORT received, peer unreachable, ...)
};

class Association {
 public:
  explicit Association(const AssociationConfig& config);

  void connect(Timestamp now);
  void handle_packet(ByteSpan packet, Timestamp now);
  void handle_timeout(Timestamp now);
  Timestamp next_timeout() const;

  SendResult send(uint16_t stream, uint32_t ppid, ByteSpan data, const SendOptions& options, Timestamp now);
  // RFC 6525 §5.1.2: reset our outgoing streams (how a data channel closes, RFC 8831 §6.7).
  void reset_streams(const std::vector<uint16_t>& streams, Timestamp now);
  void shutdown(Timestamp now);
  void abort(std::string_view reason, Timestamp now);

  // Packets to send, each one DTLS record; the caller moves them out.
  std::vector<Bytes>& packets() { return out_; }
  std::deque<ReceivedMessage>& messages();
  std::vector<AssociationEvent> take_events() { return std::exchange(events_, {}); }

  AssociationState state() const { return state_; }
  bool established() const { return state_ == AssociationState::kEstablished; }
  uint16_t outbound_streams() const { return outbound_streams_; }
  const AssociationCounters& counters() const { return counters_; }
  const DataSender* sender() const { return sender_.get(); }
  const DataReceiver* receiver() const { return receiver_.get(); }

 private:
  struct Peer {
    uint32_t tag = 0;
    uint32_t initial_tsn = 0;
    uint32_t a_rwnd = 0;
    uint16_t outbound_streams = 0;
    uint16_t inbound_streams = 0;
  };
  struct PendingReset {        // our outgoing reset request in flight
    uint32_t request_seq = 0;
    std::vector<uint16_t> streams;
    uint32_t sender_last_tsn = 0;
    Timestamp deadline = kNever;
  };
  struct DeferredReset {       // the peer's request waiting for our cumulative ack
    OutgoingResetRequest request;
  };

  bool tag_ok(const CommonHeader& h, ByteSpan packet) const;
  void on_chunk(const ChunkView& c, Timestamp now, bool* stop);
  void on_init(const ChunkView& c, Timestamp now);
  void on_init_ack(const ChunkView& c, Timestamp now);
  void on_cookie_echo(const ChunkView& c, Timestamp now);
  void on_data(const ChunkView& c, Timestamp now);
  void on_sack(const ChunkView& c, Timestamp now);
  void on_reconfig(const ChunkView& c, Timestamp now);
  void on_outgoing_reset_request(const OutgoingResetRequest& r);
  void on_shutdown(const ChunkView& c, Timestamp now);
  void on_unknown(const ChunkView& c, bool* stop);
  void establish(const Peer& peer, Timestamp now);
  void close(std::string reason);
  void perform_deferred_resets();
  void maybe_send_reset(Timestamp now);
  void queue_reset_request();
  void queue_response(uint32_t request_seq, ReconfigResult result, bool remember);
  void progress_shutdown(Timestamp now);

  Bytes start_packet(uint32_t tag) const;
  void send_single(Bytes packet);   // a finished packet with one control chunk
  void send_init(Timestamp now);
  void flush(Timestamp now);        // SACK, control chunks and DATA into as few packets as fit

  AssociationConfig config_;
  AssociationState state_ = AssociationState::kClosed;
  bool ended_ = false;              // closed after having started: nothing more is read or sent
  Peer peer_;
  uint16_t outbound_streams_ = 0;
  Bytes cookie_;                    // the state cookie we sent in INIT ACK
  Bytes peer_cookie_;               // the one we echo
  Peer pending_peer_;               // INIT parameters until its COOKIE ECHO
  Timestamp t1_ = kNever;           // INIT or COOKIE ECHO retransmission
  uint32_t t1_count_ = 0;
  Timestamp t2_ = kNever;           // SHUTDOWN / SHUTDOWN ACK retransmission
  uint32_t t2_count_ = 0;
  std::unique_ptr<DataReceiver> receiver_;
  std::unique_ptr<DataSender> sender_;
  bool sack_now_ = false;
  Timestamp sack_deadline_ = kNever;
  uint32_t data_packets_unacked_ = 0;
  std::vector<Bytes> control_;      // whole chunks waiting for the next packet (HEARTBEAT ACK, RE-CONFIG, ERROR)
  uint32_t next_request_seq_ = 0;   // RFC 6525 §5.1.1: starts at our initial TSN
  uint32_t peer_next_request_seq_ = 0;
  std::optional<ReconfigResponse> last_response_;  // to repeat for a retransmitted request
  std::optional<PendingReset> reset_in_flight_;
  std::vector<uint16_t> resets_wanted_;
  std::vector<DeferredReset> deferred_;
  std::deque<ReceivedMessage> no_messages_;
  std::vector<Bytes> out_;
  std::vector<AssociationEvent> events_;
  AssociationCounters counters_;
};

}  // namespace strata::sctp
