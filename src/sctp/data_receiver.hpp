// The receiving half of an association's data transfer (RFC 9260 §6.2, §6.5, §6.9; RFC 3758
// §3.6 for FORWARD TSN; RFC 6525 §5.2.2 for stream resets): which TSNs arrived (the
// cumulative ack, gap blocks and duplicates a SACK reports), the reassembly of fragmented
// messages, and delivery in stream-sequence order for ordered streams. Sans-IO; bounded by a
// window of buffered bytes (what a SACK's a_rwnd advertises) and a message size limit.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "sctp/chunks.hpp"

namespace strata::sctp {

struct ReceivedMessage {
  uint16_t stream_id = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  Bytes data;
};

struct ReceiverCounters {
  uint64_t chunks = 0;
  uint64_t duplicates = 0;
  uint64_t out_of_window = 0;    // beyond the buffer: dropped, not acknowledged (resent later)
  uint64_t oversized = 0;        // a message past max_message_size: dropped whole
  uint64_t messages = 0;
  uint64_t abandoned_fragments = 0;  // dropped by a FORWARD TSN
};

class DataReceiver {
 public:
  // `peer_initial_tsn` is the peer's INIT initial TSN; the cumulative ack starts one below.
  DataReceiver(uint32_t peer_initial_tsn, size_t window_bytes, size_t max_message_size);

  enum class Verdict : uint8_t { kNew, kDuplicate, kDropped };
  Verdict on_data(const DataChunk& d);
  void on_forward_tsn(const ForwardTsnChunk& f);

  // Complete messages in delivery order; the caller takes them after each packet.
  std::deque<ReceivedMessage>& messages() { return ready_; }

  // The SACK for what has arrived; the duplicates reported are forgotten.
  SackChunk make_sack();
  uint32_t cumulative_tsn() const { return uint32_t(cum_); }
  bool has_gaps() const { return !above_cum_.empty(); }
  uint32_t a_rwnd() const;

  // RFC 6525 §5.2.2: the peer reset these outgoing streams of its own (all if empty); their
  // next expected SSN is 0 again.
  void reset_streams(const std::vector<uint16_t>& streams);

  const ReceiverCounters& counters() const { return counters_; }

 private:
  struct Fragment {
    uint16_t stream_id;
    uint16_t ssn;
    uint32_t ppid;
    bool unordered, beginning, ending;
    Bytes data;
  };
  struct OrderedStream {
    uint16_t next_ssn = 0;
    // Complete messages waiting for their turn, by SSN; nullopt for one dropped as oversized
    // (its SSN must still pass).
    std::map<uint16_t, std::optional<ReceivedMessage>> complete;
  };

  void advance_cum();
  void try_assemble(uint64_t tsn);
  void deliver_ordered(uint16_t stream);
  void queue_ordered(uint16_t stream, uint16_t ssn, std::optional<ReceivedMessage> m);

  size_t window_;
  size_t max_message_;
  uint64_t cum_;                                  // unwrapped cumulative TSN
  std::set<uint64_t> above_cum_;                  // TSNs received past cum_
  std::map<uint64_t, Fragment> fragments_;        // not yet assembled, by TSN
  std::unordered_map<uint16_t, OrderedStream> streams_;
  std::deque<ReceivedMessage> ready_;
  std::vector<uint32_t> duplicates_;
  size_t buffered_ = 0;                           // fragments + messages waiting for order
  ReceiverCounters counters_;
};

}  // namespace strata::sctp
