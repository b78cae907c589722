// Bit rate of each simulcast layer of a source, split by temporal layer, as one consumer
// sees it (every packet of every layer reaches a layer-selecting consumer). The selector
// compares these rates with the viewer's downlink estimate. Per packet: one add into the
// current bucket; rates are computed over the last kWindow of whole buckets.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "common/time.hpp"

namespace strata::sfu {

class LayerRateMeter {
 public:
  static constexpr int kMaxSpatial = 4;
  static constexpr int kMaxTemporal = 3;
  static constexpr Duration kBucket = std::chrono::milliseconds(250);
  // A 2 s window (7 complete buckets): long enough that a keyframe does not look like a
  // new bit rate to the selector.
  static constexpr int kBuckets = 8;
  // A meter younger than this divides by this (a first packet is not a rate).
  static constexpr Duration kMinWindow = std::chrono::milliseconds(100);
  using Bps = int64_t;
  // cumulative[s][t]: bits/s of spatial layer s counting temporal layers 0..t.
  using Rates = std::array<std::array<Bps, kMaxTemporal>, kMaxSpatial>;

  // `temporal` < 0 when the payload carries no temporal layer id (counted as layer 0).
  void on_packet(int spatial, int temporal, size_t bytes, Timestamp now);
  Rates rates(Timestamp now);
  // Less than kSettle of the source seen since the meter (re)started: its rates are guesses.
  static constexpr Duration kSettle = std::chrono::milliseconds(500);
  bool young(Timestamp now);
  // Highest temporal layer id seen in the window + 1 (1 when the source has none).
  int temporal_layers(Timestamp now);

 private:
  void roll(Timestamp now);
  using Bytes = std::array<std::array<uint64_t, kMaxTemporal>, kMaxSpatial>;
  std::array<Bytes, kBuckets> buckets_{};
  int current_ = 0;
  int complete_ = 0;  // complete buckets since the meter (re)started, at most kBuckets - 1
  Timestamp bucket_start_{};
  bool started_ = false;
};

}  // namespace strata::sfu
