// Link model + estimator + selector + the session's part (send the chosen layer's rate,
// start probes when asked, report their results) in one loop on simulated time.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "bwe/downlink_estimator.hpp"
#include "bwe/layer_selector.hpp"
#include "link_sim.hpp"

namespace strata::bwe::test {
namespace {

constexpr Bitrate kAudio = 40'000;

class Session {
 public:
  explicit Session(Bitrate capacity, bool temporal = false) : link_(est_, LinkConfig{.capacity = capacity}) {
    rates_.spatial_layers = 3;
    if (temporal) {  // VP8 with three temporal layers: cumulative rates
      rates_.temporal_layers = 3;
      rates_.rate[0] = {60'000, 100'000, 150'000};
      rates_.rate[1] = {200'000, 330'000, 500'000};
      rates_.rate[2] = {600'000, 1'000'000, 1'500'000};
    } else {
      rates_.rate[0][0] = 150'000;
      rates_.rate[1][0] = 500'000;
      rates_.rate[2][0] = 1'500'000;
    }
  }

  LinkSim& link() { return link_; }
  DownlinkEstimator& estimator() { return est_; }
  LayerSelector& selector() { return sel_; }

  // Runs for `d`; calls on_change(time, LayerChoice) whenever the layer changes.
  template <typename F>
  void run(Duration d, F&& on_change) {
    const Timestamp end = link_.now() + d;
    while (link_.now() < end) {
      if (link_.now() >= next_decision_) decide(on_change);
      const Bitrate video = layer_rate();
      media_.tick(kAudio + video, 1ms, [&](size_t bytes) { link_.send(bytes); });
      if (probe_id_ >= 0 && link_.now() < probe_end_) {
        probe_.tick(std::max<Bitrate>(probe_rate_ - kAudio - video, 0), 1ms, [&](size_t b) { link_.send(b, probe_id_); });
      }
      link_.advance(1ms);
    }
  }

  Bitrate layer_rate() const {
    const LayerChoice c = sel_.current();
    return c.spatial < 0 ? 0 : rates_.rate[size_t(c.spatial)][size_t(std::max(c.temporal, 0))];
  }

 private:
  template <typename F>
  void decide(F&& on_change) {
    const Timestamp now = link_.now();
    next_decision_ = now + 100ms;
    if (probe_id_ >= 0 && now >= probe_end_) {
      if (auto r = est_.probe_result(probe_id_)) {
        sel_.on_probe_result(*r, now);
        probe_id_ = -1;
      }
    }
    const LayerChoice before = sel_.current();
    const auto d = sel_.update(est_.target() - kAudio, rates_, -1, now);
    if (std::getenv("BWE_TRACE")) {
      const auto st = est_.state();
      std::printf("t=%.1f target=%lld acked=%lld loss=%.2f sig=%s layer=(%d,%d) probe=%d%s\n",
                  std::chrono::duration<double>(now.time_since_epoch()).count() - 1000, (long long)st.target,
                  (long long)st.acked, st.loss, st.signal, d.target.spatial, d.target.temporal, probe_id_,
                  d.probe_to ? " PROBE" : "");
    }
    if (!(d.target == before)) on_change(now, d.target);
    if (d.probe_to && probe_id_ < 0) {
      probe_id_ = next_probe_id_++;
      probe_rate_ = *d.probe_to + kAudio;
      probe_end_ = now + 400ms;
      est_.on_probe_started(probe_id_, probe_rate_, now);
    }
  }

  DownlinkEstimator est_;
  LinkSim link_;
  LayerSelector sel_;
  LayerRates rates_;
  Pacer media_, probe_;
  Timestamp next_decision_{};
  int probe_id_ = -1, next_probe_id_ = 0;
  Bitrate probe_rate_ = 0;
  Timestamp probe_end_{};
};

class EndToEnd : public ::testing::TestWithParam<bool> {};

TEST_P(EndToEnd, CappedViewerSettlesLowThenClimbsWhenCapLifts) {
  Session s(500'000, GetParam());
  std::vector<std::pair<Duration, LayerChoice>> changes;
  const Timestamp start = s.link().now();
  auto record = [&](Timestamp t, LayerChoice c) { changes.emplace_back(t - start, c); };

  // Settled within 10 s on the best step that fits the cap: the lowest spatial layer
  // (with temporal layers, layer 1 minus its top temporal layer fits too).
  auto check_fits = [&] {
    EXPECT_LE(s.layer_rate() + kAudio, 500'000);
    if (!GetParam()) {
      EXPECT_EQ(s.selector().current().spatial, 0);
    }
  };
  s.run(10s, record);
  check_fits();
  const size_t changes_at_10s = changes.size();
  const uint64_t probes_at_10s = s.selector().counters().probes;
  s.run(50s, record);  // the cap holds for a minute in total
  check_fits();
  EXPECT_EQ(changes.size(), changes_at_10s) << "layer oscillated under the cap";
  // Backoff: over 50 s at most ~1.5+3+6+8+8+8+8+8 -> at most 8 probes.
  EXPECT_LE(s.selector().counters().probes - probes_at_10s, 8u);
  EXPECT_EQ(s.selector().counters().upgrades, 0u);

  s.link().set_capacity(10'000'000);
  const Timestamp lifted = s.link().now();
  Timestamp top_at = kNever;
  const LayerChoice top = GetParam() ? LayerChoice{2, 2} : LayerChoice{2, -1};
  s.run(25s, [&](Timestamp t, LayerChoice c) {
    record(t, c);
    if (c == top && top_at == kNever) top_at = t;
  });
  ASSERT_NE(top_at, kNever) << "never reached the top layer";
  EXPECT_LE(top_at - lifted, 20s);
  EXPECT_EQ(s.selector().current(), top);
  for (const auto& [t, c] : changes) {
    std::printf("  %6.1f s -> (%d,%d)\n", std::chrono::duration<double>(t).count(), c.spatial, c.temporal);
  }
  std::printf("  top %.1f s after the cap was lifted; target %lld\n",
              std::chrono::duration<double>(top_at - lifted).count(), (long long)s.estimator().target());
}

INSTANTIATE_TEST_SUITE_P(Bwe, EndToEnd, ::testing::Values(false, true),
                         [](const auto& info) { return std::string(info.param ? "temporal3" : "spatial_only"); });

TEST(EndToEnd, UncappedViewerClimbsToTopAndStays) {
  Session s(10'000'000);  // starts from the 1 Mbit/s initial estimate: layer 1
  Timestamp top_at = kNever;
  const Timestamp start = s.link().now();
  s.run(30s, [&](Timestamp t, LayerChoice c) {
    if (c.spatial == 2 && top_at == kNever) top_at = t;
  });
  ASSERT_NE(top_at, kNever);
  EXPECT_LE(top_at - start, 8s);
  EXPECT_EQ(s.selector().current().spatial, 2);
  EXPECT_EQ(s.selector().counters().downgrades, 0u);
}

}  // namespace
}  // namespace strata::bwe::test
