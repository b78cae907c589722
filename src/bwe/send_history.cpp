#include "bwe/send_history.hpp"

#include <algorithm>

namespace strata::bwe {

namespace {
size_t round_up_pow2(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

SendHistory::SendHistory(size_t capacity) : ring_(round_up_pow2(capacity)), mask_(ring_.size() - 1) {}

int64_t SendHistory::add(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) {
  int64_t unwrapped = seq;
  if (newest_ >= 0) unwrapped = newest_ + int16_t(uint16_t(seq - uint16_t(newest_)));
  if (unwrapped < 0) unwrapped += 65536;  // a first step backwards below zero
  if (unwrapped > newest_) newest_ = unwrapped;
  SentPacket& p = ring_[size_t(unwrapped) & mask_];
  p = SentPacket{unwrapped, to_micros(now), int32_t(probe_cluster), uint16_t(std::min<size_t>(bytes, 65535)), false, false};
  return unwrapped;
}

SentPacket* SendHistory::find(uint16_t seq) {
  if (newest_ < 0) return nullptr;
  const int64_t back = uint16_t(uint16_t(newest_) - seq);  // feedback never runs ahead
  const int64_t unwrapped = newest_ - back;
  if (unwrapped < 0) return nullptr;
  SentPacket& p = ring_[size_t(unwrapped) & mask_];
  return p.seq == unwrapped ? &p : nullptr;
}

}  // namespace strata::bwe
