#include "sfu/replay_queue.hpp"

#include <algorithm>

namespace strata::sfu {

void ReplayQueue::start(std::span<const Entry> group, int64_t rate_bps, Timestamp now) {
  queue_.assign(group.begin(), group.end());
  rate_bytes_per_s_ = double(std::max<int64_t>(rate_bps, 8'000)) / 8;
  capacity_ = std::max(rate_bytes_per_s_ * std::chrono::duration<double>(kBurst).count(), double(kMinBurstBytes));
  tokens_ = capacity_;  // the keyframe's first packets go at once
  refilled_ = now;
}

const ReplayQueue::Entry* ReplayQueue::next(Timestamp now) {
  if (queue_.empty()) return nullptr;
  if (now > refilled_) {
    tokens_ = std::min(capacity_, tokens_ + rate_bytes_per_s_ * std::chrono::duration<double>(now - refilled_).count());
    refilled_ = now;
  }
  // Send while there is credit; the packet that overdraws it is paid back by the next refill.
  return tokens_ > 0 ? &queue_.front() : nullptr;
}

void ReplayQueue::pop(size_t sent_bytes) {
  if (queue_.empty()) return;
  tokens_ -= double(sent_bytes);
  queue_.pop_front();
}

}  // namespace strata::sfu
