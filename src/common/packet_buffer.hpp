// Reference-counted, fixed-size packet buffers owned by one worker's pool.
//
// Why: a producer's packet is received once (recvmmsg straight into a pool buffer),
// unprotected in place, and then shared read-only by every consumer on every worker.
// The buffer goes back to its pool when the last reference drops, from whichever thread
// that happens on, without a lock: returns go onto an atomic intrusive stack that the
// owning worker takes whole (exchange), so there is no ABA and no allocation per packet.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace strata {

class BufferPool;

struct PacketBuffer {
  static constexpr size_t kCapacity = 1600;  // > any path MTU we accept, plus SRTP trailer
  std::atomic<uint32_t> refs{0};
  BufferPool* pool = nullptr;
  PacketBuffer* next_free = nullptr;
  size_t size = 0;
  alignas(16) uint8_t data[kCapacity];
};

// Intrusive shared handle. Copying adds a reference; the last one returns the buffer.
class PacketRef {
 public:
  PacketRef() = default;
  explicit PacketRef(PacketBuffer* b) : buf_(b) { if (buf_) buf_->refs.fetch_add(1, std::memory_order_relaxed); }
  PacketRef(const PacketRef& o) : PacketRef(o.buf_) {}
  PacketRef(PacketRef&& o) noexcept : buf_(std::exchange(o.buf_, nullptr)) {}
  PacketRef& operator=(PacketRef o) noexcept { std::swap(buf_, o.buf_); return *this; }
  ~PacketRef() { reset(); }
  void reset();
  explicit operator bool() const { return buf_ != nullptr; }
  PacketBuffer* get() const { return buf_; }
  PacketBuffer* operator->() const { return buf_; }
  uint8_t* data() const { return buf_->data; }
  size_t size() const { return buf_->size; }
  // The caller must be the only holder to write into the buffer (just received).
  bool unique() const { return buf_ && buf_->refs.load(std::memory_order_acquire) == 1; }

 private:
  PacketBuffer* buf_ = nullptr;
};

// One per worker. acquire() runs only on the owning worker's thread; release_from_any_thread()
// is safe from all threads.
class BufferPool {
 public:
  explicit BufferPool(size_t initial = 4096);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  PacketRef acquire();
  void release_from_any_thread(PacketBuffer* b);
  size_t allocated() const { return all_.size(); }

 private:
  void grow(size_t n);
  PacketBuffer* local_free_ = nullptr;
  std::atomic<PacketBuffer*> returned_{nullptr};
  std::vector<std::unique_ptr<PacketBuffer[]>> chunks_;
  std::vector<PacketBuffer*> all_;
};

inline void PacketRef::reset() {
  if (buf_ && buf_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) buf_->pool->release_from_any_thread(buf_);
  buf_ = nullptr;
}

}  // namespace strata
