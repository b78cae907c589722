// A worker's budget for keyframe-cache replays: the cached bytes that its viewers' replays
// have still to send, all together. Pure bookkeeping, one per worker thread (no atomics).
//
// Why: a replay sends a whole group of pictures (up to max_age of the layer) at 2.5x its
// rate on top of the live stream. One viewer's replay is cheap; a join storm of hundreds
// is not: 400 viewers joining a 2.5 Mbit/s live at 200/s on one worker asked for about
// 2 s of the worker's full send capacity in replays, the worker fell seconds behind, and
// with 15 % headroom left it took tens of seconds to catch up (forwarding delay p50 0.8-
// 5 s, 200 KB per viewer of packets held in the queues; issue 14's benchmark). Past the
// budget a viewer asks the host for a keyframe instead, which the coalescer turns into
// one request for the whole storm: one keyframe per viewer instead of a group each.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>

namespace strata::sfu {

class ReplayBudget {
 public:
  // A claim on part of the budget, given back as the replay sends (give_back) and in full
  // when it ends or is destroyed. Empty (false) when refused or default-made.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        reset();
        budget_ = std::exchange(o.budget_, nullptr);
        bytes_ = std::exchange(o.bytes_, 0);
      }
      return *this;
    }
    ~Lease() { reset(); }
    explicit operator bool() const { return budget_ != nullptr; }
    void give_back(size_t n) {
      if (!budget_) return;
      n = std::min(n, bytes_);
      bytes_ -= n;
      budget_->in_use_ -= n;
    }
    void reset() {
      give_back(bytes_);
      budget_ = nullptr;
    }

   private:
    friend class ReplayBudget;
    Lease(ReplayBudget* b, size_t bytes) : budget_(b), bytes_(bytes) { b->in_use_ += bytes; }
    ReplayBudget* budget_ = nullptr;
    size_t bytes_ = 0;
  };

  ReplayBudget() = default;
  ReplayBudget(const ReplayBudget&) = delete;
  ReplayBudget& operator=(const ReplayBudget&) = delete;

  // A lease of `bytes` if they fit under `limit` (KeyframeCacheConfig::replay_budget_bytes;
  // 0 = no limit), else an empty one. A group larger than the whole budget still replays
  // when no other replay runs (a budget must not disable the cache).
  Lease take(size_t bytes, size_t limit) {
    if (limit && in_use_ > 0 && in_use_ + bytes > limit) return {};
    return Lease(this, bytes);
  }
  size_t in_use() const { return in_use_; }

 private:
  size_t in_use_ = 0;
};

}  // namespace strata::sfu
