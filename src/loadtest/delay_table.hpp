// Forwarding delay (publisher send → viewer receive) inside one bench process: the
// publisher records a fingerprint of each packet's media bytes with its send time, a
// viewer that decrypts a sampled packet looks the fingerprint up. Lock-free, fixed size:
// written by the publisher's loop thread, read by any viewer thread; a torn read only
// loses one sample (the key is re-checked after reading the time).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.hpp"

namespace strata::loadtest {

// FNV-1a over the first 32 bytes and the length: the codec payload (after the VP8
// descriptor, which an SFU may rewrite) is the same on both sides.
inline uint64_t media_fingerprint(const uint8_t* data, size_t len) {
  uint64_t h = 1469598103934665603ull ^ len;
  size_t n = len < 32 ? len : 32;
  for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h | 1;  // 0 marks an empty slot
}

class DelayTable {
 public:
  static constexpr size_t kSlots = 1 << 16;
  void record(uint64_t key, int64_t send_us) {
    Slot& s = slots_[key & (kSlots - 1)];
    s.key.store(0, std::memory_order_relaxed);
    s.time.store(send_us, std::memory_order_release);
    s.key.store(key, std::memory_order_release);
  }
  std::optional<int64_t> lookup(uint64_t key) const {
    const Slot& s = slots_[key & (kSlots - 1)];
    if (s.key.load(std::memory_order_acquire) != key) return std::nullopt;
    int64_t t = s.time.load(std::memory_order_acquire);
    if (s.key.load(std::memory_order_acquire) != key) return std::nullopt;
    return t;
  }

 private:
  struct Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<int64_t> time{0};
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace strata::loadtest
