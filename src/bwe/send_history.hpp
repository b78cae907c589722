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
  // capacity is rounded up to a power of two; allocated once here.
  explicit SendHistory(size_t capacity);

  // Records a sent packet and returns its unwrapped sequence number.
  int64_t add(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster);
  // The packet a feedback sequence number refers to, or nullptr when it was never sent
  // or has already been overwritten.
  SentPacket* find(uint16_t seq);
  int64_t newest() const { return newest_; }

 private:
  std::vector<SentPacket> ring_;
  size_t mask_ = 0;
  int64_t newest_ = -1;
};

}  // namespace strata::bwe
