#include "sfu/keyframe_request_coalescer.hpp"

namespace strata::sfu {

KeyframeRequestCoalescer::KeyframeRequestCoalescer(Duration interval) : interval_(interval) {}

bool KeyframeRequestCoalescer::request(Timestamp now) {
  if (interval_elapsed(now)) return send(now);
  pending_ = true;
  return false;
}

Timestamp KeyframeRequestCoalescer::next_timeout() const {
  return pending_ ? last_sent_ + interval_ : kNever;
}

bool KeyframeRequestCoalescer::on_timeout(Timestamp now) {
  if (!pending_ || !interval_elapsed(now)) return false;
  return send(now);
}

void KeyframeRequestCoalescer::on_keyframe_received(Timestamp now) { pending_ = false; }

bool KeyframeRequestCoalescer::send(Timestamp now) {
  has_sent_ = true;
  last_sent_ = now;
  pending_ = false;
  ++sent_;
  return true;
}

}  // namespace strata::sfu
