#include "bwe/delay_detector.hpp"

#include <algorithm>
#include <cmath>

namespace strata::bwe {

namespace {
constexpr int64_t kBurstUs = 5'000;          // packets sent within 5 ms form one group
constexpr int64_t kMaxBurstDurationUs = 100'000;
constexpr int64_t kMaxArrivalJumpUs = 3'000'000;
constexpr double kSmoothing = 0.9;
constexpr double kThresholdGain = 4.0;
constexpr int kMaxDeltas = 60;
constexpr double kOveruseTimeMs = 10.0;
constexpr double kUp = 0.0087, kDown = 0.039;  // threshold adaptation (gcc-02 §5.4)
constexpr double kMinThreshold = 6.0, kMaxThreshold = 600.0;
}  // namespace

BandwidthUsage DelayDetector::on_packet(int64_t send_us, int64_t arrival_us, Timestamp now) {
  if (!cur_.valid) {
    cur_ = Group{send_us, send_us, arrival_us, arrival_us, true};
    return signal_;
  }
  if (send_us < cur_.first_send_us) return signal_;  // reordered: older than the group
  if (belongs_to_group(send_us, arrival_us)) {
    cur_.last_send_us = std::max(cur_.last_send_us, send_us);
    cur_.last_arrival_us = std::max(cur_.last_arrival_us, arrival_us);
    return signal_;
  }
  if (prev_.valid) on_group_complete(now);
  prev_ = cur_;
  cur_ = Group{send_us, send_us, arrival_us, arrival_us, true};
  return signal_;
}

bool DelayDetector::belongs_to_group(int64_t send_us, int64_t arrival_us) const {
  if (send_us - cur_.first_send_us <= kBurstUs) return true;
  // A burst that the network delivered faster than it was sent (e.g. after a queue
  // drained) belongs to the same group too, or it would look like underuse.
  const int64_t arrival_delta = arrival_us - cur_.last_arrival_us;
  const int64_t propagation_delta = arrival_delta - (send_us - cur_.last_send_us);
  return propagation_delta < 0 && arrival_delta <= kBurstUs &&
         arrival_us - cur_.first_arrival_us < kMaxBurstDurationUs;
}

void DelayDetector::on_group_complete(Timestamp now) {
  const int64_t send_delta = cur_.last_send_us - prev_.last_send_us;
  const int64_t arrival_delta = cur_.last_arrival_us - prev_.last_arrival_us;
  if (arrival_delta < 0 || arrival_delta > kMaxArrivalJumpUs) return;  // reordering / clock jump
  update_trend(double(arrival_delta - send_delta) / 1000.0, double(cur_.last_arrival_us) / 1000.0,
               double(send_delta) / 1000.0, now);
}

void DelayDetector::update_trend(double delay_ms, double arrival_ms, double send_delta_ms, Timestamp now) {
  num_deltas_ = std::min(num_deltas_ + 1, 1000);
  if (first_arrival_ms_ < 0) first_arrival_ms_ = arrival_ms;
  accumulated_ms_ += delay_ms;
  smoothed_ms_ = kSmoothing * smoothed_ms_ + (1 - kSmoothing) * accumulated_ms_;
  xs_[head_] = arrival_ms - first_arrival_ms_;
  ys_[head_] = smoothed_ms_;
  head_ = (head_ + 1) % kWindow;
  points_ = std::min(points_ + 1, kWindow);
  const double trend = points_ == kWindow ? slope() : prev_trend_;
  detect(trend, send_delta_ms, now);
}

double DelayDetector::slope() const {
  double mx = 0, my = 0;
  for (size_t i = 0; i < points_; ++i) { mx += xs_[i]; my += ys_[i]; }
  mx /= double(points_);
  my /= double(points_);
  double num = 0, den = 0;
  for (size_t i = 0; i < points_; ++i) {
    num += (xs_[i] - mx) * (ys_[i] - my);
    den += (xs_[i] - mx) * (xs_[i] - mx);
  }
  return den > 0 ? num / den : prev_trend_;
}

void DelayDetector::detect(double trend, double send_delta_ms, Timestamp now) {
  modified_trend_ = std::min(num_deltas_, kMaxDeltas) * trend * kThresholdGain;
  if (modified_trend_ > threshold_) {
    time_over_using_ms_ = time_over_using_ms_ < 0 ? send_delta_ms / 2 : time_over_using_ms_ + send_delta_ms;
    ++overuse_counter_;
    // Overuse only when it lasted, repeated and is not already getting better.
    if (time_over_using_ms_ > kOveruseTimeMs && overuse_counter_ > 1 && trend >= prev_trend_) {
      time_over_using_ms_ = 0;
      overuse_counter_ = 0;
      signal_ = BandwidthUsage::kOverusing;
    }
  } else if (modified_trend_ < -threshold_) {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    signal_ = BandwidthUsage::kUnderusing;
  } else {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    signal_ = BandwidthUsage::kNormal;
  }
  prev_trend_ = trend;
  update_threshold(modified_trend_, now);
}

void DelayDetector::update_threshold(double modified_trend, Timestamp now) {
  if (!threshold_updated_) {
    threshold_updated_ = true;
    last_threshold_update_ = now;
  }
  const double magnitude = std::fabs(modified_trend);
  // Spikes far above the threshold (e.g. a cross-traffic burst) must not drag it up.
  if (magnitude > threshold_ + 15.0) {
    last_threshold_update_ = now;
    return;
  }
  const double k = magnitude < threshold_ ? kDown : kUp;
  const double dt_ms = std::min<double>(double(to_millis(now - last_threshold_update_)), 100.0);
  threshold_ = std::clamp(threshold_ + k * (magnitude - threshold_) * dt_ms, kMinThreshold, kMaxThreshold);
  last_threshold_update_ = now;
}

}  // namespace strata::bwe
