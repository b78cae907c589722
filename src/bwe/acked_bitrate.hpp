// Acknowledged (received) bitrate over a sliding window of receive time, from
// transport-cc feedback. Fixed buckets: no allocation per packet.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "bwe/bitrate.hpp"

namespace strata::bwe {

class AckedBitrate {
 public:
  void on_received(int64_t arrival_us, size_t bytes);
  // nullopt until 50 ms of receive time have been seen.
  std::optional<Bitrate> rate() const;

 private:
  static constexpr int64_t kBucketUs = 25'000;
  static constexpr size_t kBuckets = 20;  // 500 ms window
  static int64_t bucket_of(int64_t us);

  std::array<int64_t, kBuckets> bytes_{};
  bool started_ = false;
  int64_t newest_bucket_ = 0;
  int64_t first_arrival_us_ = 0, newest_arrival_us_ = 0;
};

}  // namespace strata::bwe
