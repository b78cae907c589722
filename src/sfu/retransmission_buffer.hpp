// Stores the last N sent/received items (packet handles) keyed by 16-bit RTP sequence
// number so NACKed packets can be retransmitted (RFC 4585 §6.2.1, RFC 4588). Same role as
// mediasoup's RtpRetransmissionBuffer. Items are released (reset to T{}) as soon as they
// leave the window.
//
// Sizing: a fixed buffer allocates all its slots at construction. A growing one (Growth)
// starts small and doubles, up to a cap, whenever the item about to leave the window is
// younger than `min_coverage`: it ends up holding min_coverage of the stream at its rate
// (a 50 packet/s audio track 64 slots, a 2.5 Mbit/s video track 512) instead of the worst
// case for every viewer. Growing allocates a few times while a stream ramps up, never in
// steady state; insert and find never allocate otherwise.
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/time.hpp"
#include "sfu/seq_math.hpp"

namespace strata::sfu {

// How a growing RetransmissionBuffer is sized (see above).
struct RetransmissionGrowth {
  size_t initial = 64;
  size_t max = 4096;
  Duration min_coverage = std::chrono::seconds(1);
};

template <class T>
class RetransmissionBuffer {
 public:
  // A backwards jump at least this far (and at least `capacity`) means the sender restarted
  // its sequence space (RFC 3550 §A.1 MAX_DROPOUT): reset instead of rejecting forever.
  static constexpr size_t kResetDistance = 3000;
  static constexpr size_t kMaxCapacity = 32768;  // half the sequence space

  using Growth = RetransmissionGrowth;

  // `capacity` is rounded up to a power of two (clamped to [1, kMaxCapacity]).
  RetransmissionBuffer(size_t capacity, Duration max_age)
      : slots_(round(capacity)), mask_(slots_.size() - 1), max_capacity_(slots_.size()), max_age_(max_age) {}
  RetransmissionBuffer(Growth growth, Duration max_age)
      : slots_(round(growth.initial)),
        mask_(slots_.size() - 1),
        max_capacity_(std::max(slots_.size(), round(growth.max))),
        max_age_(max_age),
        min_coverage_(growth.min_coverage) {}

  // The stored item (the caller may fill in the rest of it), or nullptr when it was not
  // stored (duplicate or too old). `at_stream_rate`: false for items sent in a burst faster
  // than the stream (a keyframe-cache replay), which must not size a growing buffer for
  // the rest of its life.
  T* insert(uint16_t seq, T item, Timestamp now, bool at_stream_rate = true) {
    if (!started_) {
      started_ = true;
      highest_ = seq;
      return store(seq, std::move(item), now, at_stream_rate);
    }
    const int distance = seq_diff(seq, highest_);
    if (distance > 0) {
      while (at_stream_rate && should_grow(distance, now)) grow();
      advance(seq, distance);
      return store(seq, std::move(item), now, at_stream_rate);
    }
    const size_t back = size_t(-distance);
    if (back >= slots_.size()) {
      if (back < std::max(kResetDistance, slots_.size())) return nullptr;  // a straggler too old to keep
      clear();
      started_ = true;
      highest_ = seq;
      return store(seq, std::move(item), now, at_stream_rate);
    }
    const Slot& s = slot(seq);
    if (s.used && s.seq == seq) return nullptr;  // duplicate
    return store(seq, std::move(item), now, at_stream_rate);
  }

  // The stored item, or nullptr when absent, outside the window or older than max_age.
  T* find(uint16_t seq, Timestamp now) {
    if (!started_ || size_t(uint16_t(highest_ - seq)) >= slots_.size()) return nullptr;
    Slot& s = slot(seq);
    if (!s.used || s.seq != seq) return nullptr;
    if (age(s, now) > max_age_) {
      evict(s);
      return nullptr;
    }
    return &s.item;
  }

  void clear() {
    for (auto& s : slots_) evict(s);
    started_ = false;
  }

  size_t capacity() const { return slots_.size(); }
  size_t size() const { return count_; }

 private:
  // 24 bytes with a 16-byte item (a consumer's): one per packet kept, for every viewer.
  struct Slot {
    T item{};
    uint32_t stored_ms = 0;  // milliseconds of the clock, mod 2^32 (ages are short)
    uint16_t seq = 0;
    bool used = false;
    bool at_stream_rate = true;  // see insert()
  };
  static_assert(sizeof(Slot) <= sizeof(T) + 8 || alignof(T) > 8);

  Slot& slot(uint16_t seq) { return slots_[seq & mask_]; }
  static uint32_t millis32(Timestamp t) {
    return uint32_t(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  }
  static Duration age(const Slot& s, Timestamp now) {
    return std::chrono::milliseconds(uint32_t(millis32(now) - s.stored_ms));
  }
  static size_t round(size_t n) { return std::bit_ceil(std::clamp<size_t>(n, 1, kMaxCapacity)); }

  // The oldest item, next to leave the window when `distance` new numbers arrive, is still
  // younger than min_coverage: the window covers less time than wanted.
  bool should_grow(int distance, Timestamp now) {
    if (slots_.size() >= max_capacity_ || size_t(distance) >= slots_.size()) return false;
    const Slot& oldest = slot(uint16_t(highest_ + 1));
    return oldest.used && oldest.at_stream_rate && age(oldest, now) < min_coverage_;
  }

  // Doubles the ring; the items keep their sequence numbers (no two collide in the bigger
  // ring because they span less than the old size).
  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (Slot& s : slots_) {
      if (s.used) bigger[s.seq & mask] = std::move(s);
    }
    slots_ = std::move(bigger);
    mask_ = mask;
  }

  void advance(uint16_t seq, int distance) {
    if (size_t(distance) >= slots_.size()) {
      for (auto& s : slots_) evict(s);  // a jump past the whole window
    } else {
      // Slots between the old and new highest hold items from one window ago: release them.
      for (int k = 1; k <= distance; ++k) evict(slot(uint16_t(highest_ + k)));
    }
    highest_ = seq;
  }

  T* store(uint16_t seq, T&& item, Timestamp now, bool at_stream_rate) {
    Slot& s = slot(seq);
    if (!s.used) ++count_;
    s.item = std::move(item);
    s.stored_ms = millis32(now);
    s.seq = seq;
    s.used = true;
    s.at_stream_rate = at_stream_rate;
    return &s.item;
  }

  void evict(Slot& s) {
    if (!s.used) return;
    s.item = T{};
    s.used = false;
    --count_;
  }

  std::vector<Slot> slots_;
  size_t mask_;
  size_t max_capacity_;
  Duration max_age_;
  Duration min_coverage_{};
  bool started_ = false;
  uint16_t highest_ = 0;
  size_t count_ = 0;
};

}  // namespace strata::sfu
