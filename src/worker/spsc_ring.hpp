// Bounded lock-free single-producer/single-consumer ring (one per ordered pair of
// workers). Indices are free-running; capacity is a power of two.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace strata::worker {

template <class T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity_pow2) : mask_(capacity_pow2 - 1), slots_(new T[capacity_pow2]) {}

  // Producer thread only. False when full (caller counts a drop).
  bool push(T&& v) {
    size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h - tail_cache_ > mask_) return false;
    }
    slots_[h & mask_] = std::move(v);
    head_.store(h + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only.
  bool pop(T& out) {
    size_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t == head_cache_) return false;
    }
    out = std::move(slots_[t & mask_]);
    slots_[t & mask_] = T();
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  bool empty() const { return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire); }

 private:
  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // producer's view of tail
  alignas(64) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // consumer's view of head
};

}  // namespace strata::worker
