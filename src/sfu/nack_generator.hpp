// Receiver-side loss detection for ingest streams: tracks gaps in RTP sequence numbers and
// says which ones to NACK (RFC 4585 §6.2.1 Generic NACK) and when, like mediasoup's
// NackGenerator / libwebrtc's NackRequester, written sans-IO: time comes in as `now`, the
// caller asks collect() on a timer (next_due()) and sends the NACK packet itself.
//
// A missing packet is NACKed first once `reorder_delay` has passed since the gap was seen,
// then again every max(RTT, min_retry_interval) up to `max_retries` times. Packets that are
// given up on (too many retries, too old, beyond `max_missing`) can't be recovered, so the
// generator raises a keyframe-needed flag instead (take_keyframe_needed()). A keyframe
// that arrives makes every older missing packet unnecessary.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "common/time.hpp"

namespace strata::sfu {

struct NackConfig {
  Duration reorder_delay{0};
  Duration min_retry_interval = std::chrono::milliseconds(20);
  int max_retries = 10;
  Duration max_age = std::chrono::seconds(2);  // since the gap was seen
  size_t max_missing = 1000;                     // tracked entries (libwebrtc kMaxNackPackets)
  uint32_t max_packet_age = 10000;               // in sequence numbers behind the highest
};

class NackGenerator {
 public:
  explicit NackGenerator(NackConfig config = {});

  // Records one received packet. Returns true when it filled a gap (late or retransmitted).
  bool on_packet(uint16_t seq, Timestamp now, bool keyframe);
  // Appends the sequence numbers due for a NACK now (oldest first) to `out`.
  void collect(Timestamp now, std::vector<uint16_t>& out);
  std::vector<uint16_t> collect(Timestamp now);
  // When collect() should next be called (kNever when nothing is missing).
  Timestamp next_due() const;

  void set_rtt(Duration rtt) { rtt_ = rtt; }
  // True once after packets were given up on; the caller then requests a keyframe (PLI).
  bool take_keyframe_needed();

  size_t missing_count() const { return missing_.size(); }
  uint64_t recovered_count() const { return recovered_; }
  uint64_t nacks_sent() const { return nacks_sent_; }

 private:
  struct Missing {
    Timestamp first_seen;
    Timestamp last_sent = kNever;  // kNever: not NACKed yet
    int retries = 0;
  };

  void add_gap(int64_t from, int64_t to, Timestamp now);  // [from, to)
  void forget_before(int64_t ext_seq);
  void give_up(std::map<int64_t, Missing>::iterator& it);
  Timestamp due_time(const Missing& m) const;
  Duration retry_interval() const { return rtt_ > config_.min_retry_interval ? rtt_ : config_.min_retry_interval; }

  NackConfig config_;
  bool started_ = false;
  int64_t highest_ = 0;  // extended (unwrapped) sequence number
  Duration rtt_{0};
  bool keyframe_needed_ = false;
  std::map<int64_t, Missing> missing_;  // keyed by extended sequence number
  uint64_t recovered_ = 0;
  uint64_t nacks_sent_ = 0;
};

}  // namespace strata::sfu
