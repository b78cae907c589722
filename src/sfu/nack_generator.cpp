#include "sfu/nack_generator.hpp"

#include <algorithm>

#include "sfu/seq_math.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

// A widened reorder window shrinks halfway back toward the configured one after this long
// without another out-of-order arrival (a path's reordering comes and goes with routes).
constexpr Duration kReorderMemory = 5s;

}  // namespace

NackConfig relay_nack_config() {
  NackConfig c;
  c.reorder_delay = 5ms;
  c.max_reorder_delay = 30ms;
  c.min_retry_interval = 20ms;
  c.initial_rtt = 100ms;
  c.max_retries = 6;
  c.max_age = 1500ms;
  return c;
}

NackGenerator::NackGenerator(NackConfig config) : config_(config), reorder_window_(config.reorder_delay) {}

// RFC 6298 §2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R. The first
// sample starts SRTT at R with no variation (a steady path then retries after exactly one RTT).
void NackGenerator::set_rtt(Duration rtt) {
  if (rtt < Duration(0)) return;
  if (!have_rtt_) {
    have_rtt_ = true;
    srtt_ = rtt;
    rttvar_ = Duration(0);
    return;
  }
  const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
  rttvar_ = (3 * rttvar_ + err) / 4;
  srtt_ = (7 * srtt_ + rtt) / 8;
}

Duration NackGenerator::retry_interval() const {
  const Duration rtt = have_rtt_ ? srtt_ + 2 * rttvar_ : config_.initial_rtt;
  return std::max(rtt, config_.min_retry_interval);
}

bool NackGenerator::on_packet(uint16_t seq, Timestamp now, bool keyframe) {
  if (!started_) {
    started_ = true;
    highest_ = seq;
    return false;
  }
  const int64_t ext = unwrap_seq(highest_, seq);
  if (ext <= highest_) {
    // Late or retransmitted (RTX) packet: no longer missing.
    auto it = missing_.find(ext);
    if (it == missing_.end()) return false;
    on_filled(it->second, now);
    missing_.erase(it);
    ++recovered_;
    return true;
  }
  if (keyframe) {
    // A decoder restarts from this keyframe: nothing before it is needed any more.
    missing_.clear();
    keyframe_needed_ = false;
  } else {
    add_gap(highest_ + 1, ext, now);
  }
  highest_ = ext;
  forget_before(highest_ - config_.max_packet_age);
  return false;
}

// A packet that shows up before any NACK for it could have been answered was reordered,
// not lost: widen the window to its lateness so the next one like it costs no NACK.
void NackGenerator::on_filled(const Missing& m, Timestamp now) {
  const bool never_nacked = m.last_sent == kNever;
  const bool too_soon_for_answer = !never_nacked && now - m.last_sent < retry_interval() / 2;
  if (!never_nacked && !too_soon_for_answer) return;
  ++reordered_;
  if (config_.max_reorder_delay <= config_.reorder_delay) return;  // fixed window
  const Duration lateness = now - m.first_seen + 1ms;
  reorder_window_ = std::clamp(std::max(reorder_window_, lateness), config_.reorder_delay, config_.max_reorder_delay);
  last_reorder_ = now;
}

void NackGenerator::add_gap(int64_t from, int64_t to, Timestamp now) {
  if (to <= from) return;
  if (reorder_window_ > config_.reorder_delay && now - last_reorder_ > kReorderMemory) {
    reorder_window_ = std::max(config_.reorder_delay, reorder_window_ / 2);
    last_reorder_ = now;
  }
  if (size_t(to - from) > config_.max_missing) {
    // Too much lost to repair by retransmission (RFC 4585 §3.5.2 style fallback to PLI).
    missing_.clear();
    keyframe_needed_ = true;
    return;
  }
  for (int64_t s = from; s < to; ++s) missing_.emplace_hint(missing_.end(), s, Missing{now});
  while (missing_.size() > config_.max_missing) {
    missing_.erase(missing_.begin());
    keyframe_needed_ = true;
  }
}

void NackGenerator::forget_before(int64_t ext_seq) {
  auto end = missing_.lower_bound(ext_seq);
  if (end == missing_.begin()) return;
  missing_.erase(missing_.begin(), end);
  keyframe_needed_ = true;
}

void NackGenerator::give_up(std::map<int64_t, Missing>::iterator& it) {
  it = missing_.erase(it);
  keyframe_needed_ = true;
}

Timestamp NackGenerator::due_time(const Missing& m) const {
  if (m.last_sent == kNever) return m.first_seen + reorder_window_;
  return m.last_sent + retry_interval();
}

void NackGenerator::collect(Timestamp now, std::vector<uint16_t>& out) {
  for (auto it = missing_.begin(); it != missing_.end();) {
    Missing& m = it->second;
    if (now - m.first_seen > config_.max_age) {
      give_up(it);
      continue;
    }
    if (now < due_time(m)) {
      ++it;
      continue;
    }
    if (m.retries >= config_.max_retries) {
      give_up(it);
      continue;
    }
    out.push_back(uint16_t(it->first));
    m.last_sent = now;
    ++m.retries;
    ++nacks_sent_;
    ++it;
  }
}

std::vector<uint16_t> NackGenerator::collect(Timestamp now) {
  std::vector<uint16_t> out;
  collect(now, out);
  return out;
}

Timestamp NackGenerator::next_due() const {
  Timestamp next = kNever;
  for (const auto& [seq, m] : missing_) {
    next = std::min({next, due_time(m), m.first_seen + config_.max_age + Duration(1)});
  }
  return next;
}

bool NackGenerator::take_keyframe_needed() {
  const bool needed = keyframe_needed_;
  keyframe_needed_ = false;
  return needed;
}

}  // namespace strata::sfu
