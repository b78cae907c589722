// The sending half of an association's data transfer (RFC 9260 §6.1-6.3, §7.2): messages are
// cut into DATA chunks with their TSNs and SSNs when queued, sent as the congestion window
// (cwnd: slow start, congestion avoidance, fast retransmit after three miss indications, T3
// collapse) and the peer's receive window allow, acknowledged by SACKs, retransmitted on T3
// expiry. RFC 3758 partial reliability: a message past its lifetime or retransmission limit
// is abandoned whole and a FORWARD TSN moves the peer past it. Sans-IO: chunks are appended to
// a packet the caller builds; time comes in; the T3 deadline goes out.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "sctp/chunks.hpp"
#include "sctp/rto.hpp"

namespace strata::sctp {

struct SendOptions {
  bool unordered = false;
  std::optional<uint32_t> max_retransmits;  // RFC 8832 PARTIAL_RELIABLE_REXMIT
  std::optional<Duration> lifetime;         // PARTIAL_RELIABLE_TIMED
};

struct SenderConfig {
  size_t mtu = 1200;                // SCTP packet size (cwnd arithmetic counts in these)
  size_t buffer_limit = 1 << 20;    // bytes queued and unacknowledged before send() refuses
};

struct SenderCounters {
  uint64_t messages = 0;
  uint64_t chunks_sent = 0;
  uint64_t retransmissions = 0;
  uint64_t fast_retransmits = 0;
  uint64_t t3_expiries = 0;
  uint64_t abandoned_messages = 0;
  uint64_t refused_buffer_full = 0;
};

enum class SendResult : uint8_t {
  kQueued,
  kBufferFull,     // the send buffer holds its limit: try again after acknowledgements
  kEmpty,          // no bytes (an empty message goes as one byte with an "empty" PPID)
  kNotOpen,        // the association is not established
  kInvalidStream,  // a stream past the negotiated count
};

class DataSender {
 public:
  DataSender(uint32_t initial_tsn, uint32_t peer_rwnd, const SenderConfig& config, const RtoConfig& rto = {});

  // Queues one message (user data of at least one byte) on `stream`.
  SendResult send(uint16_t stream, uint32_t ppid, ByteSpan data, const SendOptions& options, Timestamp now);

  // Appends DATA chunks to `packet` while they fit in `room` bytes and the windows allow:
  // chunks marked for retransmission first, then new ones. Returns the bytes appended.
  size_t fill(Bytes& packet, size_t room, Timestamp now);
  bool has_sendable() const;

  void on_sack(const SackChunk& sack, Timestamp now);
  // The cumulative ack of a SHUTDOWN (RFC 9260 §9.2) acknowledges like a SACK without gaps.
  void on_cumulative_ack(uint32_t cumulative_tsn_ack, Timestamp now);
  void on_t3_expiry(Timestamp now);
  Timestamp t3_deadline() const { return t3_; }

  // RFC 3758 §3.5: a FORWARD TSN when abandoned chunks let the peer's ack point advance
  // (taken once per change, and again after each T3 expiry while the peer lags).
  std::optional<ForwardTsnChunk> take_forward_tsn();

  // RFC 6525: the outgoing SSNs of these streams start again from 0 (all if empty).
  void reset_streams(const std::vector<uint16_t>& streams);

  uint32_t last_assigned_tsn() const { return uint32_t(next_tsn_ - 1); }
  uint32_t cumulative_ack() const { return uint32_t(cum_ack_); }
  bool everything_acked() const { return items_.empty(); }
  size_t buffered() const { return buffered_; }
  uint32_t consecutive_t3_expiries() const { return consecutive_expiries_; }
  size_t cwnd() const { return cwnd_; }
  size_t flight_size() const { return flight_; }
  const Rto& rto() const { return rto_; }
  const SenderCounters& counters() const { return counters_; }

 private:
  enum class State : uint8_t { kQueued, kInFlight, kRetransmit, kAcked, kAbandoned };
  struct Item {
    uint64_t message_id;
    std::shared_ptr<const Bytes> message;
    uint32_t offset;
    uint32_t length;
    uint16_t stream_id;
    uint16_t ssn;
    uint32_t ppid;
    bool unordered, beginning, ending;
    Timestamp expires;
    uint32_t max_retransmits;
    State state = State::kQueued;
    uint32_t transmissions = 0;
    uint8_t misses = 0;
    bool fast_retransmitted = false;  // §7.2.4: at most once; then only T3 resends it
    Timestamp sent_at{};
  };

  Item* item(uint64_t tsn);
  uint64_t tsn_of(size_t index) const { return cum_ack_ + 1 + index; }
  void send_item(Item& it, uint64_t tsn, Bytes& packet, Timestamp now);
  void mark_acked(Item& it, uint64_t tsn, size_t* acked_bytes, Timestamp now);
  void abandon(size_t index);
  void abandon_expired(Timestamp now);
  void pop_acked_front();
  void enter_fast_recovery();

  SenderConfig config_;
  Rto rto_;
  uint64_t cum_ack_;      // unwrapped: items_.front() has TSN cum_ack_ + 1
  uint64_t next_tsn_;     // the TSN the next chunk gets
  std::deque<Item> items_;
  std::unordered_map<uint16_t, uint16_t> next_ssn_;
  uint64_t next_message_id_ = 1;
  size_t buffered_ = 0;   // user bytes of items_ not yet acknowledged or abandoned
  size_t flight_ = 0;     // bytes in flight (RFC 9260 §6.1 "flightsize")
  size_t cwnd_;
  size_t ssthresh_;
  size_t partial_bytes_acked_ = 0;
  uint32_t peer_rwnd_;
  bool fast_recovery_ = false;
  uint64_t fast_recovery_exit_ = 0;
  Timestamp t3_ = kNever;
  uint32_t consecutive_expiries_ = 0;
  std::optional<uint64_t> rtt_tsn_;  // the chunk timed for the next RTT measurement
  Timestamp rtt_sent_{};
  uint64_t forward_tsn_sent_for_ = 0;  // the advanced ack point last announced
  bool forward_tsn_due_ = false;
  SenderCounters counters_;
};

}  // namespace strata::sctp
