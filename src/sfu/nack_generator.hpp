// Receiver-side loss detection for ingest streams: tracks gaps in RTP sequence numbers and
// says which ones to NACK (RFC 4585 §6.2.1 Generic NACK) and when, like mediasoup's
// NackGenerator / libwebrtc's NackRequester, written sans-IO: time comes in as `now`, the
// caller asks collect() on a timer (next_due()) and sends the NACK packet itself.
//
// Timing, tuned for long server-to-server paths (docs/ARCHITECTURE.md, "Cluster", regions):
//  - Reorder tolerance: a gap is NACKed first once it is older than the reorder window, so
//    packets that are only late (jitter, multipath) do not cost a NACK and a duplicate
//    retransmission. The window starts at `reorder_delay` and adapts upward to the
//    lateness of packets that did arrive out of order on their own (capped by
//    `max_reorder_delay`), decaying back slowly.
//  - Retries follow the path RTT: a retransmission cannot come back sooner than one round
//    trip, so a NACK is repeated only after max(smoothed RTT + 2 × RTT variation,
//    min_retry_interval) (RFC 6298 §2 smoothing of the samples given to set_rtt()). Until
//    a sample arrives, `initial_rtt` stands in.
//  - Bounded: at most `max_retries` NACKs per packet and `max_age` since the gap was seen.
// Packets given up on (too many retries, too old, beyond `max_missing`) can't be recovered,
// so the generator raises a keyframe-needed flag instead (take_keyframe_needed()). A
// keyframe that arrives makes every older missing packet unnecessary.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "common/time.hpp"

namespace strata::sfu {

struct NackConfig {
  Duration reorder_delay{0};                          // initial (and minimum) reorder window
  Duration max_reorder_delay{0};  // cap of the adaptive window; <= reorder_delay: fixed
  Duration min_retry_interval = std::chrono::milliseconds(20);
  Duration initial_rtt{0};                            // used until set_rtt() is called
  int max_retries = 10;
  Duration max_age = std::chrono::seconds(2);  // since the gap was seen
  size_t max_missing = 1000;                     // tracked entries (libwebrtc kMaxNackPackets)
  uint32_t max_packet_age = 10000;               // in sequence numbers behind the highest
};

// Settings for an edge's relay ingest from its origin (a long, mostly clean backbone path):
// tolerate 5-30 ms of reordering, assume 100 ms RTT until measured, give up after 6 tries
// or 1.5 s (the origin keeps sent packets for at least 1 s + RTT, see RelaySendSession).
NackConfig relay_nack_config();

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

  // One round-trip sample of the path the NACKs travel (from RTCP: RFC 3611 XR DLRR on a
  // receive-only session, or the sender's report blocks). Negative samples are ignored.
  void set_rtt(Duration rtt);
  Duration smoothed_rtt() const { return srtt_; }
  // Time between two NACKs of one packet.
  Duration retry_interval() const;
  // The current reorder window (a gap younger than this is not NACKed yet).
  Duration reorder_window() const { return reorder_window_; }

  // True once after packets were given up on; the caller then requests a keyframe (PLI).
  bool take_keyframe_needed();

  size_t missing_count() const { return missing_.size(); }
  uint64_t recovered_count() const { return recovered_; }
  uint64_t reordered_count() const { return reordered_; }
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
  void on_filled(const Missing& m, Timestamp now);
  Timestamp due_time(const Missing& m) const;

  NackConfig config_;
  bool started_ = false;
  int64_t highest_ = 0;  // extended (unwrapped) sequence number
  bool have_rtt_ = false;
  Duration srtt_{0};
  Duration rttvar_{0};
  Duration reorder_window_{0};
  Timestamp last_reorder_{};
  bool keyframe_needed_ = false;
  std::map<int64_t, Missing> missing_;  // keyed by extended sequence number
  uint64_t recovered_ = 0;
  uint64_t reordered_ = 0;
  uint64_t nacks_sent_ = 0;
};

}  // namespace strata::sfu
