#include "sfu/keyframe_request_coalescer.hpp"

#include <gtest/gtest.h>

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

TEST(KeyframeRequestCoalescer, FiftyRequestsInOneSecondSendAtMostTwo) {
  FakeClock clock;
  const Timestamp start = clock.now();
  KeyframeRequestCoalescer c;
  int sends = 0;
  for (int i = 0; i < 50; ++i) {
    if (c.request(clock.now())) ++sends;
    clock.advance(20ms);
    if (c.next_timeout() <= clock.now() && c.on_timeout(clock.now())) ++sends;
  }
  EXPECT_EQ(clock.now(), start + 1s);
  EXPECT_EQ(sends, 2);  // one immediately, one coalesced when the interval expired
  EXPECT_FALSE(c.pending());
  EXPECT_EQ(c.sent_count(), 2u);
}

TEST(KeyframeRequestCoalescer, TimerTable) {
  struct Step {
    enum Kind { kRequest, kTimeout, kKeyframe } kind;
    Duration at;  // since start
    bool want_send;
    Duration want_next;  // -1: kNever
  };
  const Duration never{-1};
  const Step steps[] = {
      {Step::kRequest, 0ms, true, never},
      {Step::kRequest, 100ms, false, 1000ms},
      {Step::kTimeout, 999ms, false, 1000ms},  // too early
      {Step::kTimeout, 1000ms, true, never},
      {Step::kTimeout, 1500ms, false, never},  // nothing pending
      {Step::kRequest, 1600ms, false, 2000ms},
      {Step::kKeyframe, 1700ms, false, never},  // keyframe satisfies the waiters
      {Step::kTimeout, 2000ms, false, never},
      {Step::kRequest, 2100ms, true, never},  // interval since last send has passed
  };
  FakeClock clock;
  const Timestamp start = clock.now();
  KeyframeRequestCoalescer c(1s);
  for (const auto& s : steps) {
    clock.set(start + s.at);
    bool sent = false;
    switch (s.kind) {
      case Step::kRequest: sent = c.request(clock.now()); break;
      case Step::kTimeout: sent = c.on_timeout(clock.now()); break;
      case Step::kKeyframe: c.on_keyframe_received(clock.now()); break;
    }
    EXPECT_EQ(sent, s.want_send) << to_millis(s.at);
    EXPECT_EQ(c.next_timeout(), s.want_next == never ? kNever : start + s.want_next) << to_millis(s.at);
  }
}

}  // namespace
}  // namespace strata::sfu
