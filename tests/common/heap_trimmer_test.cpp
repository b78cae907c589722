#include "common/heap_trimmer.hpp"

#include <gtest/gtest.h>

namespace strata {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kStart = Timestamp(seconds(1000));

TEST(HeapTrimmer, NothingChangedNothingToTrim) {
  HeapTrimmer t;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(t.on_poll(0, kStart + seconds(i)));
}

TEST(HeapTrimmer, TrimsOnceTheCountHasSettled) {
  HeapTrimmer t({.settle = seconds(2), .min_interval = seconds(10)});
  EXPECT_FALSE(t.on_poll(5, kStart));
  EXPECT_FALSE(t.on_poll(5, kStart + milliseconds(1999)));
  EXPECT_TRUE(t.on_poll(5, kStart + seconds(2)));
  EXPECT_FALSE(t.on_poll(5, kStart + seconds(3)));  // once per change, not every poll
  EXPECT_FALSE(t.on_poll(5, kStart + seconds(30)));
}

TEST(HeapTrimmer, AJoinBurstTrimsOnceAfterItsLastJoin) {
  HeapTrimmer t({.settle = seconds(2), .min_interval = seconds(10)});
  Timestamp now = kStart;
  int trims = 0;
  for (size_t n = 1; n <= 400; ++n, now += milliseconds(5)) trims += t.on_poll(n, now);  // 200/s
  EXPECT_EQ(trims, 0);
  const Timestamp last_join = now - milliseconds(5);
  for (; now < last_join + seconds(2); now += milliseconds(100)) EXPECT_FALSE(t.on_poll(400, now));
  EXPECT_TRUE(t.on_poll(400, now));
}

TEST(HeapTrimmer, ChurnTrimsAtMostOncePerInterval) {
  HeapTrimmer t({.settle = seconds(2), .min_interval = seconds(10)});
  EXPECT_FALSE(t.on_poll(1, kStart));
  EXPECT_TRUE(t.on_poll(1, kStart + seconds(2)));
  EXPECT_FALSE(t.on_poll(2, kStart + seconds(3)));
  EXPECT_FALSE(t.on_poll(2, kStart + seconds(6)));   // settled, but 4 s after the last trim
  EXPECT_FALSE(t.on_poll(2, kStart + seconds(11)));  // still within 10 s
  EXPECT_TRUE(t.on_poll(2, kStart + seconds(12)));   // the pending change is not forgotten
}

TEST(HeapTrimmer, LeavingCountsAsAChange) {
  HeapTrimmer t({.settle = seconds(1), .min_interval = seconds(1)});
  EXPECT_FALSE(t.on_poll(10, kStart));
  EXPECT_TRUE(t.on_poll(10, kStart + seconds(1)));
  EXPECT_FALSE(t.on_poll(0, kStart + seconds(5)));
  EXPECT_TRUE(t.on_poll(0, kStart + seconds(6)));
}

}  // namespace
}  // namespace strata
