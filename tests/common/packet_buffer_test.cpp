#include "common/packet_buffer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace strata {
namespace {

uint32_t refs(const PacketRef& r) { return r.get()->refs.load(); }

TEST(BufferPool, AcquireGivesFreshUniqueBuffer) {
  BufferPool pool(4);
  PacketRef r = pool.acquire();
  ASSERT_TRUE(r);
  EXPECT_EQ(refs(r), 1u);
  EXPECT_TRUE(r.unique());
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r->pool, &pool);
  EXPECT_EQ(r.data(), r.get()->data);
}

TEST(BufferPool, AcquireResetsSizeOfRecycledBuffer) {
  BufferPool pool(1);
  PacketBuffer* first = nullptr;
  {
    PacketRef r = pool.acquire();
    r->size = 1234;
    first = r.get();
  }
  PacketRef again = pool.acquire();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again.size(), 0u);
}

// Steady state: however many times buffers cycle, a pool that is big enough never grows.
TEST(BufferPool, SteadyStateRecyclesWithoutGrowth) {
  struct Case {
    size_t initial;
    size_t in_flight;  // buffers held at once
    int rounds;
  };
  const Case cases[] = {{1, 1, 10000}, {8, 8, 5000}, {64, 10, 5000}, {256, 256, 200}};
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "initial=" << c.initial << " in_flight=" << c.in_flight);
    BufferPool pool(c.initial);
    std::vector<PacketRef> held;
    for (int round = 0; round < c.rounds; ++round) {
      for (size_t i = 0; i < c.in_flight; ++i) held.push_back(pool.acquire());
      held.clear();
    }
    EXPECT_EQ(pool.allocated(), c.initial);
  }
}

TEST(BufferPool, GrowsWhenMoreBuffersAreInFlightThanAllocated) {
  BufferPool pool(4);
  std::vector<PacketRef> held;
  std::set<PacketBuffer*> distinct;
  for (int i = 0; i < 1000; ++i) {
    held.push_back(pool.acquire());
    distinct.insert(held.back().get());
  }
  EXPECT_EQ(distinct.size(), 1000u);  // every live ref owns its own buffer
  const size_t grown = pool.allocated();
  EXPECT_GE(grown, 1000u);
  for (auto& r : held) EXPECT_EQ(r->pool, &pool);
  // Once grown, the same load recycles.
  for (int round = 0; round < 10; ++round) {
    held.clear();
    for (int i = 0; i < 1000; ++i) held.push_back(pool.acquire());
  }
  EXPECT_EQ(pool.allocated(), grown);
}

TEST(BufferPool, ReleaseFromAnotherThreadIsReusedByAcquire) {
  constexpr size_t kN = 16;
  BufferPool pool(kN);
  std::vector<PacketRef> held;
  std::set<PacketBuffer*> originals;
  for (size_t i = 0; i < kN; ++i) {
    held.push_back(pool.acquire());
    originals.insert(held.back().get());
  }
  std::thread other([moved = std::move(held)]() mutable { moved.clear(); });
  other.join();
  for (size_t i = 0; i < kN; ++i) {
    PacketRef r = pool.acquire();
    EXPECT_TRUE(originals.count(r.get())) << "buffer " << i << " was not one returned by the other thread";
    held.push_back(std::move(r));
  }
  EXPECT_EQ(pool.allocated(), kN);
}

// The owner acquires, a second thread drops the last references (as a consumer worker
// does): buffers flow back through the lock-free stack, and the pool stays bounded.
TEST(BufferPool, CrossThreadRecycleStress) {
  constexpr int kPackets = 200000;
  constexpr size_t kMaxQueued = 64;
  BufferPool pool(128);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<PacketRef> queue;
  bool done = false;
  std::atomic<uint64_t> sum{0};
  std::thread consumer([&] {
    for (;;) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done || !queue.empty(); });
      if (queue.empty() && done) return;
      PacketRef r = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      cv.notify_all();
      sum += r.data()[0];
      r.reset();  // last reference: returns the buffer from this thread
    }
  });
  uint64_t expected = 0;
  for (int i = 0; i < kPackets; ++i) {
    PacketRef r = pool.acquire();
    r.data()[0] = uint8_t(i);
    r->size = 1;
    expected += uint8_t(i);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return queue.size() < kMaxQueued; });
    queue.push_back(std::move(r));
    lock.unlock();
    cv.notify_all();
  }
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  consumer.join();
  EXPECT_EQ(sum.load(), expected);
  // At most kMaxQueued + 2 buffers are ever live, so the initial 128 suffice.
  EXPECT_EQ(pool.allocated(), 128u);
}

// ---- PacketRef reference counting -----------------------------------------------------

TEST(PacketRef, DefaultIsEmpty) {
  PacketRef r;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.get(), nullptr);
  EXPECT_FALSE(r.unique());
  r.reset();  // no-op
  PacketRef copy = r;
  EXPECT_FALSE(copy);
}

TEST(PacketRef, CopyMoveAndAssignAdjustRefcount) {
  struct Case {
    const char* name;
    // Operates on `a` (holding the buffer) and returns the expected count afterwards.
    std::function<void(PacketRef& a, PacketRef& b)> op;
    uint32_t want_refs;  // on the buffer
    bool a_holds, b_holds;
  };
  const std::vector<Case> cases = {
      {"copy construct", [](PacketRef& a, PacketRef& b) { b = PacketRef(a); }, 2, true, true},
      {"copy assign", [](PacketRef& a, PacketRef& b) { b = a; }, 2, true, true},
      {"move construct", [](PacketRef& a, PacketRef& b) { b = PacketRef(std::move(a)); }, 1, false, true},
      {"move assign", [](PacketRef& a, PacketRef& b) { b = std::move(a); }, 1, false, true},
      {"self copy assign", [](PacketRef& a, PacketRef&) { a = *&a; }, 1, true, false},
      {"self move assign", [](PacketRef& a, PacketRef&) { PacketRef& alias = a; a = std::move(alias); }, 1, true,
       false},
      {"copy then reset copy", [](PacketRef& a, PacketRef& b) { b = a; b.reset(); }, 1, true, false},
      {"swap via moves", [](PacketRef& a, PacketRef& b) { std::swap(a, b); }, 1, false, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    BufferPool pool(2);
    PacketRef a = pool.acquire();
    PacketBuffer* buf = a.get();
    PacketRef b;
    c.op(a, b);
    EXPECT_EQ(buf->refs.load(), c.want_refs);
    EXPECT_EQ(bool(a), c.a_holds);
    EXPECT_EQ(bool(b), c.b_holds);
    if (c.a_holds) EXPECT_EQ(a.get(), buf);
    if (c.b_holds) EXPECT_EQ(b.get(), buf);
    EXPECT_EQ((c.a_holds ? a : b).unique(), c.want_refs == 1);
  }
}

TEST(PacketRef, AssigningOverAHeldBufferReleasesIt) {
  BufferPool pool(2);
  PacketRef a = pool.acquire();
  PacketRef b = pool.acquire();
  PacketBuffer* old_b = b.get();
  b = a;  // b's buffer had one ref: it goes back to the pool
  EXPECT_EQ(refs(a), 2u);
  EXPECT_EQ(old_b->refs.load(), 0u);
  PacketRef c = pool.acquire();  // the free list is empty, so the returned one comes back
  EXPECT_EQ(c.get(), old_b);
  EXPECT_EQ(pool.allocated(), 2u);
}

TEST(PacketRef, LastOfManyCopiesReturnsBuffer) {
  BufferPool pool(1);
  PacketBuffer* buf = nullptr;
  {
    std::vector<PacketRef> copies;
    PacketRef first = pool.acquire();
    buf = first.get();
    for (int i = 0; i < 10; ++i) copies.push_back(first);
    EXPECT_EQ(buf->refs.load(), 11u);
    first.reset();
    EXPECT_EQ(buf->refs.load(), 10u);
    copies.resize(1);
    EXPECT_TRUE(copies[0].unique());
  }
  EXPECT_EQ(buf->refs.load(), 0u);
  EXPECT_EQ(pool.acquire().get(), buf);
  EXPECT_EQ(pool.allocated(), 1u);
}

TEST(PacketRef, CopiesDroppedOnManyThreadsReturnBufferOnce) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  BufferPool pool(8);
  for (int round = 0; round < kRounds; ++round) {
    PacketRef r = pool.acquire();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back([copy = r]() mutable { copy.reset(); });
    r.reset();
    for (auto& t : threads) t.join();
  }
  // Each round frees exactly one buffer; a double return would corrupt the free stack and
  // make acquire hand out one buffer twice.
  std::set<PacketBuffer*> distinct;
  std::vector<PacketRef> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(pool.acquire());
    distinct.insert(held.back().get());
  }
  EXPECT_EQ(distinct.size(), 8u);
  EXPECT_EQ(pool.allocated(), 8u);
}

}  // namespace
}  // namespace strata
