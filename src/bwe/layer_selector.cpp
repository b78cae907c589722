#include "bwe/layer_selector.hpp"

#include <algorithm>

namespace strata::bwe {

LayerSelector::Steps LayerSelector::build_steps(const LayerRates& rates, int max_spatial) {
  Steps out;
  const int spatial = std::clamp(rates.spatial_layers, 0, int(rates.rate.size()));
  const int temporal = std::clamp(rates.temporal_layers, 1, int(rates.rate[0].size()));
  for (int s = 0; s < spatial; ++s) {
    if (max_spatial >= 0 && s > max_spatial) break;
    for (int t = 0; t < temporal; ++t) {
      // Above the lowest spatial layer, a quarter of the frame rate looks worse than the
      // layer below at full rate: only the lowest layer goes down to temporal layer 0.
      if (s > 0 && t == 0 && temporal > 2) continue;
      const Bitrate r = rates.rate[size_t(s)][size_t(t)];
      if (r <= 0) continue;  // not flowing
      out.items[out.size++] = Step{LayerChoice{s, temporal == 1 ? -1 : t}, r, s > 0 && t < temporal - 1};
    }
  }
  // The viewer's cap excludes everything that flows: video must keep going, so fall
  // back to the lowest flowing step.
  if (out.size == 0 && max_spatial >= 0) {
    Steps all = build_steps(rates, -1);
    if (all.size > 0) out.items[out.size++] = all.items[0];
  }
  return out;
}

int LayerSelector::find(const Steps& steps, LayerChoice c) {
  for (size_t i = 0; i < steps.size; ++i) {
    if (steps.items[i].choice == c) return int(i);
  }
  return -1;
}

int LayerSelector::highest_fitting(const Steps& steps, Bitrate estimate, double margin, int from_spatial) {
  int best = -1;
  for (size_t i = 0; i < steps.size; ++i) {
    const Step& st = steps.items[i];
    if (st.downgrade_only && st.choice.spatial != from_spatial) continue;
    if (double(st.rate) * margin <= double(estimate)) best = int(i);
  }
  return best;
}

int LayerSelector::last_of_lowest_spatial(const Steps& steps) {
  int last = 0;
  for (size_t i = 1; i < steps.size && steps.items[i].choice.spatial == steps.items[0].choice.spatial; ++i) last = int(i);
  return last;
}

// The next step up: a reduced frame rate of a higher spatial layer is skipped (the viewer
// goes from full rate to full rate), one of the current spatial layer is not.
int LayerSelector::next_up(const Steps& steps, int cur) {
  const int spatial = steps.items[size_t(cur)].choice.spatial;
  for (size_t i = size_t(cur) + 1; i < steps.size; ++i) {
    if (!steps.items[i].downgrade_only || steps.items[i].choice.spatial == spatial) return int(i);
  }
  return int(steps.size);
}

void LayerSelector::change_to(const Steps& steps, int index, Timestamp now) {
  current_ = steps.items[size_t(index)].choice;
  last_change_ = now;
  above_since_.reset();
  below_since_.reset();
}

SelectorDecision LayerSelector::update(Bitrate estimate, const LayerRates& rates, int max_spatial, Timestamp now,
                                       bool estimate_measured) {
  const Steps steps = build_steps(rates, max_spatial);
  if (steps.size == 0) {
    current_ = LayerChoice{};
    above_since_.reset();
    return {current_, std::nullopt};
  }
  const int cur = find(steps, current_);
  if (cur < 0) {  // first choice, or the current layer stopped flowing / got capped
    int first = std::max(highest_fitting(steps, estimate, 1.0), 0);
    if (rates.young) first = std::min(first, last_of_lowest_spatial(steps));
    change_to(steps, first, now);
    return {current_, std::nullopt};
  }
  const Bitrate cur_rate = steps.items[size_t(cur)].rate;
  // A layer's measured rate jumps with every keyframe while the estimate (bounded by what
  // was acknowledged) moves slowly: drop at once only when far below, otherwise when the
  // shortfall lasts.
  const bool below = cur > 0 && double(estimate) < double(cur_rate) * cfg_.downgrade_margin;
  if (!below) below_since_.reset();
  if (below && !below_since_) below_since_ = now;
  if (below && (double(estimate) < double(cur_rate) * cfg_.severe_downgrade_margin ||
                now - *below_since_ >= cfg_.downgrade_hold)) {
    ++counters_.downgrades;
    change_to(steps, std::clamp(highest_fitting(steps, estimate, 1.0, current_.spatial), 0, cur - 1), now);
    return {current_, std::nullopt};
  }
  if (below) return {current_, std::nullopt};
  const int next = next_up(steps, cur);
  if (steps.items[size_t(cur)].downgrade_only && now - last_change_ >= cfg_.reduced_rate_hold &&
      !(size_t(next) < steps.size && double(estimate) >= double(steps.items[size_t(next)].rate) * cfg_.upgrade_margin)) {
    // Full rate of this layer did not come back: the best full-rate step below (climbs
    // never target a reduced rate, so from_spatial -1 leaves them out).
    ++counters_.downgrades;
    change_to(steps, std::clamp(highest_fitting(steps, estimate, 1.0), 0, cur - 1), now);
    return {current_, std::nullopt};
  }
  if (size_t(next) >= steps.size) {
    above_since_.reset();
    return {current_, std::nullopt};
  }
  if (estimate_measured && double(estimate) >= double(steps.items[size_t(next)].rate) * cfg_.upgrade_margin) {
    if (!above_since_) above_since_ = now;
    if (now - *above_since_ >= cfg_.upgrade_hold) {
      ++counters_.upgrades;
      backoff_ = cfg_.probe_interval;
      next_probe_at_.reset();
      change_to(steps, std::max(highest_fitting(steps, estimate, cfg_.upgrade_margin), next), now);
    }
    return {current_, std::nullopt};
  }
  above_since_.reset();
  return {current_, maybe_probe(steps, next, now)};
}

std::optional<Bitrate> LayerSelector::maybe_probe(const Steps& steps, int next, Timestamp now) {
  if (probe_pending_) {
    if (now - probe_started_ < cfg_.probe_result_timeout) return std::nullopt;
    on_probe_failed(now);  // the session never answered: treat as failed
    return std::nullopt;
  }
  if (now - last_change_ < cfg_.stable_before_probe) return std::nullopt;
  if (next_probe_at_ && now < *next_probe_at_) return std::nullopt;
  probe_pending_ = true;
  probe_started_ = now;
  next_probe_at_ = now + backoff_;  // at most one probe per interval, even on success
  ++counters_.probes;
  return Bitrate(double(steps.items[size_t(next)].rate) * cfg_.probe_overshoot);
}

void LayerSelector::on_probe_result(bool success, Timestamp now) {
  if (!probe_pending_) return;
  probe_pending_ = false;
  if (!success) {
    on_probe_failed(now);
    return;
  }
  // The path carried more than before, though not yet enough for the next step (a probe
  // goes at most to 2x the estimate, or just above a ceiling found earlier): keep climbing
  // at the first interval instead of the backoff that failures under a cap left behind.
  backoff_ = cfg_.probe_interval;
  next_probe_at_ = now + backoff_;
}

void LayerSelector::on_probe_failed(Timestamp now) {
  probe_pending_ = false;
  ++counters_.probe_failures;
  next_probe_at_ = now + backoff_;
  backoff_ = std::min<Duration>(backoff_ * 2, cfg_.max_probe_interval);
}

}  // namespace strata::bwe
