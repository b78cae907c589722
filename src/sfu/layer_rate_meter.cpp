#include "sfu/layer_rate_meter.hpp"

#include <algorithm>

namespace strata::sfu {

void LayerRateMeter::roll(Timestamp now) {
  if (!started_) {
    started_ = true;
    bucket_start_ = now;
    return;
  }
  // Advance whole buckets, clearing those we step into (at most all of them).
  int steps = 0;
  while (now - bucket_start_ >= kBucket && steps <= kBuckets) {
    bucket_start_ += kBucket;
    current_ = (current_ + 1) % kBuckets;
    buckets_[size_t(current_)] = Bytes{};
    ++steps;
  }
  if (now - bucket_start_ >= kBucket) bucket_start_ = now;  // long silence: restart the grid
}

void LayerRateMeter::on_packet(int spatial, int temporal, size_t bytes, Timestamp now) {
  if (spatial < 0 || spatial >= kMaxSpatial) return;
  int t = std::clamp(temporal, 0, kMaxTemporal - 1);
  roll(now);
  buckets_[size_t(current_)][size_t(spatial)][size_t(t)] += bytes;
}

LayerRateMeter::Rates LayerRateMeter::rates(Timestamp now) {
  roll(now);
  Rates out{};
  // The current bucket is partial: use the kBuckets-1 complete ones before it.
  for (int b = 0; b < kBuckets; ++b) {
    if (b == current_) continue;
    for (size_t s = 0; s < kMaxSpatial; ++s)
      for (size_t t = 0; t < kMaxTemporal; ++t) out[s][t] += Bps(buckets_[size_t(b)][s][t]);
  }
  const double window_s = std::chrono::duration<double>(kBucket).count() * (kBuckets - 1);
  for (auto& layer : out) {
    Bps cumulative = 0;
    for (auto& r : layer) {
      cumulative += Bps(double(r) * 8 / window_s);
      r = cumulative;
    }
  }
  return out;
}

int LayerRateMeter::temporal_layers(Timestamp now) {
  roll(now);
  int highest = 0;
  for (auto& bucket : buckets_)
    for (auto& layer : bucket)
      for (int t = 0; t < kMaxTemporal; ++t)
        if (layer[size_t(t)] > 0) highest = std::max(highest, t);
  return highest + 1;
}

}  // namespace strata::sfu
