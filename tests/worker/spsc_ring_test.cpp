#include "worker/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace strata::worker {
namespace {

TEST(SpscRing, EmptyRingPopsNothing) {
  SpscRing<int> ring(4);
  EXPECT_TRUE(ring.empty());
  int v = 42;
  EXPECT_FALSE(ring.pop(v));
  EXPECT_EQ(v, 42);  // untouched
}

TEST(SpscRing, FifoAndFullAtCapacity) {
  for (size_t capacity : {size_t(1), size_t(2), size_t(8), size_t(64)}) {
    SCOPED_TRACE(capacity);
    SpscRing<int> ring(capacity);
    for (size_t i = 0; i < capacity; ++i) EXPECT_TRUE(ring.push(int(i))) << i;
    EXPECT_FALSE(ring.push(999)) << "a full ring must refuse";
    EXPECT_FALSE(ring.empty());
    int v = -1;
    for (size_t i = 0; i < capacity; ++i) {
      ASSERT_TRUE(ring.pop(v));
      EXPECT_EQ(v, int(i));
    }
    EXPECT_FALSE(ring.pop(v));
    EXPECT_TRUE(ring.empty());
    // One slot freed makes room for exactly one more.
    EXPECT_TRUE(ring.push(7));
    EXPECT_TRUE(ring.pop(v));
    EXPECT_EQ(v, 7);
  }
}

TEST(SpscRing, RefusedPushLeavesValueWithCaller) {
  SpscRing<std::unique_ptr<int>> ring(1);
  EXPECT_TRUE(ring.push(std::make_unique<int>(1)));
  auto second = std::make_unique<int>(2);
  EXPECT_FALSE(ring.push(std::move(second)));
  ASSERT_NE(second, nullptr);  // caller still owns it (it counts a drop and frees it)
  EXPECT_EQ(*second, 2);
}

// Free-running indices wrap over the slot array many times; order and capacity hold.
TEST(SpscRing, IndicesWrapAroundManyTimes) {
  struct Case {
    size_t capacity;
    int batch;  // pushes then pops per round
  };
  const Case cases[] = {{4, 1}, {4, 3}, {4, 4}, {8, 5}, {16, 16}};
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "capacity=" << c.capacity << " batch=" << c.batch);
    SpscRing<int> ring(c.capacity);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 1000; ++round) {
      for (int i = 0; i < c.batch; ++i) ASSERT_TRUE(ring.push(next_in++));
      if (size_t(c.batch) == c.capacity) ASSERT_FALSE(ring.push(-1));
      int v;
      for (int i = 0; i < c.batch; ++i) {
        ASSERT_TRUE(ring.pop(v));
        ASSERT_EQ(v, next_out++);
      }
      ASSERT_TRUE(ring.empty());
    }
  }
}

TEST(SpscRing, PopReleasesTheSlotsCopy) {
  // A popped slot must not keep its object alive (FanoutItem holds a PacketRef: a stale
  // copy in the ring would pin a pool buffer until the slot is reused).
  SpscRing<std::shared_ptr<int>> ring(4);
  auto p = std::make_shared<int>(5);
  ASSERT_TRUE(ring.push(std::shared_ptr<int>(p)));
  EXPECT_EQ(p.use_count(), 2);
  std::shared_ptr<int> out;
  ASSERT_TRUE(ring.pop(out));
  out.reset();
  EXPECT_EQ(p.use_count(), 1);
}

TEST(SpscRing, MoveOnlyPayload) {
  SpscRing<std::unique_ptr<int>> ring(2);
  ASSERT_TRUE(ring.push(std::make_unique<int>(10)));
  ASSERT_TRUE(ring.push(std::make_unique<int>(11)));
  std::unique_ptr<int> out;
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(*out, 10);
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(*out, 11);
}

// One producer thread, one consumer thread, 1M items through a small ring: every item
// arrives once, in order (checked by sequence and by checksum). Bounded in time: both
// sides give up at a deadline instead of spinning forever on a bug.
TEST(SpscRing, TwoThreadStress) {
  constexpr uint64_t kItems = 1'000'000;
  SpscRing<uint64_t> ring(1024);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<bool> timed_out{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kItems;) {
      if (ring.push(uint64_t(i))) {
        ++i;
        continue;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        return;
      }
      std::this_thread::yield();
    }
  });
  uint64_t received = 0, sum = 0, expected_next = 1;
  bool in_order = true;
  while (received < kItems) {
    uint64_t v;
    if (ring.pop(v)) {
      in_order &= v == expected_next;
      expected_next = v + 1;
      sum += v;
      ++received;
      continue;
    }
    if (timed_out || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::yield();
  }
  producer.join();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(received, kItems);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(sum, kItems * (kItems + 1) / 2);
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace strata::worker
