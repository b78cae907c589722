// The retransmission timeout (RFC 9260 §6.3.1): SRTT and RTTVAR from RTT measurements (one at
// a time, never on retransmitted chunks: Karn's rule, §6.3.1 C5), doubled on each T3 or T1
// expiry (§6.3.3 E2) and clamped. The bounds are WebRTC's rather than the RFC's 1 s minimum:
// a data channel shares the media's path and its RTT of tens of milliseconds.
#pragma once
#include <algorithm>
#include <chrono>

#include "common/time.hpp"

namespace strata::sctp {

struct RtoConfig {
  Duration initial = std::chrono::milliseconds(1000);
  Duration min = std::chrono::milliseconds(200);
  Duration max = std::chrono::milliseconds(10000);
};

class Rto {
 public:
  explicit Rto(const RtoConfig& c = {}) : config_(c), rto_(c.initial) {}

  void on_rtt(Duration r) {
    if (!measured_) {
      srtt_ = r;
      rttvar_ = r / 2;
      measured_ = true;
    } else {
      const Duration diff = srtt_ > r ? srtt_ - r : r - srtt_;
      rttvar_ = (rttvar_ * 3 + diff) / 4;  // beta 1/4
      srtt_ = (srtt_ * 7 + r) / 8;         // alpha 1/8
    }
    rto_ = std::clamp(srtt_ + std::max(rttvar_ * 4, Duration(1000)), config_.min, config_.max);
  }
  void back_off() { rto_ = std::min(rto_ * 2, config_.max); }
  Duration value() const { return rto_; }
  Duration srtt() const { return srtt_; }
  bool measured() const { return measured_; }

 private:
  RtoConfig config_;
  Duration rto_;
  Duration srtt_{0};
  Duration rttvar_{0};
  bool measured_ = false;
};

}  // namespace strata::sctp
