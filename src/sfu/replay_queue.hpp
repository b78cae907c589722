// The replay of a cached group of pictures to one viewer slot (KeyframeCache): the cached
// packets, then the live packets that arrive meanwhile, released at a paced rate until the
// queue is empty and the slot is live. Pacing is a token bucket over the bytes actually
// sent (a simulcast consumer forwards one layer of what it is given). Pure: time passed in.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "common/time.hpp"
#include "sfu/keyframe_cache.hpp"
#include "sfu/replay_budget.hpp"

namespace strata::sfu {

class ReplayQueue {
 public:
  using Entry = KeyframeCache::Entry;
  // The bucket holds this much of the pace rate at most (and at least one full packet), so
  // the group goes out in bursts no larger than a few packets.
  static constexpr Duration kBurst = std::chrono::milliseconds(20);
  static constexpr int64_t kMinBurstBytes = 1500;

  // Starts over with `group`, released at `rate_bps`. `lease` (the worker's ReplayBudget,
  // for the group's bytes) is given back as the cached packets go out.
  void start(std::span<const Entry> group, int64_t rate_bps, Timestamp now, ReplayBudget::Lease lease = {});
  bool active() const { return head_ < queue_.size(); }
  // A live packet that arrived while the replay runs: it goes after the cached ones.
  void push(Entry entry) {
    // Only the replayed layer's: a simulcast slot is given every layer's packets but
    // forwards one, and the others' bytes would make the replay burst far above its rate.
    if (entry.facts.layer == layer_) live_bytes_ += double(entry.packet.size());
    queue_.push_back(std::move(entry));
  }
  // The queue drains at least this many times as fast as live packets join it, whatever
  // rate start() was given: a pace below the live rate (a young rate meter gives the floor)
  // would let the live packets pile up behind the replay for ever.
  static constexpr double kLiveGain = 2.0;
  static constexpr Duration kLiveWindow = std::chrono::milliseconds(100);
  // The next packet if the pace allows one now, else nullptr. Call pop() after handling it.
  const Entry* next(Timestamp now);
  // The packet from next() was handled: `sent_bytes` went to the viewer (0: filtered out).
  void pop(size_t sent_bytes);
  void clear();
  // Whether the last packet queued is `packet` (the same buffer).
  bool ends_with(const PacketRef& packet) const { return active() && queue_.back().packet.get() == packet.get(); }

 private:
  // queue_[head_..] waits; the storage is released when the replay ends (a slot replays
  // rarely, and an idle viewer should not hold it).
  std::vector<Entry> queue_;
  size_t head_ = 0;
  size_t cached_ = 0;  // queue_[0..cached_) came from the cache, the rest is live
  ReplayBudget::Lease lease_;
  double rate_bytes_per_s_ = 0;
  double tokens_ = 0, capacity_ = 0;
  double live_bytes_ = 0;  // of the replayed layer, pushed since start()
  uint8_t layer_ = 0;      // the replayed group's simulcast layer
  Timestamp started_{}, refilled_{};
  double rate_now(Timestamp now) const;
};

}  // namespace strata::sfu
