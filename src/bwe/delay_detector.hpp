// Delay-based overuse detection, after libwebrtc's InterArrival + TrendlineEstimator
// (and draft-ietf-rmcat-gcc-02 §5): packets are grouped into send bursts, the change of
// one-way delay between consecutive groups is accumulated and smoothed, and the slope of
// that curve over the last 20 groups (least squares) is compared with an adaptive
// threshold. A growing queue gives a positive slope (overuse), a draining one negative.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "bwe/bitrate.hpp"
#include "common/time.hpp"

namespace strata::bwe {

class DelayDetector {
 public:
  // Feed received packets in send order; send/arrival in microseconds (arrival on the
  // receiver's clock: only differences matter). Returns the current signal.
  BandwidthUsage on_packet(int64_t send_us, int64_t arrival_us, Timestamp now);
  BandwidthUsage signal() const { return signal_; }
  double modified_trend() const { return modified_trend_; }
  double threshold() const { return threshold_; }

 private:
  struct Group {
    int64_t first_send_us = 0, last_send_us = 0;
    int64_t first_arrival_us = 0, last_arrival_us = 0;
    bool valid = false;
  };

  bool belongs_to_group(int64_t send_us, int64_t arrival_us) const;
  void on_group_complete(Timestamp now);
  void update_trend(double delay_ms, double arrival_ms, double send_delta_ms, Timestamp now);
  double slope() const;
  void detect(double trend, double send_delta_ms, Timestamp now);
  void update_threshold(double modified_trend, Timestamp now);

  static constexpr size_t kWindow = 20;
  Group prev_, cur_;
  std::array<double, kWindow> xs_{}, ys_{};
  size_t points_ = 0, head_ = 0;
  int num_deltas_ = 0;
  double first_arrival_ms_ = -1;
  double accumulated_ms_ = 0, smoothed_ms_ = 0;
  double prev_trend_ = 0, modified_trend_ = 0;
  double threshold_ = 12.5;
  Timestamp last_threshold_update_{};
  bool threshold_updated_ = false;
  double time_over_using_ms_ = -1;
  int overuse_counter_ = 0;
  BandwidthUsage signal_ = BandwidthUsage::kNormal;
};

}  // namespace strata::bwe
