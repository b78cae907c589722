// Stores the last N sent/received items (packet handles) keyed by 16-bit RTP sequence
// number so NACKed packets can be retransmitted (RFC 4585 §6.2.1, RFC 4588). Same role as
// mediasoup's RtpRetransmissionBuffer. All storage is allocated at construction; insert and
// find never allocate. Items are released (reset to T{}) as soon as they leave the window.
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/time.hpp"
#include "sfu/seq_math.hpp"

namespace strata::sfu {

template <class T>
class RetransmissionBuffer {
 public:
  // A backwards jump at least this far (and at least `capacity`) means the sender restarted
  // its sequence space (RFC 3550 §A.1 MAX_DROPOUT): reset instead of rejecting forever.
  static constexpr size_t kResetDistance = 3000;
  static constexpr size_t kMaxCapacity = 32768;  // half the sequence space

  // `capacity` is rounded up to a power of two (clamped to [1, kMaxCapacity]).
  RetransmissionBuffer(size_t capacity, Duration max_age)
      : slots_(std::bit_ceil(std::clamp<size_t>(capacity, 1, kMaxCapacity))),
        mask_(slots_.size() - 1),
        max_age_(max_age),
        reset_distance_(std::max(kResetDistance, slots_.size())) {}

  // Returns false when the item was not stored (duplicate or too old).
  bool insert(uint16_t seq, T item, Timestamp now) {
    if (!started_) {
      started_ = true;
      highest_ = seq;
      return store(seq, std::move(item), now);
    }
    const int distance = seq_diff(seq, highest_);
    if (distance > 0) {
      advance(seq, distance);
      return store(seq, std::move(item), now);
    }
    const size_t back = size_t(-distance);
    if (back >= slots_.size()) {
      if (back < reset_distance_) return false;  // a straggler too old to keep
      clear();
      started_ = true;
      highest_ = seq;
      return store(seq, std::move(item), now);
    }
    const Slot& s = slot(seq);
    if (s.used && s.seq == seq) return false;  // duplicate
    return store(seq, std::move(item), now);
  }

  // The stored item, or nullptr when absent, outside the window or older than max_age.
  T* find(uint16_t seq, Timestamp now) {
    if (!started_ || size_t(uint16_t(highest_ - seq)) >= slots_.size()) return nullptr;
    Slot& s = slot(seq);
    if (!s.used || s.seq != seq) return nullptr;
    if (now - s.stored_at > max_age_) {
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
  struct Slot {
    T item{};
    Timestamp stored_at{};
    uint16_t seq = 0;
    bool used = false;
  };

  Slot& slot(uint16_t seq) { return slots_[seq & mask_]; }

  void advance(uint16_t seq, int distance) {
    if (size_t(distance) >= slots_.size()) {
      for (auto& s : slots_) evict(s);  // a jump past the whole window
    } else {
      // Slots between the old and new highest hold items from one window ago: release them.
      for (int k = 1; k <= distance; ++k) evict(slot(uint16_t(highest_ + k)));
    }
    highest_ = seq;
  }

  bool store(uint16_t seq, T&& item, Timestamp now) {
    Slot& s = slot(seq);
    if (!s.used) ++count_;
    s.item = std::move(item);
    s.stored_at = now;
    s.seq = seq;
    s.used = true;
    return true;
  }

  void evict(Slot& s) {
    if (!s.used) return;
    s.item = T{};
    s.used = false;
    --count_;
  }

  std::vector<Slot> slots_;
  size_t mask_;
  Duration max_age_;
  size_t reset_distance_;
  bool started_ = false;
  uint16_t highest_ = 0;
  size_t count_ = 0;
};

}  // namespace strata::sfu
