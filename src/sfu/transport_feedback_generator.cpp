#include "sfu/transport_feedback_generator.hpp"

#include <algorithm>

#include "sfu/seq_math.hpp"

namespace strata::sfu {

namespace {

using rtp::kTwccDeltaTickUs;
using rtp::kTwccReferenceTickUs;

constexpr int64_t kTicksPerReference = kTwccReferenceTickUs / kTwccDeltaTickUs;  // 256

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The reference time field is a 24-bit signed count of 64 ms (§3.1); the sender unwraps it.
int32_t to_reference_field(int64_t reference_ticks) {
  return int32_t(uint32_t(reference_ticks & 0xFFFFFF) << 8) >> 8;
}

// Worst-case bytes for `statuses` status symbols (a 2-bit status vector chunk holds 7)
// plus the receive deltas already counted in `delta_bytes` (§3.1.3, §3.1.5).
size_t fci_bytes(size_t statuses, size_t delta_bytes) {
  return 2 * ((statuses + 6) / 7) + delta_bytes;
}

}  // namespace

TransportFeedbackGenerator::TransportFeedbackGenerator(uint32_t sender_ssrc, Duration interval)
    : sender_ssrc_(sender_ssrc), interval_(interval), arrivals_(size_t(kHistorySize), kNotReceived) {
  scratch_.packets.reserve(kMaxFeedbackBytes / 2 * 7);  // most statuses one feedback can hold
}

void TransportFeedbackGenerator::on_packet(uint32_t media_ssrc, uint16_t transport_seq, Timestamp arrival) {
  const int64_t ext = started_ ? unwrap_seq(highest_, transport_seq) : int64_t(transport_seq);
  if (!started_) {
    started_ = true;
    next_unreported_ = ext;
    highest_ = ext - 1;
  }
  if (ext < next_unreported_) {
    ++counters_.late;  // already reported (as lost, or it is a duplicate): too late now
    return;
  }
  // After an idle period the periodic timer restarts from this packet instead of firing
  // at once for a single packet.
  if (pending_count() == 0 && next_due_ < arrival) next_due_ = arrival + interval_;
  if (ext > highest_) advance_highest(ext);
  int64_t& at = slot(ext);
  if (at != kNotReceived) {
    ++counters_.duplicates;
    return;
  }
  at = to_micros(arrival);
  media_ssrc_ = media_ssrc;
  last_arrival_ = arrival;
  ++counters_.packets;
}

// Makes `ext_seq` the highest: slots between the old highest and it become "not received"
// (they may still be filled by reordered packets), and the window start moves up so the
// unreported range never exceeds the ring.
void TransportFeedbackGenerator::advance_highest(int64_t ext_seq) {
  const int64_t window_start = ext_seq - kHistorySize + 1;
  if (next_unreported_ < window_start) {
    counters_.dropped += uint64_t(window_start - next_unreported_);
    next_unreported_ = window_start;
  }
  for (int64_t s = std::max(highest_ + 1, window_start); s <= ext_seq; ++s) slot(s) = kNotReceived;
  highest_ = ext_seq;
}

bool TransportFeedbackGenerator::collect(Timestamp now, Bytes& out) {
  if (pending_count() == 0 || now < next_due()) return false;
  bool appended = false;
  while (pending_count() > 0) {
    build_one(scratch_);
    if (rtp::append_transport_feedback(out, scratch_)) {
      appended = true;
      ++counters_.feedback_packets;
    }
  }
  next_due_ = now + interval_;
  return appended;
}

Timestamp TransportFeedbackGenerator::next_due() const {
  const int64_t pending = pending_count();
  if (pending == 0) return kNever;
  if (pending >= kEarlyFeedbackPackets) return std::min(next_due_, last_arrival_);
  return next_due_;
}

// §3.1: reference time is the first received packet's arrival rounded down to 64 ms; each
// receive delta is the (250 us quantized) arrival time minus the previous received
// packet's, the first one minus the reference time. Quantizing absolute times rather than
// each delta keeps rounding errors from accumulating across a feedback.
void TransportFeedbackGenerator::build_one(rtp::TransportFeedback& fb) {
  fb.sender_ssrc = sender_ssrc_;
  fb.media_ssrc = media_ssrc_;
  fb.base_seq = uint16_t(next_unreported_);
  fb.fb_pkt_count = fb_pkt_count_++;  // §3.1: wraps at 8 bits
  fb.reference_time = last_reference_time_;
  fb.packets.clear();

  bool have_reference = false;
  int64_t previous_tick = 0;
  size_t delta_bytes = 0;
  int64_t s = next_unreported_;
  for (; s <= highest_ && fb.packets.size() < 0xFFFF; ++s) {
    const uint16_t seq = uint16_t(s);
    const int64_t arrival_us = slot(s);
    if (arrival_us == kNotReceived) {
      if (fci_bytes(fb.packets.size() + 1, delta_bytes) > kMaxFeedbackBytes) break;
      fb.packets.push_back({seq, false, 0});
      continue;
    }
    const int64_t tick = floor_div(arrival_us, kTwccDeltaTickUs);
    if (!have_reference) {
      const int64_t reference = floor_div(arrival_us, kTwccReferenceTickUs);
      fb.reference_time = to_reference_field(reference);
      previous_tick = reference * kTicksPerReference;
      have_reference = true;
    }
    const int64_t delta = tick - previous_tick;
    if (delta < INT16_MIN || delta > INT16_MAX) break;  // next feedback gets its own reference
    const size_t cost = (delta >= 0 && delta <= 255) ? 1 : 2;
    if (fci_bytes(fb.packets.size() + 1, delta_bytes + cost) > kMaxFeedbackBytes) break;
    fb.packets.push_back({seq, true, delta * kTwccDeltaTickUs});
    delta_bytes += cost;
    previous_tick = tick;
  }
  last_reference_time_ = fb.reference_time;
  next_unreported_ = s;
}

}  // namespace strata::sfu
