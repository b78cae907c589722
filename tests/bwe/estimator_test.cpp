#include <gtest/gtest.h>

#include <random>

#include "bwe/downlink_estimator.hpp"
#include "bwe/send_history.hpp"
#include "link_sim.hpp"

namespace strata::bwe::test {
namespace {

// Sends media at the estimator's target (like a session whose encoder follows it), for
// `d`, 1 ms at a time. Returns the mean target over the last `tail`.
Bitrate run_following(DownlinkEstimator& est, LinkSim& link, Pacer& pacer, Duration d, Duration tail = 0ms) {
  double sum = 0;
  int64_t n = 0;
  const Timestamp end = link.now() + d;
  while (link.now() < end) {
    pacer.tick(est.target(), 1ms, [&](size_t bytes) { link.send(bytes); });
    link.advance(1ms);
    if (end - link.now() < tail) sum += double(est.target()), ++n;
  }
  return n ? Bitrate(sum / double(n)) : est.target();
}

void run_fixed(DownlinkEstimator&, LinkSim& link, Pacer& pacer, Bitrate rate, Duration d) {
  const Timestamp end = link.now() + d;
  while (link.now() < end) {
    pacer.tick(rate, 1ms, [&](size_t bytes) { link.send(bytes); });
    link.advance(1ms);
  }
}

struct ConvergeCase {
  const char* name;
  Bitrate initial;
  Bitrate capacity;
  Duration run;
};

class Converges : public ::testing::TestWithParam<ConvergeCase> {};

TEST_P(Converges, NearCapacity) {
  const ConvergeCase& c = GetParam();
  DownlinkEstimator est(EstimatorConfig{.initial = c.initial});
  LinkSim link(est, LinkConfig{.capacity = c.capacity});
  Pacer pacer;
  const Bitrate mean = run_following(est, link, pacer, c.run, 5s);
  std::printf("  %s: mean target %lld over the last 5 s\n", c.name, (long long)mean);
  EXPECT_GT(mean, c.capacity * 7 / 10) << c.name;
  EXPECT_LT(mean, c.capacity * 13 / 10) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Bwe, Converges,
                         ::testing::Values(ConvergeCase{"from_above_2M", 8'000'000, 2'000'000, 15s},
                                           ConvergeCase{"from_above_500k", 3'000'000, 500'000, 20s},
                                           ConvergeCase{"from_below_2M", 300'000, 2'000'000, 45s},
                                           ConvergeCase{"from_below_800k", 300'000, 800'000, 30s},
                                           ConvergeCase{"from_above_4M", 10'000'000, 4'000'000, 15s}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DownlinkEstimator, DropsQuicklyWhenCapacityFalls) {
  DownlinkEstimator est(EstimatorConfig{.initial = 3'000'000});
  LinkSim link(est, LinkConfig{.capacity = 3'000'000});
  Pacer pacer;
  run_following(est, link, pacer, 15s);
  ASSERT_GT(est.target(), 2'000'000);
  link.set_capacity(500'000);
  for (int i = 1; i <= 4; ++i) {
    run_following(est, link, pacer, 500ms);
    std::printf("  %d ms after the drop: target %lld\n", i * 500, (long long)est.target());
  }
  EXPECT_LT(est.target(), 700'000);
  const Bitrate later = run_following(est, link, pacer, 15s, 5s);
  EXPECT_GT(later, 300'000);
  EXPECT_LT(later, 650'000);
}

TEST(DownlinkEstimator, RandomLossAloneReducesTarget) {
  DownlinkEstimator est(EstimatorConfig{.initial = 2'000'000});
  LinkSim link(est, LinkConfig{.capacity = 50'000'000, .random_loss = 0.2});
  Pacer pacer;
  run_following(est, link, pacer, 5s);
  EXPECT_LT(est.target(), 1'000'000);
  // One loss sample covers >= 20 packets: at the low rate loss leads to, a single one is
  // noisy (binomial sd ~0.09), so the mean of the samples over the next 2 s is checked.
  double sum = 0;
  for (int i = 0; i < 10; ++i) {
    run_following(est, link, pacer, 200ms);
    sum += est.state().loss;
  }
  EXPECT_NEAR(sum / 10, 0.2, 0.1);
}

TEST(DownlinkEstimator, SmallLossDoesNotReduceTarget) {
  DownlinkEstimator est(EstimatorConfig{.initial = 2'000'000});
  LinkSim link(est, LinkConfig{.capacity = 50'000'000, .random_loss = 0.01});
  Pacer pacer;
  run_following(est, link, pacer, 5s);
  EXPECT_GE(est.target(), 2'000'000);
}

TEST(DownlinkEstimator, RembPathFollowsRembCappedByLoss) {
  DownlinkEstimator est;
  Timestamp now = t0();
  EXPECT_EQ(est.target(), 1'000'000);
  est.on_remb(800'000, now);
  EXPECT_EQ(est.target(), 800'000);
  est.on_remb(2'500'000, now += 1s);
  EXPECT_EQ(est.target(), 2'500'000);
  est.on_remb(10, now += 1s);
  EXPECT_EQ(est.target(), 50'000);  // clamped to min
  est.on_remb(2'000'000, now += 1s);
  for (int i = 0; i < 5; ++i) est.on_receiver_report(77 /* 30 % */, 50ms, now += 1s);
  EXPECT_LT(est.target(), 1'000'000);
  EXPECT_EQ(est.state().rtt, 50ms);
  for (int i = 0; i < 60; ++i) est.on_receiver_report(0, std::nullopt, now += 1s);
  EXPECT_EQ(est.target(), 2'000'000);  // loss bound recovered and released
}

struct RrCase {
  uint8_t fraction_lost;
  bool decreases;
};

class ReceiverReports : public ::testing::TestWithParam<RrCase> {};

TEST_P(ReceiverReports, LossControl) {
  DownlinkEstimator est;
  Timestamp now = t0();
  est.on_remb(1'000'000, now);
  for (int i = 0; i < 3; ++i) est.on_receiver_report(GetParam().fraction_lost, 80ms, now += 1s);
  EXPECT_EQ(est.target() < 1'000'000, GetParam().decreases);
  EXPECT_NEAR(est.state().loss, GetParam().fraction_lost / 256.0, 1e-9);
  EXPECT_EQ(est.state().rtt, 80ms);
}

INSTANTIATE_TEST_SUITE_P(Bwe, ReceiverReports,
                         ::testing::Values(RrCase{0, false}, RrCase{5, false}, RrCase{20, false},
                                           RrCase{30, true}, RrCase{128, true}, RrCase{255, true}));

TEST(DownlinkEstimator, ReceiverReportLossIgnoredWhileTwccActive) {
  DownlinkEstimator est(EstimatorConfig{.initial = 2'000'000});
  LinkSim link(est, LinkConfig{.capacity = 50'000'000});
  Pacer pacer;
  run_following(est, link, pacer, 2s);
  const Bitrate before = est.target();
  est.on_receiver_report(200, 30ms, link.now());
  EXPECT_GE(est.target(), before);
  EXPECT_EQ(est.state().rtt, 30ms);
}

// Sends media at `media` and tagged probe packets making up `probe` in total for 400 ms.
std::optional<bool> run_probe(DownlinkEstimator& est, LinkSim& link, Pacer& media_pacer, Bitrate media, Bitrate probe,
                              int id) {
  Pacer probe_pacer;
  est.on_probe_started(id, probe, link.now());
  const Timestamp end = link.now() + 400ms;
  while (link.now() < end) {
    media_pacer.tick(media, 1ms, [&](size_t bytes) { link.send(bytes); });
    probe_pacer.tick(probe - media, 1ms, [&](size_t bytes) { link.send(bytes, id); });
    link.advance(1ms);
  }
  for (int i = 0; i < 1000 && !est.probe_result(id); ++i) {
    media_pacer.tick(media, 1ms, [&](size_t bytes) { link.send(bytes); });
    link.advance(1ms);
  }
  return est.probe_result(id);
}

TEST(DownlinkEstimator, ProbeSuccessRaisesEstimateInOneStep) {
  DownlinkEstimator est(EstimatorConfig{.initial = 300'000});
  LinkSim link(est, LinkConfig{.capacity = 5'000'000});
  Pacer pacer;
  run_fixed(est, link, pacer, 200'000, 5s);
  ASSERT_LT(est.target(), 400'000);  // capped by what actually got through
  EXPECT_EQ(est.probe_result(7), std::nullopt);
  const auto result = run_probe(est, link, pacer, 200'000, 2'000'000, 7);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_GE(est.target(), 1'700'000);
  EXPECT_LE(est.target(), 2'000'000);
}

// The initial guess (1 Mbit/s) sits right at a 1 Mbit/s link that the media (~400 kbit/s)
// never fills. A probe to 550 kbit/s gets through: that measures 550, not the guess. Before
// the fix the estimate stayed at the guess and counted as measured, so a viewer's layers were
// raised to 1 Mbit/s of traffic at once and overran the link (room_bwe's flake).
TEST(DownlinkEstimator, FirstProbeBelowTheGuessReplacesIt) {
  DownlinkEstimator est(EstimatorConfig{.initial = 1'000'000});
  LinkSim link(est, LinkConfig{.capacity = 1'000'000});
  Pacer pacer;
  run_fixed(est, link, pacer, 400'000, 3s);
  ASSERT_FALSE(est.measured());
  ASSERT_EQ(est.target(), 1'000'000);
  const auto result = run_probe(est, link, pacer, 400'000, 550'000, 5);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(est.measured());
  EXPECT_LE(est.target(), 550'000);
  EXPECT_GE(est.target(), 450'000);
}

TEST(DownlinkEstimator, ProbeDuringCongestionFails) {
  DownlinkEstimator est(EstimatorConfig{.initial = 450'000});
  LinkSim link(est, LinkConfig{.capacity = 500'000});
  Pacer pacer;
  run_fixed(est, link, pacer, 450'000, 5s);
  const auto result = run_probe(est, link, pacer, 450'000, 1'500'000, 3);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_LT(est.target(), 600'000);
}

// A probe well above a 1 Mbit/s link (a slot asking for a layer the link cannot carry),
// after an earlier probe lifted the estimate above the media's rate: the overuse it causes
// must not cut the estimate to 0.85 x the 500 ms acked window, which still holds mostly the
// media sent before the probe (it did: 750 -> ~450 kbit/s in room_bwe), and the probe
// leaves the link's rate behind as its ceiling, which holds for kCeilingHold.
TEST(DownlinkEstimator, ProbeAboveTheLinkMeasuresItsCeiling) {
  DownlinkEstimator est(EstimatorConfig{.initial = 300'000});
  LinkSim link(est, LinkConfig{.capacity = 1'000'000, .max_queue = 100ms});
  Pacer pacer;
  run_fixed(est, link, pacer, 400'000, 5s);
  // A probe the link carries lifts the estimate well above the media's rate.
  ASSERT_EQ(run_probe(est, link, pacer, 400'000, 800'000, 3), std::optional<bool>(true));
  run_fixed(est, link, pacer, 400'000, 1s);
  const Bitrate before = est.target();
  ASSERT_GT(before, 700'000);
  EXPECT_EQ(est.link_ceiling(), std::nullopt);
  const auto result = run_probe(est, link, pacer, 400'000, 1'400'000, 4);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_GE(est.target(), Bitrate(double(before) * 0.95));
  // What the probe measured is a better base than the media's acked rate: 0.85 x the link.
  EXPECT_GE(est.target(), 800'000);
  EXPECT_LE(est.target(), 900'000);
  ASSERT_TRUE(est.link_ceiling().has_value());
  EXPECT_GE(*est.link_ceiling(), 850'000);
  EXPECT_LE(*est.link_ceiling(), 1'050'000);
  run_fixed(est, link, pacer, 400'000, DownlinkEstimator::kCeilingHold);
  EXPECT_EQ(est.link_ceiling(), std::nullopt);
}

TEST(DownlinkEstimator, ProbeThatGetsThroughAboveTheCeilingClearsIt) {
  DownlinkEstimator est(EstimatorConfig{.initial = 300'000});
  LinkSim link(est, LinkConfig{.capacity = 1'000'000, .max_queue = 100ms});
  Pacer pacer;
  run_fixed(est, link, pacer, 400'000, 5s);
  ASSERT_EQ(run_probe(est, link, pacer, 400'000, 1'400'000, 1), std::optional<bool>(false));
  ASSERT_TRUE(est.link_ceiling().has_value());
  link.set_capacity(3'000'000);
  run_fixed(est, link, pacer, 400'000, 2s);
  ASSERT_EQ(run_probe(est, link, pacer, 400'000, 1'400'000, 2), std::optional<bool>(true));
  EXPECT_EQ(est.link_ceiling(), std::nullopt);
}

TEST(DownlinkEstimator, ProbeWithoutPacketsTimesOut) {
  DownlinkEstimator est;
  est.on_probe_started(1, 3'000'000, t0());
  est.on_packet_sent(0, 1200, t0() + 10ms);
  EXPECT_EQ(est.probe_result(1), std::nullopt);
  est.on_packet_sent(1, 1200, t0() + 1100ms);
  EXPECT_EQ(est.probe_result(1), std::optional<bool>(false));
  EXPECT_EQ(est.probe_result(2), std::nullopt);  // never started
}

TEST(SendHistory, UnwrapsAcrossWrapAround) {
  SendHistory h(64);
  for (int64_t s = 65530; s < 65546; ++s) EXPECT_EQ(h.add(uint16_t(s), 100, t0(), -1), s);
  ASSERT_NE(h.find(65533), nullptr);
  EXPECT_EQ(h.find(65533)->seq, 65533);
  ASSERT_NE(h.find(5), nullptr);
  EXPECT_EQ(h.find(5)->seq, 65541);
  EXPECT_EQ(h.find(20), nullptr);     // "future" = far past: never sent
  EXPECT_EQ(h.find(65000), nullptr);  // never sent
}

TEST(SendHistory, ForgetsOverwrittenPackets) {
  SendHistory h(16);
  for (int s = 0; s < 40; ++s) h.add(uint16_t(s), 100, t0(), -1);
  EXPECT_EQ(h.find(10), nullptr);
  ASSERT_NE(h.find(39), nullptr);
}

// A growing history keeps every packet no feedback has reported yet (up to 1 s old), and
// no more: a table of feedback delays and the capacity it settles on at 1000 packets/s.
TEST(SendHistory, GrowsToKeepUnreportedPackets) {
  struct Case {
    int feedback_every;  // packets between feedbacks (1 ms apart)
    size_t want;
  };
  for (auto c : {Case{50, 64}, Case{100, 128}, Case{300, 512}, Case{3000, 1024}}) {
    SendHistory h(64, 4096);
    Timestamp now = t0();
    for (int s = 0; s < 5000; ++s) {
      h.add(uint16_t(s), 1200, now, -1);
      if (s % c.feedback_every == c.feedback_every - 1) {
        for (int r = s - c.feedback_every + 1; r <= s; ++r) {
          SentPacket* p = h.find(uint16_t(r));
          if (s - r < 1000) ASSERT_NE(p, nullptr) << c.feedback_every << " " << r;  // kept until reported
          if (p) p->reported = true;
        }
      }
      now += std::chrono::milliseconds(1);
    }
    // 3000 packets unreported are more than 1 s: the oldest are given up, not kept.
    EXPECT_EQ(h.capacity(), c.want) << "feedback every " << c.feedback_every;
  }
}

TEST(DownlinkEstimator, SequenceWrapAroundDoesNotDisturb) {
  DownlinkEstimator a(EstimatorConfig{.initial = 800'000}), b(EstimatorConfig{.initial = 800'000});
  LinkSim la(a, LinkConfig{.capacity = 1'500'000}, 0), lb(b, LinkConfig{.capacity = 1'500'000}, 65'000);
  Pacer pa, pb;
  const Bitrate ma = run_following(a, la, pa, 20s, 5s);
  const Bitrate mb = run_following(b, lb, pb, 20s, 5s);  // wraps after ~1.4 s
  EXPECT_NEAR(double(mb), double(ma), double(ma) * 0.1);
  EXPECT_EQ(b.counters().unknown_seq, 0u);
}

struct FeedbackOrderCase {
  const char* name;
  bool duplicate;
  bool reorder;
};

class FeedbackOrder : public ::testing::TestWithParam<FeedbackOrderCase> {};

TEST_P(FeedbackOrder, StillConverges) {
  DownlinkEstimator est(EstimatorConfig{.initial = 4'000'000});
  LinkSim link(est, LinkConfig{.capacity = 1'500'000, .duplicate_feedback = GetParam().duplicate,
                               .reorder_feedback = GetParam().reorder});
  Pacer pacer;
  const Bitrate mean = run_following(est, link, pacer, 20s, 5s);
  EXPECT_GT(mean, 1'500'000 * 7 / 10);
  EXPECT_LT(mean, 1'500'000 * 13 / 10);
  if (GetParam().duplicate) {
    EXPECT_GT(est.counters().duplicate, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Bwe, FeedbackOrder,
                         ::testing::Values(FeedbackOrderCase{"in_order", false, false},
                                           FeedbackOrderCase{"duplicated", true, false},
                                           FeedbackOrderCase{"reordered", false, true},
                                           FeedbackOrderCase{"both", true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DownlinkEstimator, EmptyAndGarbageFeedbackIsHarmless) {
  DownlinkEstimator est;
  Timestamp now = t0();
  est.on_transport_feedback(rtp::TransportFeedback{}, now);  // nothing sent yet, empty
  for (int i = 0; i < 100; ++i) est.on_packet_sent(uint16_t(i), 1200, now += 1ms);
  est.on_transport_feedback(rtp::TransportFeedback{}, now);
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    rtp::TransportFeedback fb;
    fb.base_seq = uint16_t(rng());
    fb.reference_time = int32_t(rng() & 0xFFFFFF) - 0x800000;
    const size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) {
      // Odd rounds: in range; even rounds: any 64-bit value (the product wraps modulo 2^64:
      // unsigned, so it is defined behaviour; a signed product overflowed, which UBSan halts on).
      const int64_t delta =
          round % 2 ? int64_t(int16_t(rng())) * 250 : int64_t(uint64_t(rng()) * uint64_t(rng()));
      fb.packets.push_back({uint16_t(fb.base_seq + i), (rng() & 1) != 0, delta});
    }
    est.on_transport_feedback(fb, now += 1ms);
    if (round % 3 == 0) est.on_packet_sent(uint16_t(rng()), rng() % 2000, now, int(rng() % 4) - 1);
    if (round % 50 == 0) est.on_probe_started(int(rng() % 10), Bitrate(rng()), now);
    const Bitrate t = est.target();
    ASSERT_GE(t, 50'000);
    ASSERT_LE(t, 30'000'000);
  }
  EXPECT_GT(est.counters().unknown_seq, 0u);
}

TEST(DownlinkEstimator, ParsedRandomBytesAreHarmless) {
  DownlinkEstimator est;
  Timestamp now = t0();
  for (int i = 0; i < 500; ++i) est.on_packet_sent(uint16_t(i), 1000, now += 1ms);
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    Bytes buf(size_t(rng() % 120));
    for (auto& b : buf) b = uint8_t(rng());
    if (buf.size() >= 4) {
      buf[0] = uint8_t(0x80 | 15);
      buf[1] = 205;
      buf[2] = 0;
      buf[3] = uint8_t(buf.size() / 4 - 1);
    }
    rtp::RtcpIterator it{ByteSpan(buf.data(), buf.size())};
    while (auto v = it.next()) {
      if (auto fb = rtp::parse_transport_feedback(*v)) est.on_transport_feedback(*fb, now += 1ms);
    }
  }
  EXPECT_GE(est.target(), 50'000);
}

}  // namespace
}  // namespace strata::bwe::test
