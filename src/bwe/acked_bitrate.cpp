#include "bwe/acked_bitrate.hpp"

#include <algorithm>

namespace strata::bwe {

int64_t AckedBitrate::bucket_of(int64_t us) {
  return us >= 0 ? us / kBucketUs : -((-us + kBucketUs - 1) / kBucketUs);
}

void AckedBitrate::on_received(int64_t arrival_us, size_t bytes) {
  const int64_t b = bucket_of(arrival_us);
  if (!started_) {
    started_ = true;
    newest_bucket_ = b;
    first_arrival_us_ = newest_arrival_us_ = arrival_us;
  }
  if (b > newest_bucket_) {
    const int64_t steps = std::min<int64_t>(b - newest_bucket_, int64_t(kBuckets));
    for (int64_t i = 1; i <= steps; ++i) bytes_[size_t((newest_bucket_ + i) % int64_t(kBuckets) + kBuckets) % kBuckets] = 0;
    newest_bucket_ = b;
  }
  if (b <= newest_bucket_ - int64_t(kBuckets)) return;  // older than the window
  bytes_[size_t((b % int64_t(kBuckets) + int64_t(kBuckets)) % int64_t(kBuckets))] += int64_t(bytes);
  newest_arrival_us_ = std::max(newest_arrival_us_, arrival_us);
  first_arrival_us_ = std::min(first_arrival_us_, arrival_us);
}

std::optional<Bitrate> AckedBitrate::rate() const {
  if (!started_) return std::nullopt;
  const int64_t window = int64_t(kBuckets - 1) * kBucketUs + (newest_arrival_us_ - newest_bucket_ * kBucketUs);
  const int64_t span = std::min(window, newest_arrival_us_ - first_arrival_us_);
  if (span < 50'000) return std::nullopt;
  int64_t total = 0;
  for (int64_t v : bytes_) total += v;
  return total * 8 * 1'000'000 / span;
}

}  // namespace strata::bwe
