#include "sfu/replay_queue.hpp"

#include <algorithm>

namespace strata::sfu {

void ReplayQueue::start(std::span<const Entry> group, int64_t rate_bps, Timestamp now) {
  queue_.assign(group.begin(), group.end());
  head_ = 0;
  rate_bytes_per_s_ = double(std::max<int64_t>(rate_bps, 8'000)) / 8;
  capacity_ = std::max(rate_bytes_per_s_ * std::chrono::duration<double>(kBurst).count(), double(kMinBurstBytes));
  tokens_ = capacity_;  // the keyframe's first packets go at once
  live_bytes_ = 0;
  layer_ = group.empty() ? 0 : group.front().facts.layer;
  started_ = refilled_ = now;
}

double ReplayQueue::rate_now(Timestamp now) const {
  const double elapsed = std::chrono::duration<double>(std::max(now - started_, Duration(kLiveWindow))).count();
  return std::max(rate_bytes_per_s_, kLiveGain * live_bytes_ / elapsed);
}

void ReplayQueue::clear() {
  std::vector<Entry>().swap(queue_);
  head_ = 0;
}

const ReplayQueue::Entry* ReplayQueue::next(Timestamp now) {
  if (!active()) return nullptr;
  if (now > refilled_) {
    const double rate = rate_now(now);
    const double capacity = std::max(capacity_, rate * std::chrono::duration<double>(kBurst).count());
    tokens_ = std::min(capacity, tokens_ + rate * std::chrono::duration<double>(now - refilled_).count());
    refilled_ = now;
  }
  // Send while there is credit; the packet that overdraws it is paid back by the next refill.
  return tokens_ > 0 ? &queue_[head_] : nullptr;
}

void ReplayQueue::pop(size_t sent_bytes) {
  if (!active()) return;
  tokens_ -= double(sent_bytes);
  queue_[head_++].packet.reset();  // the buffer goes back as soon as it is sent
  if (head_ == queue_.size()) clear();
}

}  // namespace strata::sfu
