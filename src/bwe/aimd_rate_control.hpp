// AIMD rate control driven by the overuse signal (draft-ietf-rmcat-gcc-02 §5.5, after
// libwebrtc's AimdRateControl): multiplicative increase (8 %/s) far from the last known
// link capacity, additive (about one packet per response time) near it, and on overuse
// a decrease to 0.85 x the acknowledged bitrate, at most once per RTT.
#pragma once
#include <optional>

#include "bwe/bitrate.hpp"
#include "common/time.hpp"

namespace strata::bwe {

class AimdRateControl {
 public:
  AimdRateControl(Bitrate initial, Bitrate min, Bitrate max);

  Bitrate update(BandwidthUsage signal, std::optional<Bitrate> acked, Duration rtt, Timestamp now);
  // Jump (probe result): never lowers a measured estimate; the first one replaces the
  // initial guess, lower or not.
  void raise_to(Bitrate rate, Timestamp now);
  Bitrate estimate() const { return estimate_; }
  // False while the estimate is still the initial guess, or grew from it only by the
  // additive increase, which a path that carries the current layers never contradicts.
  bool measured() const { return measured_; }

 private:
  enum class State { kHold, kIncrease };
  void increase(std::optional<Bitrate> acked, Duration rtt, Timestamp now);
  void decrease(std::optional<Bitrate> acked, Duration rtt, Timestamp now);
  Bitrate clamp(Bitrate b) const;

  Bitrate estimate_, min_, max_;
  bool measured_ = false;  // an overuse or a probe has set the estimate (else: the guess)
  State state_ = State::kIncrease;
  std::optional<Timestamp> last_increase_;
  std::optional<Timestamp> last_decrease_;
  std::optional<Bitrate> link_capacity_;  // acked rate at the last decreases
};

}  // namespace strata::bwe
