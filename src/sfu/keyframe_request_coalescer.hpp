// Coalesces keyframe requests (PLI, RFC 4585 §6.3.1 / FIR, RFC 5104 §4.3.1) from any
// number of viewers or edges toward one producer encoding. Every PLI makes the encoder send
// a large keyframe, so at most one is sent per interval; requests inside the interval set a
// pending flag and exactly one request goes out when the interval expires, unless a
// keyframe arrives first (which satisfies everyone waiting). Like mediasoup's
// KeyFrameRequestManager, sans-IO: the caller runs the timer from next_timeout().
#pragma once
#include "common/time.hpp"

namespace strata::sfu {

class KeyframeRequestCoalescer {
 public:
  explicit KeyframeRequestCoalescer(Duration interval = std::chrono::seconds(1));

  // A viewer wants a keyframe. Returns true if a PLI should be sent now.
  bool request(Timestamp now);
  // When on_timeout() should be called (kNever when nothing is pending).
  Timestamp next_timeout() const;
  // Returns true if the pending request should be sent now.
  bool on_timeout(Timestamp now);
  // A keyframe arrived from the producer: pending requests are satisfied.
  void on_keyframe_received(Timestamp now);

  bool pending() const { return pending_; }
  uint64_t sent_count() const { return sent_; }

 private:
  bool interval_elapsed(Timestamp now) const { return !has_sent_ || now - last_sent_ >= interval_; }
  bool send(Timestamp now);

  Duration interval_;
  bool has_sent_ = false;
  Timestamp last_sent_{};
  bool pending_ = false;
  uint64_t sent_ = 0;
};

}  // namespace strata::sfu
