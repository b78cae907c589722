// Packets waiting for their release time, earliest first; equal times leave in arrival
// order (a sequence number breaks ties, since a heap alone is not stable). Pure: the caller
// asks for the next release time, arms its timer, and pops what is due at `now`.
#pragma once
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "common/time.hpp"

namespace strata::wan_emu {

template <typename T>
class ReleaseQueue {
 public:
  explicit ReleaseQueue(size_t reserve = 4096) {
    std::vector<Entry> storage;
    storage.reserve(reserve);
    heap_ = Heap(Later{}, std::move(storage));
  }

  void push(Timestamp release, T item) { heap_.push(Entry{release, next_seq_++, std::move(item)}); }

  // kNever when empty.
  Timestamp next_release() const { return heap_.empty() ? kNever : heap_.top().release; }

  // The earliest item if its release time is <= now.
  std::optional<T> pop_due(Timestamp now) {
    if (heap_.empty() || heap_.top().release > now) return std::nullopt;
    T item = std::move(const_cast<Entry&>(heap_.top()).item);
    heap_.pop();
    return item;
  }

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Entry {
    Timestamp release;
    uint64_t seq;
    T item;
  };
  struct Later {
    bool operator()(const Entry& x, const Entry& y) const {
      return x.release != y.release ? x.release > y.release : x.seq > y.seq;
    }
  };
  using Heap = std::priority_queue<Entry, std::vector<Entry>, Later>;

  Heap heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace strata::wan_emu
