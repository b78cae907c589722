#include "sfu/layer_rate_meter.hpp"

#include <algorithm>

namespace strata::sfu {

void LayerRateMeter::roll(Timestamp now) {
  if (!started_) {
    started_ = true;
    bucket_start_ = now;
    complete_ = 0;
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
  complete_ = std::min(complete_ + steps, kBuckets - 1);
  if (now - bucket_start_ >= kBucket) {  // long silence: restart the grid
    bucket_start_ = now;
    complete_ = 0;
  }
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
  // A full window: the kBuckets-1 complete buckets (the current one is partial). A meter
  // that started less than a window ago (a new viewer, a slot's new host, a source back
  // from silence) divides what it has by the time it has seen, current bucket included;
  // dividing by the whole window would make every layer look several times cheaper than
  // it is and let the selector start on the top layer.
  const bool full = complete_ >= kBuckets - 1;
  for (int b = 0; b < kBuckets; ++b) {
    if (b == current_ && full) continue;
    for (size_t s = 0; s < kMaxSpatial; ++s)
      for (size_t t = 0; t < kMaxTemporal; ++t) out[s][t] += Bps(buckets_[size_t(b)][s][t]);
  }
  const Duration seen = full ? kBucket * (kBuckets - 1)
                             : std::max<Duration>(kBucket * complete_ + (now - bucket_start_), kMinWindow);
  const double window_s = std::chrono::duration<double>(seen).count();
  for (auto& layer : out) {
    Bps cumulative = 0;
    for (auto& r : layer) {
      cumulative += Bps(double(r) * 8 / window_s);
      r = cumulative;
    }
  }
  return out;
}

bool LayerRateMeter::young(Timestamp now) {
  roll(now);
  return !started_ || kBucket * complete_ + (now - bucket_start_) < kSettle;
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
