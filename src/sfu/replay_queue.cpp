#include "sfu/replay_queue.hpp"

#include <algorithm>

namespace strata::sfu {

void ReplayQueue::start(std::span<const Entry> group, int64_t rate_bps, Timestamp now, ReplayBudget::Lease lease) {
  queue_.assign(group.begin(), group.end());
  head_ = 0;
  cached_ = queue_.size();
  lease_ = std::move(lease);
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
  head_ = cached_ = 0;
  lease_.reset();
}

const ReplayQueue::Entry* ReplayQueue::next(Timestamp now) {
  if (!active()) return nullptr;
  if (now > refilled_) {
    const double rate = rate_now(now);
    // The bucket holds kBurst of the rate, or all that the time since the last call
    // earned: a worker that comes back late (a long receive batch, a busy tick) must
    // still drain at the rate, or the replay falls behind the live packets queued after
    // it and never ends (seen: 300 viewers on one core, ticks 50+ ms apart, delays of
    // seconds and growing).
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    const double capacity = std::max(capacity_, rate * std::max(std::chrono::duration<double>(kBurst).count(), elapsed));
    tokens_ = std::min(capacity, tokens_ + rate * elapsed);
    refilled_ = now;
  }
  // Send while there is credit; the packet that overdraws it is paid back by the next refill.
  return tokens_ > 0 ? &queue_[head_] : nullptr;
}

void ReplayQueue::pop(size_t sent_bytes) {
  if (!active()) return;
  tokens_ -= double(sent_bytes);
  if (head_ < cached_) lease_.give_back(queue_[head_].packet.size());
  queue_[head_++].packet.reset();  // the buffer goes back as soon as it is sent
  if (head_ == queue_.size()) clear();
}

}  // namespace strata::sfu
