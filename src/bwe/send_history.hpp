// Preallocated ring of packets sent to one viewer, keyed by the unwrapped transport-wide
// sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): feedback
// only carries 16-bit numbers, so they are unwrapped against the newest sent one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/time.hpp"

namespace strata::bwe {

// One per packet sent to a viewer, so kept to 24 bytes (issue 14: memory per viewer).
struct SentPacket {
  int64_t seq = -1;  // unwrapped; -1 = slot empty
  int64_t send_us = 0;
  int32_t probe_cluster = -1;
  uint16_t bytes = 0;     // an RTP packet fits a datagram: at most 65535
  bool reported = false;  // seen in some feedback (received or not)
  bool received = false;
};
static_assert(sizeof(SentPacket) <= 24);

class SendHistory {
 public:
  // capacity is rounded up to a power of two and allocated here. With max_capacity above
  // it, the ring doubles (up to that) whenever a packet would overwrite one that no
  // feedback has reported yet and that was sent less than kKeepUnreported ago: it grows to
  // the packets sent per feedback interval instead of the worst case (a viewer of one
  // 2.5 Mbit/s stream keeps 128 entries, 3 KB). Pointers from find() die at the next add().
  explicit SendHistory(size_t capacity, size_t max_capacity = 0);
  static constexpr int64_t kKeepUnreportedUs = 1'000'000;
  size_t capacity() const { return ring_.size(); }

  // Records a sent packet and returns its unwrapped sequence number.
  int64_t add(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster);
  // The packet a feedback sequence number refers to, or nullptr when it was never sent
  // or has already been overwritten.
  SentPacket* find(uint16_t seq);
  int64_t newest() const { return newest_; }

 private:
  bool must_keep(const SentPacket& p, int64_t now_us) const {
    return p.seq >= 0 && !p.reported && now_us - p.send_us < kKeepUnreportedUs;
  }
  void grow();

  std::vector<SentPacket> ring_;
  size_t mask_ = 0;
  size_t max_capacity_ = 0;
  int64_t newest_ = -1;
};

}  // namespace strata::bwe
