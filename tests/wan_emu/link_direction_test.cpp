// LinkDirection on fake time: delay, jitter, loss (Bernoulli and Gilbert-Elliott), rate cap
// and queue, combined and all-zero.
#include "link_direction.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "release_queue.hpp"

namespace strata::wan_emu {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kStart = Timestamp(Duration(5'000'000'000));

struct Sent {
  Timestamp arrival;
  Decision decision;
};

// Sends `count` packets of `bytes`, one every `gap`, from kStart.
std::vector<Sent> send_evenly(LinkDirection& dir, int count, Duration gap, size_t bytes = 1200) {
  std::vector<Sent> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    const Timestamp now = kStart + gap * i;
    out.push_back({now, dir.on_packet(bytes, now)});
  }
  return out;
}

double loss_rate(const LinkDirection& dir) {
  return double(dir.counters().dropped_loss) / double(dir.counters().packets_in);
}

TEST(LinkDirection, ZeroEverythingIsPassthrough) {
  LinkDirection dir(DirectionParams{}, 1);
  for (const Sent& s : send_evenly(dir, 1000, microseconds(7))) {
    ASSERT_EQ(s.decision.verdict, Verdict::kForward);
    EXPECT_EQ(s.decision.release, s.arrival);
  }
  EXPECT_EQ(dir.counters().forwarded, 1000u);
  EXPECT_EQ(dir.counters().dropped_loss + dir.counters().dropped_queue, 0u);
  EXPECT_EQ(dir.counters().mean_delay_ms(), 0.0);
}

struct DelayCase {
  double delay_ms;
  Duration expected;
};

class PureDelay : public testing::TestWithParam<DelayCase> {};

TEST_P(PureDelay, ReleaseIsArrivalPlusDelay) {
  DirectionParams p;
  p.delay_ms = GetParam().delay_ms;
  LinkDirection dir(p, 1);
  for (const Sent& s : send_evenly(dir, 500, microseconds(333))) {
    ASSERT_EQ(s.decision.verdict, Verdict::kForward);
    EXPECT_EQ(s.decision.release - s.arrival, GetParam().expected);
  }
  EXPECT_NEAR(dir.counters().mean_delay_ms(), GetParam().delay_ms, 0.001);
}

INSTANTIATE_TEST_SUITE_P(Delays, PureDelay,
                         testing::Values(DelayCase{0, microseconds(0)}, DelayCase{1, milliseconds(1)},
                                         DelayCase{50, milliseconds(50)}, DelayCase{90.5, microseconds(90'500)},
                                         DelayCase{0.0004, microseconds(1)}));  // rounds up, never early

struct JitterCase {
  const char* name;
  JitterDistribution distribution;
  bool reorder;
  Duration gap;  // dense traffic in order gets pulled up to the previous release
};

class Jitter : public testing::TestWithParam<JitterCase> {};

TEST_P(Jitter, StaysWithinBoundsAndKeepsOrderUnlessAllowed) {
  DirectionParams p;
  p.delay_ms = 50;
  p.jitter_ms = 10;
  p.jitter_distribution = GetParam().distribution;
  p.reorder = GetParam().reorder;
  LinkDirection dir(p, 7);
  const std::vector<Sent> sent = send_evenly(dir, 20'000, GetParam().gap);
  Duration lo = Duration::max(), hi = Duration::min();
  int reordered = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    const Duration d = sent[i].decision.release - sent[i].arrival;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    if (i > 0 && sent[i].decision.release < sent[i - 1].decision.release) ++reordered;
  }
  EXPECT_GE(lo, milliseconds(40));
  EXPECT_LE(hi, milliseconds(60));
  // The spread is really used (normal: sigma 5 ms, 20k samples reach past ±8 ms), unless
  // packets closer than the jitter span are held back to keep their order.
  EXPECT_GT(hi, milliseconds(57));
  if (GetParam().reorder || GetParam().gap >= milliseconds(20)) EXPECT_LT(lo, milliseconds(43));
  if (GetParam().reorder) {
    EXPECT_GT(reordered, 100);
  } else {
    EXPECT_EQ(reordered, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Distributions, Jitter,
    testing::Values(JitterCase{"UniformInOrderDense", JitterDistribution::kUniform, false, microseconds(500)},
                    JitterCase{"NormalInOrderDense", JitterDistribution::kNormal, false, microseconds(500)},
                    JitterCase{"UniformInOrderSparse", JitterDistribution::kUniform, false, milliseconds(25)},
                    JitterCase{"NormalInOrderSparse", JitterDistribution::kNormal, false, milliseconds(25)},
                    JitterCase{"UniformReorder", JitterDistribution::kUniform, true, microseconds(500)},
                    JitterCase{"NormalReorder", JitterDistribution::kNormal, true, microseconds(500)}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(LinkDirection, JitterLargerThanDelayNeverReleasesBeforeArrival) {
  DirectionParams p;
  p.delay_ms = 2;
  p.jitter_ms = 10;
  p.reorder = true;
  LinkDirection dir(p, 3);
  for (const Sent& s : send_evenly(dir, 5000, microseconds(100))) EXPECT_GE(s.decision.release, s.arrival);
}

struct LossCase {
  double loss;
  double tolerance;
};

class BernoulliLoss : public testing::TestWithParam<LossCase> {};

TEST_P(BernoulliLoss, RateOver100kPacketsMatches) {
  DirectionParams p;
  p.loss = GetParam().loss;
  LinkDirection dir(p, 42);
  send_evenly(dir, 100'000, microseconds(50));
  EXPECT_NEAR(loss_rate(dir), GetParam().loss, GetParam().tolerance);
  EXPECT_EQ(dir.counters().forwarded + dir.counters().dropped_loss, 100'000u);
}

// Tolerances are about 3 standard deviations of a binomial over 100k draws.
INSTANTIATE_TEST_SUITE_P(Rates, BernoulliLoss,
                         testing::Values(LossCase{0.0, 0.0}, LossCase{0.001, 0.0003}, LossCase{0.03, 0.0016},
                                         LossCase{0.2, 0.0038}, LossCase{0.5, 0.0048}, LossCase{1.0, 0.0}));

TEST(LinkDirection, SameSeedSameLossesOtherSeedOthers) {
  DirectionParams p;
  p.loss = 0.1;
  p.jitter_ms = 5;
  p.delay_ms = 20;
  auto run = [&](uint64_t seed) {
    LinkDirection dir(p, seed);
    std::vector<int64_t> out;
    for (const Sent& s : send_evenly(dir, 2000, milliseconds(1))) {
      out.push_back(s.decision.verdict == Verdict::kForward ? s.decision.release.time_since_epoch().count() : -1);
    }
    return out;
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}

// Mean length of runs of consecutive losses.
double mean_burst_length(const std::vector<Sent>& sent) {
  int bursts = 0, lost = 0;
  bool in_burst = false;
  for (const Sent& s : sent) {
    const bool is_lost = s.decision.verdict == Verdict::kDropLoss;
    if (is_lost && !in_burst) ++bursts;
    lost += is_lost;
    in_burst = is_lost;
  }
  return bursts == 0 ? 0.0 : double(lost) / bursts;
}

struct BurstCase {
  double loss;
  double burst;
  double expected_mean_burst;
};

class GilbertLoss : public testing::TestWithParam<BurstCase> {};

TEST_P(GilbertLoss, KeepsMeanRateAndBurstLength) {
  DirectionParams p;
  p.loss = GetParam().loss;
  p.loss_burst = GetParam().burst;
  LinkDirection dir(p, 11);
  const std::vector<Sent> sent = send_evenly(dir, 400'000, microseconds(10));
  // Bursts correlate the draws, so the rate wanders more than a binomial: wider tolerance.
  EXPECT_NEAR(loss_rate(dir), p.loss, p.loss * 0.1);
  EXPECT_NEAR(mean_burst_length(sent), GetParam().expected_mean_burst, GetParam().expected_mean_burst * 0.08);
}

// Independent loss has mean run 1/(1-p); Gilbert runs have the configured mean length.
INSTANTIATE_TEST_SUITE_P(Bursts, GilbertLoss,
                         testing::Values(BurstCase{0.05, 0, 1.0 / 0.95}, BurstCase{0.05, 1, 1.0 / 0.95},
                                         BurstCase{0.05, 4, 4}, BurstCase{0.2, 3, 3}, BurstCase{0.01, 10, 10}));

struct RateCase {
  uint64_t rate_kbit;
  size_t bytes;
  Duration gap;
  int count;
  uint32_t queue;
  uint64_t expected_forwarded;  // ± 2
};

class RateCap : public testing::TestWithParam<RateCase> {};

TEST_P(RateCap, ThroughputAndQueueOverflow) {
  const RateCase& c = GetParam();
  DirectionParams p;
  p.rate_kbit = c.rate_kbit;
  p.queue_packets = c.queue;
  LinkDirection dir(p, 1);
  const std::vector<Sent> sent = send_evenly(dir, c.count, c.gap, c.bytes);
  const DirectionCounters& k = dir.counters();
  EXPECT_NEAR(double(k.forwarded), double(c.expected_forwarded), 2.0);
  EXPECT_EQ(k.forwarded + k.dropped_queue, uint64_t(c.count));
  // Released packets leave at most at the cap: bits over the span of release times.
  Timestamp first = kNever, last{};
  for (const Sent& s : sent) {
    if (s.decision.verdict != Verdict::kForward) continue;
    first = std::min(first, s.decision.release);
    last = std::max(last, s.decision.release);
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double kbit_per_s = double(k.forwarded - 1) * double(c.bytes) * 8 / seconds / 1000;
  EXPECT_LE(kbit_per_s, double(c.rate_kbit) * 1.001);
}

INSTANTIATE_TEST_SUITE_P(
    Rates, RateCap,
    testing::Values(
        // 1250 B at 1 Mbit/s = 100 pkt/s; under the cap nothing drops.
        RateCase{1000, 1250, milliseconds(20), 500, 50, 500},
        // Offered 200 pkt/s for 10 s: 1000 get through at the cap, plus the 50 still queued.
        RateCase{1000, 1250, milliseconds(5), 2000, 50, 1050},
        // Same with an unlimited queue: nothing drops, the queue just grows.
        RateCase{1000, 1250, milliseconds(5), 2000, 0, 2000},
        // A burst of 300 at once into a 100-packet queue.
        RateCase{8000, 1500, Duration(0), 300, 100, 100}));

TEST(LinkDirection, RateCapSpacesBurstBySerializationTime) {
  DirectionParams p;
  p.rate_kbit = 1000;  // 1250 B -> 10 ms each
  p.delay_ms = 30;
  LinkDirection dir(p, 1);
  for (int i = 0; i < 5; ++i) {
    const Decision d = dir.on_packet(1250, kStart);
    ASSERT_EQ(d.verdict, Verdict::kForward);
    EXPECT_EQ(d.release - kStart, milliseconds(10 * (i + 1) + 30));
  }
  EXPECT_EQ(dir.queue_length(kStart), 5u);
  EXPECT_EQ(dir.queue_length(kStart + milliseconds(25)), 3u);
  EXPECT_EQ(dir.queue_length(kStart + milliseconds(50)), 0u);
  // An idle link starts again from `now`, not from its old free time.
  EXPECT_EQ(dir.on_packet(1250, kStart + seconds(1)).release - kStart, milliseconds(1000 + 10 + 30));
}

TEST(LinkDirection, CombinationCountersAddUpAndBoundsHold) {
  DirectionParams p;
  p.delay_ms = 40;
  p.jitter_ms = 5;
  p.loss = 0.05;
  p.rate_kbit = 2000;  // 1000 B -> 4 ms
  p.queue_packets = 20;
  LinkDirection dir(p, 5);
  // 300 pkt/s offered against 250 pkt/s capacity.
  const std::vector<Sent> sent = send_evenly(dir, 30'000, microseconds(3333), 1000);
  const DirectionCounters& k = dir.counters();
  EXPECT_EQ(k.forwarded + k.dropped_loss + k.dropped_queue, k.packets_in);
  EXPECT_GT(k.dropped_queue, 4000u);
  EXPECT_NEAR(double(k.dropped_loss) / double(k.packets_in - k.dropped_queue), 0.05, 0.01);
  Timestamp previous{};
  for (const Sent& s : sent) {
    if (s.decision.verdict != Verdict::kForward) continue;
    const Duration d = s.decision.release - s.arrival;
    EXPECT_GE(d, milliseconds(4 + 35));                 // serialization + delay - jitter
    EXPECT_LE(d, milliseconds(20 * 4 + 45 + 1));        // full queue + delay + jitter
    EXPECT_GE(s.decision.release, previous);
    previous = s.decision.release;
  }
  EXPECT_GT(k.mean_delay_ms(), 40.0);
}

TEST(ReleaseQueue, PopsEarliestFirstAndTiesInArrivalOrder) {
  ReleaseQueue<int> q;
  EXPECT_EQ(q.next_release(), kNever);
  q.push(kStart + milliseconds(5), 1);
  q.push(kStart + milliseconds(2), 2);
  q.push(kStart + milliseconds(5), 3);
  q.push(kStart + milliseconds(2), 4);
  EXPECT_EQ(q.next_release(), kStart + milliseconds(2));
  EXPECT_FALSE(q.pop_due(kStart + milliseconds(1)));
  std::vector<int> order;
  while (auto v = q.pop_due(kStart + milliseconds(10))) order.push_back(*v);
  EXPECT_EQ(order, (std::vector<int>{2, 4, 1, 3}));
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace strata::wan_emu
