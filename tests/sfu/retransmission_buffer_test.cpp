#include "sfu/retransmission_buffer.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;
using Handle = std::shared_ptr<int>;

TEST(RetransmissionBuffer, RoundsCapacityToPowerOfTwo) {
  struct Case {
    size_t asked, want;
  };
  for (auto c : {Case{1000, 1024}, Case{1024, 1024}, Case{0, 1}, Case{3, 4}, Case{100000, 32768}}) {
    RetransmissionBuffer<int> b(c.asked, 1s);
    EXPECT_EQ(b.capacity(), c.want) << c.asked;
  }
}

TEST(RetransmissionBuffer, InsertFindAndAge) {
  FakeClock clock;
  RetransmissionBuffer<int> b(16, 1s);
  EXPECT_EQ(b.find(1, clock.now()), nullptr);  // empty
  EXPECT_TRUE(b.insert(1, 11, clock.now()));
  EXPECT_TRUE(b.insert(3, 33, clock.now()));
  EXPECT_TRUE(b.insert(2, 22, clock.now()));  // reordered, inside the window
  EXPECT_FALSE(b.insert(2, 99, clock.now()));  // duplicate keeps the first
  ASSERT_NE(b.find(2, clock.now()), nullptr);
  EXPECT_EQ(*b.find(2, clock.now()), 22);
  EXPECT_EQ(b.find(4, clock.now()), nullptr);  // newer than anything stored
  EXPECT_EQ(b.size(), 3u);
  clock.advance(500ms);
  EXPECT_TRUE(b.insert(4, 44, clock.now()));
  clock.advance(600ms);  // 1..3 are now 1.1 s old, 4 is 0.6 s old
  EXPECT_EQ(b.find(1, clock.now()), nullptr);
  ASSERT_NE(b.find(4, clock.now()), nullptr);
  EXPECT_EQ(*b.find(4, clock.now()), 44);
}

// A growing buffer ends up holding min_coverage of the stream at its packet rate: a table
// of rates (packets per second) and the capacity each settles on.
TEST(RetransmissionBuffer, GrowsToCoverOneSecondAtTheStreamsRate) {
  struct Case {
    int packets_per_second;
    size_t want;
  };
  for (auto c : {Case{50, 64}, Case{100, 128}, Case{270, 512}, Case{800, 1024}, Case{20000, 4096}}) {
    FakeClock clock;
    RetransmissionBuffer<int> b(RetransmissionGrowth{.initial = 64, .max = 4096, .min_coverage = 1s}, 2s);
    const auto gap = std::chrono::microseconds(1'000'000 / c.packets_per_second);
    for (int i = 0; i < 3 * c.packets_per_second; ++i) {  // 3 s of the stream
      ASSERT_TRUE(b.insert(uint16_t(i), i, clock.now()));
      clock.advance(gap);
    }
    EXPECT_EQ(b.capacity(), c.want) << c.packets_per_second << " packets/s";
  }
}

TEST(RetransmissionBuffer, GrowingKeepsEveryStoredItem) {
  FakeClock clock;
  RetransmissionBuffer<int> b(RetransmissionGrowth{.initial = 4, .max = 64, .min_coverage = 1s}, 2s);
  for (int i = 0; i < 40; ++i) {  // 40 packets in 0.4 s: grows 4 -> 64
    ASSERT_TRUE(b.insert(uint16_t(65520 + i), i, clock.now()));  // across the wrap, too
    clock.advance(10ms);
  }
  EXPECT_EQ(b.capacity(), 64u);
  EXPECT_EQ(b.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    int* item = b.find(uint16_t(65520 + i), clock.now());
    ASSERT_NE(item, nullptr) << i;
    EXPECT_EQ(*item, i);
  }
}

// A keyframe-cache replay sends 2 s of packets in 0.2 s: kept for NACKs, but neither the
// burst nor the stream after it (whose oldest neighbours are the replayed packets) sizes
// the buffer.
TEST(RetransmissionBuffer, AReplayBurstDoesNotSizeTheBuffer) {
  FakeClock clock;
  RetransmissionBuffer<int> b(RetransmissionGrowth{.initial = 64, .max = 4096, .min_coverage = 1s}, 2s);
  uint16_t seq = 0;
  for (int i = 0; i < 100; ++i) {  // 100 packets/s stream after a 100-packet burst
    ASSERT_TRUE(b.insert(seq++, i, clock.now(), false));
    clock.advance(2ms);
  }
  EXPECT_EQ(b.capacity(), 64u);
  ASSERT_NE(b.find(uint16_t(seq - 1), clock.now()), nullptr);  // still NACK-able
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(b.insert(seq++, i, clock.now()));
    clock.advance(10ms);
  }
  EXPECT_EQ(b.capacity(), 128u);  // 1 s at 100 packets/s, as without the burst
}

TEST(RetransmissionBuffer, AFixedBufferNeverGrows) {
  FakeClock clock;
  RetransmissionBuffer<int> b(8, 10s);
  for (int i = 0; i < 100; ++i) b.insert(uint16_t(i), i, clock.now());  // all at once
  EXPECT_EQ(b.capacity(), 8u);
  EXPECT_EQ(b.find(91, clock.now()), nullptr);
  ASSERT_NE(b.find(92, clock.now()), nullptr);
}

TEST(RetransmissionBuffer, WindowAcrossWrap) {
  FakeClock clock;
  RetransmissionBuffer<int> b(8, 10s);
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(b.insert(uint16_t(65530 + i), int(i), clock.now()));
  // Highest is 3 (65530 + 9 wrapped); the window holds 65532..3.
  struct Case {
    uint16_t seq;
    int want;  // -1 = absent
  };
  for (auto c : {Case{65530, -1}, Case{65531, -1}, Case{65532, 2}, Case{65535, 5}, Case{0, 6}, Case{3, 9},
                 Case{4, -1}, Case{1000, -1}}) {
    int* got = b.find(c.seq, clock.now());
    if (c.want < 0) {
      EXPECT_EQ(got, nullptr) << c.seq;
    } else {
      ASSERT_NE(got, nullptr) << c.seq;
      EXPECT_EQ(*got, c.want) << c.seq;
    }
  }
  EXPECT_EQ(b.size(), 8u);
  EXPECT_FALSE(b.insert(65531, 1, clock.now()));  // too old for the window
}

TEST(RetransmissionBuffer, ReleasesItemsLeavingTheWindow) {
  FakeClock clock;
  RetransmissionBuffer<Handle> b(4, 10s);
  auto first = std::make_shared<int>(1);
  b.insert(100, first, clock.now());
  EXPECT_EQ(first.use_count(), 2);
  for (uint16_t s = 101; s <= 104; ++s) b.insert(s, std::make_shared<int>(s), clock.now());
  EXPECT_EQ(first.use_count(), 1);  // evicted as soon as 104 took its slot
  EXPECT_EQ(b.size(), 4u);
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.find(104, clock.now()), nullptr);
}

TEST(RetransmissionBuffer, LargeJumpsReset) {
  FakeClock clock;
  RetransmissionBuffer<int> b(8, 10s);
  b.insert(10, 10, clock.now());
  b.insert(11, 11, clock.now());
  EXPECT_TRUE(b.insert(1000, 1000, clock.now()));  // forward jump past the window
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.find(10, clock.now()), nullptr);
  EXPECT_FALSE(b.insert(990, 990, clock.now()));   // 10 back: straggler, dropped
  EXPECT_TRUE(b.insert(40000, 4, clock.now()));    // 26536 back (or 39000 ahead): restart
  EXPECT_EQ(b.size(), 1u);
  ASSERT_NE(b.find(40000, clock.now()), nullptr);
  EXPECT_EQ(b.find(1000, clock.now()), nullptr);
}

}  // namespace
}  // namespace strata::sfu
