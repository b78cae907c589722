#include "sfu/nack_generator.hpp"

#include <algorithm>

#include "sfu/seq_math.hpp"

namespace strata::sfu {

NackGenerator::NackGenerator(NackConfig config) : config_(config) {}

bool NackGenerator::on_packet(uint16_t seq, Timestamp now, bool keyframe) {
  if (!started_) {
    started_ = true;
    highest_ = seq;
    return false;
  }
  const int64_t ext = unwrap_seq(highest_, seq);
  if (ext <= highest_) {
    // Late or retransmitted (RTX) packet: no longer missing.
    if (missing_.erase(ext) == 0) return false;
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

void NackGenerator::add_gap(int64_t from, int64_t to, Timestamp now) {
  if (to <= from) return;
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
  if (m.last_sent == kNever) return m.first_seen + config_.reorder_delay;
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
