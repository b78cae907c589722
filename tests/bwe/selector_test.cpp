#include <gtest/gtest.h>

#include "bwe/layer_selector.hpp"
#include "link_sim.hpp"

namespace strata::bwe::test {
namespace {

LayerRates simulcast3() {  // q / h / f, one temporal layer
  LayerRates r;
  r.spatial_layers = 3;
  r.rate[0][0] = 150'000;
  r.rate[1][0] = 500'000;
  r.rate[2][0] = 1'500'000;
  return r;
}

LayerRates simulcast3_temporal() {  // cumulative over temporal layers
  LayerRates r;
  r.spatial_layers = 3;
  r.temporal_layers = 3;
  r.rate[0] = {60'000, 100'000, 150'000};
  r.rate[1] = {200'000, 330'000, 500'000};
  r.rate[2] = {600'000, 1'000'000, 1'500'000};
  return r;
}

struct InitialCase {
  const char* name;
  Bitrate estimate;
  int max_spatial;
  bool temporal;
  LayerChoice expected;
};

class InitialChoice : public ::testing::TestWithParam<InitialCase> {};

TEST_P(InitialChoice, PicksHighestFittingStep) {
  const InitialCase& c = GetParam();
  LayerSelector sel;
  const auto d = sel.update(c.estimate, c.temporal ? simulcast3_temporal() : simulcast3(), c.max_spatial, t0());
  EXPECT_EQ(d.target, c.expected) << c.name;
  EXPECT_FALSE(d.probe_to);
}

INSTANTIATE_TEST_SUITE_P(
    Bwe, InitialChoice,
    ::testing::Values(InitialCase{"plenty", 5'000'000, -1, false, {2, -1}},
                      InitialCase{"mid", 700'000, -1, false, {1, -1}},
                      InitialCase{"exact", 500'000, -1, false, {1, -1}},
                      InitialCase{"nothing_fits_keeps_lowest", 10'000, -1, false, {0, -1}},
                      InitialCase{"capped_by_viewer", 5'000'000, 0, false, {0, -1}},
                      InitialCase{"capped_mid", 5'000'000, 1, false, {1, -1}},
                      InitialCase{"temporal_top", 5'000'000, -1, true, {2, 2}},
                      InitialCase{"temporal_between_starts_at_full_rate", 1'200'000, -1, true, {1, 2}},
                      InitialCase{"temporal_step_before_spatial_drop", 560'000, -1, true, {1, 2}},
                      InitialCase{"temporal_low", 80'000, -1, true, {0, 0}},
                      InitialCase{"temporal_nothing_fits", 1'000, -1, true, {0, 0}}),
    [](const auto& info) { return std::string(info.param.name); });

// room_bwe: a slot's first choice 100 ms after its host appeared, with 1 Mbit/s of guessed
// estimate, went to f (f's first frames had not come: it looked cheap) and flooded the link.
TEST(LayerSelector, FirstChoiceOnYoungRatesIsTheLowestLayerAtFullRate) {
  LayerRates r = simulcast3();
  r.young = true;
  LayerSelector sel;
  EXPECT_EQ(sel.update(5'000'000, r, -1, t0()).target, (LayerChoice{0, -1}));
  LayerRates rt = simulcast3_temporal();
  rt.young = true;
  LayerSelector sel2;
  EXPECT_EQ(sel2.update(5'000'000, rt, -1, t0()).target, (LayerChoice{0, 2}));
  LayerSelector sel3;  // below q's full rate: the temporal step that fits
  EXPECT_EQ(sel3.update(80'000, rt, -1, t0()).target, (LayerChoice{0, 0}));
  // Once settled the selector climbs as usual: above h x margin for the upgrade hold.
  r.young = false;
  sel.update(5'000'000, r, -1, t0() + 100ms);
  EXPECT_EQ(sel.update(5'000'000, r, -1, t0() + 100ms + SelectorConfig{}.upgrade_hold).target.spatial, 2);
}

TEST(LayerSelector, SkipsLayersThatAreNotFlowing) {
  LayerRates r = simulcast3();
  r.rate[1][0] = 0;
  LayerSelector sel;
  EXPECT_EQ(sel.update(1'000'000, r, -1, t0()).target, (LayerChoice{0, -1}));
  // Lowest layer not flowing: the lowest flowing one is the floor.
  r.rate[0][0] = 0;
  LayerSelector sel2;
  EXPECT_EQ(sel2.update(10'000, r, -1, t0()).target, (LayerChoice{2, -1}));
  // Nothing flows at all.
  LayerSelector sel3;
  EXPECT_EQ(sel3.update(10'000'000, LayerRates{}, -1, t0()).target, (LayerChoice{-1, -1}));
}

TEST(LayerSelector, CurrentLayerStopsFlowing) {
  LayerRates r = simulcast3();
  LayerSelector sel;
  EXPECT_EQ(sel.update(5'000'000, r, -1, t0()).target, (LayerChoice{2, -1}));
  r.rate[2][0] = 0;
  EXPECT_EQ(sel.update(5'000'000, r, -1, t0() + 100ms).target, (LayerChoice{1, -1}));
}

TEST(LayerSelector, ViewerCapIsRespectedAndLifted) {
  LayerSelector sel;
  Timestamp now = t0();
  EXPECT_EQ(sel.update(5'000'000, simulcast3(), 1, now).target, (LayerChoice{1, -1}));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sel.update(5'000'000, simulcast3(), 1, now += 100ms).target.spatial, 1);
  EXPECT_EQ(sel.update(5'000'000, simulcast3(), 0, now += 100ms).target, (LayerChoice{0, -1}));
  // Lifting the cap is an upgrade: it waits for the hold time.
  EXPECT_EQ(sel.update(5'000'000, simulcast3(), -1, now += 100ms).target.spatial, 0);
  for (int i = 0; i < 25; ++i) sel.update(5'000'000, simulcast3(), -1, now += 100ms);
  EXPECT_EQ(sel.current(), (LayerChoice{2, -1}));  // jumps over steps that all fit
}

TEST(LayerSelector, DowngradesAfterAShortHoldOrAtOnceWhenFarBelow) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(2'000'000, simulcast3(), -1, now);
  EXPECT_EQ(sel.current().spatial, 2);
  EXPECT_EQ(sel.update(1'450'000, simulcast3(), -1, now += 100ms).target.spatial, 2);  // within margin
  // Slightly below (a keyframe burst in the layer's rate looks like this): only if it lasts.
  EXPECT_EQ(sel.update(1'400'000, simulcast3(), -1, now += 100ms).target.spatial, 2);
  EXPECT_EQ(sel.update(1'400'000, simulcast3(), -1, now += 300ms).target.spatial, 2);
  EXPECT_EQ(sel.update(1'450'000, simulcast3(), -1, now += 100ms).target.spatial, 2);  // recovered: reset
  EXPECT_EQ(sel.update(1'400'000, simulcast3(), -1, now += 100ms).target.spatial, 2);
  EXPECT_EQ(sel.update(1'400'000, simulcast3(), -1, now += 500ms).target.spatial, 2);
  EXPECT_EQ(sel.update(1'400'000, simulcast3(), -1, now += 100ms).target.spatial, 1) << "600 ms below";
  // Far below (congestion): at once.
  EXPECT_EQ(sel.update(100'000, simulcast3(), -1, now += 100ms).target.spatial, 0);
  // Back up: held for 2 s above 1.1 x the next step.
  const Timestamp start = now;
  while (sel.current().spatial == 0) sel.update(600'000, simulcast3(), -1, now += 100ms);
  EXPECT_EQ(sel.current().spatial, 1);
  EXPECT_GE(now - start, 2s);
  EXPECT_LE(now - start, 2100ms);
  EXPECT_EQ(sel.counters().upgrades, 1u);
  EXPECT_EQ(sel.counters().downgrades, 2u);
}

TEST(LayerSelector, DipResetsTheHold) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(200'000, simulcast3(), -1, now);
  for (int i = 0; i < 15; ++i) sel.update(600'000, simulcast3(), -1, now += 100ms);
  sel.update(540'000, simulcast3(), -1, now += 100ms);  // below 1.1 x 500k
  for (int i = 0; i < 15; ++i) sel.update(600'000, simulcast3(), -1, now += 100ms);
  EXPECT_EQ(sel.current().spatial, 0);
  for (int i = 0; i < 6; ++i) sel.update(600'000, simulcast3(), -1, now += 100ms);
  EXPECT_EQ(sel.current().spatial, 1);
}

// Steps: (0,0) (0,1) (0,2) (1,1) (1,2) (2,1) (2,2): above the lowest spatial layer the
// quarter frame rate (temporal layer 0) is skipped.
TEST(LayerSelector, TemporalStepsBeforeDroppingSpatial) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(2'000'000, simulcast3_temporal(), -1, now);
  EXPECT_EQ(sel.current(), (LayerChoice{2, 2}));
  // Each shortfall lasts past the downgrade hold.
  auto settle = [&](Bitrate estimate) {
    sel.update(estimate, simulcast3_temporal(), -1, now += 100ms);
    return sel.update(estimate, simulcast3_temporal(), -1, now += 700ms).target;
  };
  EXPECT_EQ(settle(1'200'000), (LayerChoice{2, 1}));
  EXPECT_EQ(settle(700'000), (LayerChoice{1, 2})) << "not f at a quarter of the frame rate";
  EXPECT_EQ(settle(400'000), (LayerChoice{1, 1}));
  EXPECT_EQ(settle(250'000), (LayerChoice{0, 2}));
  EXPECT_EQ(settle(120'000), (LayerChoice{0, 1}));
  EXPECT_EQ(settle(70'000), (LayerChoice{0, 0}));
}

// A reduced frame rate of an upper layer only bridges a dip: if that layer's full rate does
// not fit again within reduced_rate_hold, the viewer goes on to the best full-rate step
// below; if it fits again in time, the viewer goes back up instead.
TEST(LayerSelector, ReducedFrameRateOfAnUpperLayerIsOnlyABridge) {
  const Duration hold = SelectorConfig{}.reduced_rate_hold;
  for (bool recovers : {false, true}) {
    LayerSelector sel;
    Timestamp now = t0();
    sel.update(600'000, simulcast3_temporal(), -1, now);
    ASSERT_EQ(sel.current(), (LayerChoice{1, 2}));
    sel.update(400'000, simulcast3_temporal(), -1, now += 100ms);
    sel.update(400'000, simulcast3_temporal(), -1, now += 700ms);
    ASSERT_EQ(sel.current(), (LayerChoice{1, 1})) << "h at a reduced rate first";
    const Timestamp bridged_at = now;
    const Bitrate later = recovers ? 600'000 : 400'000;
    while (now - bridged_at < hold + 2500ms && sel.current() == (LayerChoice{1, 1}))
      sel.update(later, simulcast3_temporal(), -1, now += 100ms);
    if (recovers) {
      EXPECT_EQ(sel.current(), (LayerChoice{1, 2})) << "full rate back within the hold";
      EXPECT_LE(now - bridged_at, 2100ms);
    } else {
      EXPECT_EQ(sel.current(), (LayerChoice{0, 2})) << "q at full rate, not h at a reduced one for good";
      EXPECT_GE(now - bridged_at, hold);
      EXPECT_LE(now - bridged_at, hold + 100ms);
      // And it stays: climbing never targets a reduced frame rate.
      for (int i = 0; i < 100; ++i) sel.update(400'000, simulcast3_temporal(), -1, now += 100ms);
      EXPECT_EQ(sel.current(), (LayerChoice{0, 2}));
    }
  }
}

TEST(LayerSelector, ProbesWithExponentialBackoff) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(300'000, simulcast3(), -1, now);
  ASSERT_EQ(sel.current().spatial, 0);
  std::vector<Timestamp> probes;
  for (int i = 0; i < 400; ++i) {  // 40 s, every probe fails after 500 ms
    now += 100ms;
    const auto d = sel.update(300'000, simulcast3(), -1, now);
    if (d.probe_to) {
      EXPECT_EQ(*d.probe_to, 625'000);
      probes.push_back(now);
    }
    if (sel.probe_pending() && now - probes.back() >= 500ms) sel.on_probe_result(false, now);
  }
  ASSERT_GE(probes.size(), 5u);
  EXPECT_EQ(probes[0] - t0(), 1s);  // stable first
  const std::vector<Duration> gaps{2000ms, 3500ms, 6500ms, 8500ms, 8500ms};
  for (size_t i = 0; i + 1 < probes.size() && i < gaps.size(); ++i) EXPECT_EQ(probes[i + 1] - probes[i], gaps[i]) << i;
  EXPECT_EQ(sel.current().spatial, 0);
  EXPECT_EQ(sel.counters().probe_failures, probes.size() - (sel.probe_pending() ? 1 : 0));
}

TEST(LayerSelector, UnansweredProbeCountsAsFailed) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(300'000, simulcast3(), -1, now);
  int probes = 0;
  for (int i = 0; i < 100; ++i) probes += sel.update(300'000, simulcast3(), -1, now += 100ms).probe_to.has_value();
  EXPECT_GE(probes, 2);
  EXPECT_GE(sel.counters().probe_failures, 1u);
  EXPECT_GT(sel.probe_backoff(), 1500ms);
}

TEST(LayerSelector, SuccessfulUpgradeResetsBackoff) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(300'000, simulcast3(), -1, now);
  for (int i = 0; i < 150; ++i) {
    if (sel.update(300'000, simulcast3(), -1, now += 100ms).probe_to) sel.on_probe_result(false, now);
  }
  EXPECT_EQ(sel.probe_backoff(), 8s);
  Bitrate estimate = 300'000;
  bool probed = false;
  for (int i = 0; i < 200 && sel.current().spatial == 0; ++i) {
    if (sel.update(estimate, simulcast3(), -1, now += 100ms).probe_to) {
      probed = true;
      sel.on_probe_result(true, now);
      estimate = 600'000;  // the estimator jumped
    }
  }
  EXPECT_TRUE(probed);
  EXPECT_EQ(sel.current().spatial, 1);
  EXPECT_EQ(sel.probe_backoff(), 1500ms);
}

// After a cap is lifted, the first probe (to 2x the estimate at most) gets through but
// does not reach the next step yet: the next probe follows at the first interval, not at
// the 8 s the failures under the cap had backed off to.
TEST(LayerSelector, SuccessfulProbeResetsBackoff) {
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(300'000, simulcast3(), -1, now);
  for (int i = 0; i < 150; ++i) {
    if (sel.update(300'000, simulcast3(), -1, now += 100ms).probe_to) sel.on_probe_result(false, now);
  }
  ASSERT_EQ(sel.probe_backoff(), 8s);
  std::vector<Timestamp> probes;
  for (int i = 0; i < 200 && probes.size() < 2; ++i) {
    if (sel.update(300'000, simulcast3(), -1, now += 100ms).probe_to) {
      probes.push_back(now);
      sel.on_probe_result(true, now);  // got through, the estimate did not reach h
    }
  }
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_EQ(probes[1] - probes[0], 1500ms);
  EXPECT_EQ(sel.probe_backoff(), 1500ms);
  EXPECT_EQ(sel.current().spatial, 0);
}

// simulcast_bwe: behind 500 kbit/s, q never contradicts the estimator's 1 Mbit/s initial
// guess; climbing on the hold alone took the viewer to h into the cap 2.5 s after joining.
// From a guess the selector probes instead, and climbs on the hold once it is measured.
TEST(LayerSelector, AGuessedEstimateTakesAProbeNotTheHold) {
  LayerRates r = simulcast3();
  r.young = true;
  LayerSelector sel;
  Timestamp now = t0();
  sel.update(1'000'000, r, -1, now, false);
  r.young = false;
  std::optional<Bitrate> probe;
  for (int i = 0; i < 40 && !probe; ++i) probe = sel.update(1'000'000, r, -1, now += 100ms, false).probe_to;
  EXPECT_EQ(sel.current().spatial, 0) << "no climb on a guess";
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(*probe, 625'000);
  sel.on_probe_result(true, now);
  for (int i = 0; i < 25; ++i) sel.update(1'000'000, r, -1, now += 100ms, true);
  EXPECT_EQ(sel.current().spatial, 1) << "measured now: the hold climbs";
}

}  // namespace
}  // namespace strata::bwe::test
