// Picks the simulcast/temporal layer a viewer receives from its downlink estimate, after
// LiveKit's stream allocator: downgrade at once, upgrade only after the estimate has held
// above the next step for a while, and when it does not, ask the session to probe
// (with exponential backoff after failed probes) instead of trying the layer blindly.
//
// Steps are ordered (0,0) < (0,1) < (0,2) < (1,0) < ... so that dropping a temporal
// layer is tried before dropping a spatial one. With one temporal layer the steps are
// (s,-1) (= all temporal layers).
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

#include "bwe/bitrate.hpp"
#include "common/time.hpp"

namespace strata::bwe {

struct LayerRates {
  // rate[s][t]: measured bitrate of spatial layer s including temporal layers 0..t
  // (0 = not flowing / unknown).
  std::array<std::array<Bitrate, 3>, 4> rate{};
  int spatial_layers = 0;
  int temporal_layers = 1;
  // The rates come from less than a few hundred ms of the source (a new viewer, a slot's
  // new host): a layer whose frames have not come yet looks cheap. A first choice on young
  // rates stays on the lowest spatial layer and climbs from there.
  bool young = false;
};

struct LayerChoice {
  int spatial = -1;
  int temporal = -1;  // -1 = all temporal layers
  bool operator==(const LayerChoice&) const = default;
};

struct SelectorDecision {
  LayerChoice target;
  std::optional<Bitrate> probe_to;  // set: start a probe at this total rate now
};

struct SelectorConfig {
  Duration upgrade_hold = std::chrono::seconds(2);     // estimate must hold this long
  double upgrade_margin = 1.1;                         // ... above next step x margin
  double downgrade_margin = 0.95;                      // below current x margin ...
  Duration downgrade_hold = std::chrono::milliseconds(600);  // ... for this long: drop
  // Far below (congestion, not a keyframe burst in the layer's measured rate): drop now.
  double severe_downgrade_margin = 0.75;
  // A reduced frame rate of an upper spatial layer bridges a dip in the estimate; when the
  // layer's full rate has not come back within this time, the viewer goes on to the best
  // full-rate step below (a smooth lower resolution beats a stuttering higher one for
  // good: under a 500 kbit/s cap a viewer sat on 640x360 at 9 fps instead of 320x180 at 30).
  Duration reduced_rate_hold = std::chrono::seconds(3);
  Duration stable_before_probe = std::chrono::seconds(1);
  double probe_overshoot = 1.25;                       // probe to next step x this
  Duration probe_interval = std::chrono::milliseconds(1500);  // first interval / reset value
  Duration max_probe_interval = std::chrono::seconds(8);
  Duration probe_result_timeout = std::chrono::milliseconds(2500);  // no result = failed
};

struct SelectorCounters {
  uint64_t upgrades = 0;
  uint64_t downgrades = 0;
  uint64_t probes = 0;
  uint64_t probe_failures = 0;
};

class LayerSelector {
 public:
  explicit LayerSelector(SelectorConfig cfg = {}) : cfg_(cfg), backoff_(cfg.probe_interval) {}

  // estimate: bits/s available for this video stream. max_spatial: -1 = no cap, else
  // the viewer's explicit request (wins over "keep video going" unless nothing at or
  // below it flows).
  // `estimate_measured` false: the estimate is still the estimator's initial guess, which
  // may exceed the path (a 1 Mbit/s guess behind a 500 kbit/s cap that q never fills):
  // climbing from a guess takes a probe, never the hold alone.
  SelectorDecision update(Bitrate estimate, const LayerRates& rates, int max_spatial, Timestamp now,
                          bool estimate_measured = true);
  void on_probe_result(bool success, Timestamp now);

  LayerChoice current() const { return current_; }
  bool probe_pending() const { return probe_pending_; }
  Duration probe_backoff() const { return backoff_; }
  const SelectorCounters& counters() const { return counters_; }

 private:
  struct Step {
    LayerChoice choice;
    Bitrate rate = 0;
    // A reduced frame rate of an upper spatial layer: only a step down from that layer's
    // full rate (before dropping a spatial layer), never a target to climb to.
    bool downgrade_only = false;
  };
  struct Steps {
    std::array<Step, 12> items{};
    size_t size = 0;
  };

  static Steps build_steps(const LayerRates& rates, int max_spatial);
  static int find(const Steps& steps, LayerChoice c);
  // Highest step whose rate x margin fits the estimate; -1 if none.
  // Highest step fitting the estimate; downgrade-only steps count only for `from_spatial`.
  static int highest_fitting(const Steps& steps, Bitrate estimate, double margin, int from_spatial = -1);
  static int next_up(const Steps& steps, int cur);
  static int last_of_lowest_spatial(const Steps& steps);
  void change_to(const Steps& steps, int index, Timestamp now);
  std::optional<Bitrate> maybe_probe(const Steps& steps, int next, Timestamp now);
  void on_probe_failed(Timestamp now);

  SelectorConfig cfg_;
  LayerChoice current_;
  Timestamp last_change_{};
  std::optional<Timestamp> above_since_;
  std::optional<Timestamp> below_since_;
  bool probe_pending_ = false;
  Timestamp probe_started_{};
  std::optional<Timestamp> next_probe_at_;
  Duration backoff_;
  SelectorCounters counters_;
};

}  // namespace strata::bwe
