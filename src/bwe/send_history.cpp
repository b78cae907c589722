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

SendHistory::SendHistory(size_t capacity, size_t max_capacity)
    : ring_(round_up_pow2(capacity)), mask_(ring_.size() - 1), max_capacity_(std::max(ring_.size(), max_capacity)) {}

void SendHistory::grow() {
  std::vector<SentPacket> bigger(ring_.size() * 2);
  const size_t mask = bigger.size() - 1;
  for (const SentPacket& p : ring_) {
    if (p.seq >= 0) bigger[size_t(p.seq) & mask] = p;
  }
  ring_ = std::move(bigger);
  mask_ = mask;
}

int64_t SendHistory::add(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) {
  int64_t unwrapped = seq;
  if (newest_ >= 0) unwrapped = newest_ + int16_t(uint16_t(seq - uint16_t(newest_)));
  if (unwrapped < 0) unwrapped += 65536;  // a first step backwards below zero
  if (unwrapped > newest_) newest_ = unwrapped;
  const int64_t now_us = to_micros(now);
  while (ring_.size() < max_capacity_ && ring_[size_t(unwrapped) & mask_].seq != unwrapped &&
         must_keep(ring_[size_t(unwrapped) & mask_], now_us))
    grow();
  SentPacket& p = ring_[size_t(unwrapped) & mask_];
  p = SentPacket{unwrapped, now_us, int32_t(probe_cluster), uint16_t(std::min<size_t>(bytes, 65535)), false, false};
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
