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


// Retries follow the path RTT (long relay paths): one NACK per round trip, not every 20 ms.
TEST(NackGenerator, RetryIntervalFollowsRtt) {
  struct Case {
    const char* name;
    std::vector<Duration> samples;
    Duration initial_rtt;
    Duration want;
  };
  const Case cases[] = {
      {"no sample, no initial rtt: the floor", {}, 0ms, 20ms},
      {"no sample: initial rtt", {}, 100ms, 100ms},
      {"first sample replaces the initial rtt", {150ms}, 100ms, 150ms},
      {"below the floor", {5ms}, 0ms, 20ms},
      // srtt = (7*100+140)/8 = 105, rttvar = 40/4 = 10 -> 105 + 20
      {"variation adds margin", {100ms, 140ms}, 0ms, 125ms},
      {"negative samples are ignored", {80ms, -5ms}, 0ms, 80ms},
  };
  for (const auto& c : cases) {
    NackConfig cfg;
    cfg.initial_rtt = c.initial_rtt;
    NackGenerator g(cfg);
    for (Duration d : c.samples) g.set_rtt(d);
    EXPECT_EQ(g.retry_interval(), c.want) << c.name;
  }
}

TEST(NackGenerator, RelayScheduleOnA150msPath) {
  NackGenerator g(relay_nack_config());
  g.set_rtt(150ms);
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  EXPECT_EQ(g.collect(clock.now()), Seqs{});  // inside the reorder window
  clock.advance(4ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{});
  clock.advance(1ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{2});  // 5 ms old: NACK
  EXPECT_EQ(g.next_due(), clock.now() + 150ms);
  clock.advance(149ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{});   // the answer cannot be back yet
  clock.advance(1ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{2});  // one RTT later: again
  // Bounded: 6 NACKs in all, then a keyframe request instead.
  int total = 2;
  for (int i = 0; i < 20; ++i) {
    clock.advance(150ms);
    total += int(g.collect(clock.now()).size());
  }
  EXPECT_EQ(total, 6);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.take_keyframe_needed());
}

TEST(NackGenerator, RelayGivesUpAtMaxAgeEvenWithRetriesLeft) {
  NackGenerator g(relay_nack_config());
  g.set_rtt(400ms);  // 6 retries would take 2.4 s; max_age is 1.5 s
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  int total = 0;
  for (int i = 0; i < 200; ++i) {
    total += int(g.collect(clock.now()).size());
    clock.advance(10ms);
  }
  EXPECT_EQ(total, 4);  // at 5, 405, 805, 1205 ms
  EXPECT_TRUE(g.take_keyframe_needed());
}

// Jitter tolerance: packets that are only late widen the reorder window up to its cap, so a
// jittery path does not turn every reordering into a NACK and a duplicate retransmission.
TEST(NackGenerator, ReorderWindowAdaptsToLatenessAndDecays) {
  NackGenerator g(relay_nack_config());
  g.set_rtt(150ms);
  FakeClock clock;
  EXPECT_EQ(g.reorder_window(), 5ms);
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  clock.advance(5ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{2});  // NACKed at 5 ms...
  clock.advance(7ms);
  EXPECT_TRUE(g.on_packet(2, clock.now(), false));  // ...but it was only 12 ms late
  EXPECT_EQ(g.reordered_count(), 1u);
  EXPECT_EQ(g.reorder_window(), 13ms);

  g.on_packet(5, clock.now(), false);
  clock.advance(12ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{});  // 12 ms old: still within the window
  clock.advance(1ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{4});

  // Capped at max_reorder_delay.
  g.on_packet(7, clock.now(), false);
  clock.advance(100ms);
  EXPECT_TRUE(g.on_packet(6, clock.now(), false));  // never NACKed, 101 ms late
  EXPECT_EQ(g.reorder_window(), 30ms);

  // Forgotten after a quiet while: halves toward the configured window on the next gap.
  const Duration widened = g.reorder_window();
  clock.advance(6s);
  g.on_packet(9, clock.now(), false);
  EXPECT_EQ(g.reorder_window(), std::max<Duration>(5ms, widened / 2));
}

TEST(NackGenerator, AnsweredNackDoesNotWidenTheWindow) {
  NackGenerator g(relay_nack_config());
  g.set_rtt(100ms);
  FakeClock clock;
  g.on_packet(1, clock.now(), false);
  g.on_packet(3, clock.now(), false);
  clock.advance(5ms);
  EXPECT_EQ(g.collect(clock.now()), Seqs{2});
  clock.advance(100ms);
  EXPECT_TRUE(g.on_packet(2, clock.now(), false));  // the retransmission, one RTT later
  EXPECT_EQ(g.reordered_count(), 0u);
  EXPECT_EQ(g.reorder_window(), 5ms);
}

TEST(NackGenerator, RandomSequencesNeverBreakTheBounds) {
  NackConfig cfg = relay_nack_config();
  cfg.max_missing = 64;
  NackGenerator g(cfg);
  FakeClock clock;
  uint32_t x = 12345;
  auto next = [&x] { x = x * 1664525u + 1013904223u; return x; };
  std::vector<uint16_t> out;
  for (int i = 0; i < 20000; ++i) {
    clock.advance(Duration(next() % 3000));
    if (next() % 50 == 0) g.set_rtt(Duration(next() % 500000));
    g.on_packet(uint16_t(next()), clock.now(), next() % 97 == 0);
    out.clear();
    g.collect(clock.now(), out);
    ASSERT_LE(g.missing_count(), cfg.max_missing);
    ASSERT_LE(out.size(), cfg.max_missing);
    ASSERT_GE(g.next_due(), clock.now() - cfg.max_age - 1s);
  }
}

}  // namespace
}  // namespace strata::sfu
