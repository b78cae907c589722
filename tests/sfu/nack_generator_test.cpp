#include "sfu/nack_generator.hpp"

#include <gtest/gtest.h>

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;
using Seqs = std::vector<uint16_t>;

// One scripted step: advance the clock, optionally feed packets, then collect.
struct Step {
  Duration advance;
  Seqs packets;
  Seqs want_nacks;
  bool keyframe = false;  // the packets are keyframe starts
};

void run(const char* name, NackConfig cfg, const std::vector<Step>& steps, Duration rtt = 0ms) {
  NackGenerator g(cfg);
  g.set_rtt(rtt);
  FakeClock clock;
  for (size_t i = 0; i < steps.size(); ++i) {
    clock.advance(steps[i].advance);
    for (uint16_t s : steps[i].packets) g.on_packet(s, clock.now(), steps[i].keyframe);
    EXPECT_EQ(g.collect(clock.now()), steps[i].want_nacks) << name << " step " << i;
  }
}

TEST(NackGenerator, ScheduleTable) {
  run("immediate then every 20ms", {},
      {
          {0ms, {1, 2, 5}, {3, 4}},
          {0ms, {}, {}},
          {19ms, {}, {}},
          {1ms, {}, {3, 4}},
          {5ms, {3}, {}},       // recovered
          {15ms, {}, {4}},
      });
  run("rtt spacing", {},
      {
          {0ms, {10, 12}, {11}},
          {20ms, {}, {}},
          {80ms, {}, {11}},
      },
      100ms);
  run("wrap", {},
      {
          {0ms, {65534, 65535, 2}, {0, 1}},
          {0ms, {65533}, {}},  // older than the start: not tracked
      });
  NackConfig delayed;
  delayed.reorder_delay = 10ms;
  run("reorder delay", delayed,
      {
          {0ms, {1, 4}, {}},
          {5ms, {2}, {}},  // reordered, not lost
          {5ms, {}, {3}},
      });
}

TEST(NackGenerator, GivesUpAfterMaxRetriesAndAsksForKeyframe) {
  NackConfig cfg;
  cfg.max_retries = 3;
  NackGenerator g(cfg);
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(g.collect(clock.now()), Seqs{2});
    clock.advance(20ms);
  }
  EXPECT_FALSE(g.take_keyframe_needed());
  EXPECT_EQ(g.collect(clock.now()), Seqs{});
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.take_keyframe_needed());
  EXPECT_FALSE(g.take_keyframe_needed());  // taken once
  EXPECT_EQ(g.nacks_sent(), 3u);
}

TEST(NackGenerator, ForgetsOldEntries) {
  NackConfig cfg;
  cfg.max_age = 100ms;
  NackGenerator g(cfg);
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  clock.advance(101ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{});
  EXPECT_TRUE(g.take_keyframe_needed());
}

TEST(NackGenerator, TooManyMissingFallsBackToKeyframe) {
  NackGenerator g;
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(2000, clock.now(), false);  // 1998 missing > 1000
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.take_keyframe_needed());
  EXPECT_EQ(g.collect(clock.now()), Seqs{});

  NackConfig small;
  small.max_missing = 10;
  NackGenerator h(small);
  h.on_packet(0, clock.now(), false);
  h.on_packet(7, clock.now(), false);   // 6 missing
  h.on_packet(14, clock.now(), false);  // 12 missing: oldest two dropped
  EXPECT_EQ(h.missing_count(), 10u);
  EXPECT_TRUE(h.take_keyframe_needed());
  EXPECT_EQ(h.collect(clock.now()).front(), 3);
}

TEST(NackGenerator, PacketAgeLimit) {
  NackConfig cfg;
  cfg.max_packet_age = 100;
  NackGenerator g(cfg);
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  for (uint16_t s = 4; s <= 102; ++s) g.on_packet(s, clock.now(), false);
  EXPECT_FALSE(g.take_keyframe_needed());
  g.on_packet(103, clock.now(), false);  // 2 is now more than 100 behind
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.take_keyframe_needed());
}

TEST(NackGenerator, KeyframeClearsOlderMissing) {
  NackGenerator g;
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(5, clock.now(), false);
  EXPECT_EQ(g.missing_count(), 3u);
  g.on_packet(10, clock.now(), true);  // gap 6..9 belongs to frames before the keyframe
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_FALSE(g.take_keyframe_needed());
  EXPECT_EQ(g.collect(clock.now()), Seqs{});
}

TEST(NackGenerator, RecoveryReportedAndNextDue) {
  NackGenerator g;
  FakeClock clock;
  EXPECT_EQ(g.next_due(), kNever);
  g.on_packet(1, clock.now(), false);
  g.on_packet(4, clock.now(), false);
  EXPECT_EQ(g.next_due(), clock.now());
  EXPECT_EQ(g.collect(clock.now()), (Seqs{2, 3}));
  EXPECT_EQ(g.next_due(), clock.now() + 20ms);
  EXPECT_TRUE(g.on_packet(2, clock.now(), false));
  EXPECT_FALSE(g.on_packet(2, clock.now(), false));  // duplicate
  EXPECT_FALSE(g.on_packet(4, clock.now(), false));
  EXPECT_EQ(g.recovered_count(), 1u);
  EXPECT_TRUE(g.on_packet(3, clock.now(), false));
  EXPECT_EQ(g.next_due(), kNever);
}

}  // namespace
}  // namespace strata::sfu
