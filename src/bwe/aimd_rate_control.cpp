#include "bwe/aimd_rate_control.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace strata::bwe {

namespace {
using namespace std::chrono_literals;
constexpr double kBeta = 0.85;
constexpr double kIncreasePerSecond = 1.08;
// No increase beyond 1.25 x what actually got through (libwebrtc: 1.5): climbing further
// than that must be earned by a probe, so an idle link does not fake capacity.
constexpr double kAckedHeadroom = 1.25;
constexpr Bitrate kAckedSlack = 10'000;
constexpr Bitrate kPacketBits = 1200 * 8;
}  // namespace

AimdRateControl::AimdRateControl(Bitrate initial, Bitrate min, Bitrate max)
    : estimate_(std::clamp(initial, min, max)), min_(min), max_(max) {}

Bitrate AimdRateControl::clamp(Bitrate b) const { return std::clamp(b, min_, max_); }

Bitrate AimdRateControl::update(BandwidthUsage signal, std::optional<Bitrate> acked, Duration rtt, Timestamp now) {
  switch (signal) {
    case BandwidthUsage::kOverusing:
      decrease(acked, rtt, now);
      state_ = State::kHold;
      last_increase_.reset();
      break;
    case BandwidthUsage::kUnderusing:
      // The queue is draining: hold until it is empty, then probe upwards again.
      state_ = State::kHold;
      last_increase_.reset();
      break;
    case BandwidthUsage::kNormal:
      state_ = State::kIncrease;
      increase(acked, rtt, now);
      break;
  }
  return estimate_;
}

void AimdRateControl::increase(std::optional<Bitrate> acked, Duration rtt, Timestamp now) {
  if (!last_increase_) {
    last_increase_ = now;
    return;
  }
  const double dt = std::min(std::chrono::duration<double>(now - *last_increase_).count(), 1.0);
  last_increase_ = now;
  if (dt <= 0) return;
  if (link_capacity_ && acked && *acked > *link_capacity_ * 13 / 10) link_capacity_.reset();  // link got better
  Bitrate step = 0;
  if (link_capacity_ && estimate_ < *link_capacity_ * 5 / 4) {
    const double response_s = std::chrono::duration<double>(rtt + 100ms).count();
    step = std::max<Bitrate>(Bitrate(double(kPacketBits) / response_s * dt), 1'000);
  } else {
    step = std::max<Bitrate>(Bitrate(double(estimate_) * (std::pow(kIncreasePerSecond, dt) - 1.0)), 1'000);
  }
  Bitrate next = estimate_ + step;
  if (acked) next = std::min(next, Bitrate(double(*acked) * kAckedHeadroom) + kAckedSlack);
  estimate_ = clamp(std::max(next, estimate_));
}

void AimdRateControl::decrease(std::optional<Bitrate> acked, Duration rtt, Timestamp now) {
  const Duration wait = std::clamp<Duration>(rtt, 10ms, 200ms);
  if (last_decrease_ && now - *last_decrease_ < wait) return;
  Bitrate next = Bitrate(double(acked.value_or(estimate_)) * kBeta);
  if (next > estimate_ && link_capacity_) next = Bitrate(double(*link_capacity_) * kBeta);
  estimate_ = clamp(std::min(next, estimate_));
  measured_ = true;
  if (acked) {
    const bool outlier = link_capacity_ && (*acked < *link_capacity_ * 7 / 10 || *acked > *link_capacity_ * 13 / 10);
    link_capacity_ = (!link_capacity_ || outlier) ? *acked : (*link_capacity_ * 4 + *acked) / 5;
  }
  last_decrease_ = now;
}

void AimdRateControl::raise_to(Bitrate rate, Timestamp now) {
  // The first measurement replaces the initial guess even when it is lower: a probe showed
  // the path carries `rate`, never the guess above it. (Kept, a 1 Mbit/s guess behind a
  // 1 Mbit/s cap counted as measured after a 0.5 Mbit/s probe, and the viewer's layers were
  // raised into the cap.)
  if (!measured_) {
    measured_ = true;
    estimate_ = clamp(rate);
    last_increase_ = now;
    return;
  }
  if (rate <= estimate_) return;
  estimate_ = clamp(rate);
  if (link_capacity_ && estimate_ > *link_capacity_) link_capacity_.reset();
  last_increase_ = now;
}

}  // namespace strata::bwe
