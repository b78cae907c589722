#include "common/packet_buffer.hpp"

namespace strata {

BufferPool::BufferPool(size_t initial) { grow(initial); }

BufferPool::~BufferPool() = default;

void BufferPool::grow(size_t n) {
  auto chunk = std::make_unique<PacketBuffer[]>(n);
  for (size_t i = 0; i < n; ++i) {
    PacketBuffer* b = &chunk[i];
    b->pool = this;
    b->next_free = local_free_;
    local_free_ = b;
    all_.push_back(b);
  }
  chunks_.push_back(std::move(chunk));
}

PacketRef BufferPool::acquire() {
  if (!local_free_) local_free_ = returned_.exchange(nullptr, std::memory_order_acquire);
  // Pools only grow when more packets are in flight than ever before (start-up, bursts);
  // steady state recycles.
  if (!local_free_) grow(all_.size() / 4 + 256);  // 1.6 KB each: overshoot little
  PacketBuffer* b = local_free_;
  local_free_ = b->next_free;
  b->next_free = nullptr;
  b->size = 0;
  return PacketRef(b);
}

void BufferPool::release_from_any_thread(PacketBuffer* b) {
  PacketBuffer* head = returned_.load(std::memory_order_relaxed);
  do {
    b->next_free = head;
  } while (!returned_.compare_exchange_weak(head, b, std::memory_order_release, std::memory_order_relaxed));
}

}  // namespace strata
