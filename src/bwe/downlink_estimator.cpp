#include "bwe/downlink_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace strata::bwe {

namespace {
using namespace std::chrono_literals;
constexpr double kHighLoss = 0.10, kLowLoss = 0.02;  // goog_cc SendSideBandwidthEstimation
constexpr int64_t kMinLossSamplePackets = 20;
constexpr Duration kMinLossSampleTime = 200ms;
constexpr Duration kTwccStale = 2s;
constexpr int64_t kMaxDeltaUs = 1LL << 32;  // parsed deltas are 16-bit ticks; guards hand-built ones
constexpr int kMinProbePackets = 5;
constexpr double kProbeAckedShare = 0.8;
constexpr double kProbeBackoff = 0.95;    // jump to 95 % of what the probe measured
constexpr double kProbeSuccessShare = 0.85;  // measured >= 85 % of the probe rate
constexpr double kSaturatedShare = 0.85;     // of a saturated link's rate, as AIMD's beta
constexpr int64_t kMinDeliverySpanUs = 20'000;  // a probe's arrivals span this to tell a rate

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

DownlinkEstimator::DownlinkEstimator(EstimatorConfig cfg)
    : cfg_(cfg), history_(cfg.history_size, cfg.history_max), aimd_(cfg.initial, cfg.min, cfg.max), loss_bound_(cfg.max) {}

void DownlinkEstimator::observe(Timestamp now) { last_now_ = std::max(last_now_, now); }

bool DownlinkEstimator::twcc_active(Timestamp now) const { return last_twcc_ && now - *last_twcc_ < kTwccStale; }

DownlinkEstimator::Probe* DownlinkEstimator::probe_slot(int id) {
  if (id < 0) return nullptr;
  Probe& p = probes_[size_t(id) % kProbeSlots];
  return p.id == id ? &p : nullptr;
}

const DownlinkEstimator::Probe* DownlinkEstimator::probe_slot(int id) const {
  return const_cast<DownlinkEstimator*>(this)->probe_slot(id);
}

void DownlinkEstimator::on_packet_sent(uint16_t transport_seq, size_t bytes, Timestamp now, int probe_cluster) {
  observe(now);
  history_.add(transport_seq, bytes, now, probe_cluster);
  Probe* pr = probe_slot(probe_cluster);
  if (pr == nullptr || pr->result) return;
  const int64_t us = to_micros(now);
  if (pr->sent++ == 0) pr->first_probe_send_us = us;
  pr->last_probe_send_us = us;
}

void DownlinkEstimator::on_transport_feedback(const rtp::TransportFeedback& fb, Timestamp now) {
  observe(now);
  ++counters_.feedback;
  last_twcc_ = now;
  bool overuse = false;
  // Receive times: reference time, then each received packet's delta from the previous
  // one (transport-wide-cc-extensions-01 §3.1.5).
  int64_t arrival_us = fb.reference_time_us();
  for (const rtp::TwccPacketStatus& s : fb.packets) {
    if (s.received) arrival_us += std::clamp<int64_t>(s.delta_us, -kMaxDeltaUs, kMaxDeltaUs);
    SentPacket* p = history_.find(s.seq);
    if (p == nullptr) {
      ++counters_.unknown_seq;
      continue;
    }
    if (!s.received) {
      if (!p->reported) ++fb_lost_, ++fb_total_;
      p->reported = true;
      continue;
    }
    if (p->received) {
      ++counters_.duplicate;
      continue;
    }
    if (!p->reported) ++fb_total_;  // reported lost before and late now: the loss stays counted
    p->reported = p->received = true;
    acked_.on_received(arrival_us, p->bytes);
    if (p->send_us < newest_delay_send_us_) ++counters_.reordered;
    newest_delay_send_us_ = std::max(newest_delay_send_us_, p->send_us);
    overuse |= detector_.on_packet(p->send_us, arrival_us, now) == BandwidthUsage::kOverusing;
    account_probe(*p, arrival_us);
  }
  if (overuse) last_overuse_ = now;
  std::optional<Bitrate> acked = acked_.rate();
  // An overuse while a probe runs is the probe filling the link: its packets arrive at the
  // link's rate, while the 500 ms acked window still holds mostly the media sent before it.
  // Cutting from the window would sink the estimate far below a link just measured.
  if (overuse) {
    if (auto delivered = probe_delivery_rate()) acked = std::max(acked.value_or(0), *delivered);
  }
  aimd_.update(overuse ? BandwidthUsage::kOverusing : detector_.signal(), acked, rtt_, now);

  if (!loss_window_start_) loss_window_start_ = now;
  if (fb_total_ >= kMinLossSamplePackets && now - *loss_window_start_ >= kMinLossSampleTime) {
    on_loss_sample(double(fb_lost_) / double(fb_total_), now);
    fb_lost_ = fb_total_ = 0;
    loss_window_start_ = now;
  }
  decide_probes(now);
}

void DownlinkEstimator::on_remb(Bitrate bitrate, Timestamp now) {
  observe(now);
  remb_ = std::clamp(bitrate, cfg_.min, cfg_.max);
}

void DownlinkEstimator::on_receiver_report(uint8_t fraction_lost, std::optional<Duration> rtt, Timestamp now) {
  observe(now);
  if (rtt && rtt->count() > 0) rtt_ = *rtt;
  // With transport-cc the same losses already came in through the feedback.
  if (!twcc_active(now)) on_loss_sample(double(fraction_lost) / 256.0, now);
}

void DownlinkEstimator::on_loss_sample(double loss, Timestamp now) {
  loss_ = loss;
  const double dt = last_loss_update_ ? std::min(seconds(now - *last_loss_update_), 1.0) : 0.0;
  last_loss_update_ = now;
  if (loss > kHighLoss) {
    if (last_loss_decrease_ && now - *last_loss_decrease_ < 300ms + rtt_) return;
    // What still gets through is a floor: while a viewer waits for the keyframe of a lower
    // layer the loss persists, and compounding decreases would sink far below the link.
    Bitrate bound = Bitrate(double(target()) * (1.0 - 0.5 * loss));
    if (auto acked = acked_.rate()) bound = std::max(bound, Bitrate(double(*acked) * 0.85));
    loss_bound_ = std::max(cfg_.min, std::min(bound, loss_bound_));
    last_loss_decrease_ = now;
  } else if (loss < kLowLoss && loss_bound_ < cfg_.max) {
    loss_bound_ = std::min(cfg_.max, Bitrate(double(loss_bound_) * std::pow(1.08, dt)) + 1'000);
    Bitrate base = aimd_.estimate();
    if (remb_) base = std::min(base, *remb_);
    if (loss_bound_ >= 2 * base) loss_bound_ = cfg_.max;  // no longer the limit: release it
  }
}

void DownlinkEstimator::on_probe_started(int cluster_id, Bitrate rate, Timestamp now) {
  observe(now);
  if (cluster_id < 0) return;
  Probe& p = probes_[size_t(cluster_id) % kProbeSlots];
  p = Probe{};
  p.id = cluster_id;
  p.rate = rate;
  p.start = now;
}

void DownlinkEstimator::account_probe(const SentPacket& p, int64_t arrival_us) {
  for (Probe& pr : probes_) {
    if (pr.id < 0 || pr.result || pr.sent == 0) continue;
    if (p.probe_cluster == pr.id) {
      if (pr.received++ == 0) pr.acked_probe_first_us = p.send_us;
      pr.acked_probe_first_us = std::min(pr.acked_probe_first_us, p.send_us);
      pr.acked_probe_last_us = std::max(pr.acked_probe_last_us, p.send_us);
    }
    if (p.send_us < pr.first_probe_send_us || p.send_us > pr.last_probe_send_us) continue;
    if (pr.packets++ == 0) {
      pr.send_lo = pr.send_hi = p.send_us;
      pr.recv_lo = pr.recv_hi = arrival_us;
    }
    pr.bytes += p.bytes;
    pr.send_lo = std::min(pr.send_lo, p.send_us);
    pr.send_hi = std::max(pr.send_hi, p.send_us);
    pr.recv_lo = std::min(pr.recv_lo, arrival_us);
    pr.recv_hi = std::max(pr.recv_hi, arrival_us);
  }
}

// The rate at which the packets sent during the probe arrived (n packets over the span
// cover n-1 intervals).
std::optional<Bitrate> DownlinkEstimator::delivered(const Probe& pr) {
  const int64_t span = pr.recv_hi - pr.recv_lo;
  if (pr.packets < kMinProbePackets || span < kMinDeliverySpanUs) return std::nullopt;
  return Bitrate(double(pr.bytes) * 8e6 / double(span) * double(pr.packets - 1) / double(pr.packets));
}

std::optional<Bitrate> DownlinkEstimator::probe_delivery_rate() const {
  std::optional<Bitrate> best;
  for (const Probe& pr : probes_) {
    if (pr.id < 0 || pr.result) continue;
    if (auto rate = delivered(pr)) best = std::max(best.value_or(0), *rate);
  }
  return best;
}

// A probe filled the link: it carries about `measured`. That is also the best base for the
// estimate (what an overuse cuts to: kSaturatedShare of what got through), which climbing
// from the media's acked rate alone (x1.25 at most) would not reach.
void DownlinkEstimator::note_saturated(Bitrate measured, Timestamp now) {
  ceiling_ = measured;
  ceiling_at_ = now;
  aimd_.raise_to(Bitrate(double(measured) * kSaturatedShare), now);
}

std::optional<Bitrate> DownlinkEstimator::link_ceiling() const {
  if (!ceiling_ || last_now_ - ceiling_at_ >= kCeilingHold) return std::nullopt;
  return ceiling_;
}

void DownlinkEstimator::decide_probes(Timestamp now) {
  for (Probe& pr : probes_) {
    if (pr.id < 0 || pr.result) continue;
    if (now - pr.start > cfg_.probe_timeout) {
      // Too few probe packets acknowledged: the link dropped them, full at what got through.
      if (auto rate = delivered(pr); rate && pr.sent > 0 && double(*rate) < kProbeSuccessShare * double(pr.rate))
        note_saturated(*rate, now);
      pr.result = false;
      continue;
    }
    if (pr.received < kMinProbePackets || pr.received < kProbeAckedShare * pr.sent) continue;
    if (pr.acked_probe_last_us - pr.acked_probe_first_us < cfg_.probe_min_span.count()) continue;
    finish_probe(pr, now);
  }
}

void DownlinkEstimator::finish_probe(Probe& pr, Timestamp now) {
  const int64_t span = std::max(pr.send_hi - pr.send_lo, pr.recv_hi - pr.recv_lo);
  if (span <= 0 || pr.packets < 2) {
    pr.result = false;
    return;
  }
  // n packets over the span cover n-1 intervals; slower of send and receive rate.
  const double measured = double(pr.bytes) * 8e6 / double(span) * double(pr.packets - 1) / double(pr.packets);
  const bool overuse = last_overuse_ && *last_overuse_ >= pr.start;
  if (!overuse) {
    const Bitrate jump = std::min(pr.rate, Bitrate(measured * kProbeBackoff));
    aimd_.raise_to(jump, now);
    if (loss_ < kLowLoss) loss_bound_ = std::max(loss_bound_, jump);
  }
  pr.result = !overuse && measured >= kProbeSuccessShare * double(pr.rate);
  if (measured < kProbeSuccessShare * double(pr.rate)) {
    note_saturated(Bitrate(measured), now);  // the link delivered less than was sent
  } else if (*pr.result && ceiling_ && pr.rate > *ceiling_) {
    ceiling_.reset();  // the link carries more now
  }
}

std::optional<bool> DownlinkEstimator::probe_result(int cluster_id) const {
  const Probe* pr = probe_slot(cluster_id);
  if (pr == nullptr) return std::nullopt;
  if (!pr->result && last_now_ - pr->start > cfg_.probe_timeout) return false;
  return pr->result;
}

Bitrate DownlinkEstimator::target() const {
  Bitrate base = aimd_.estimate();
  if (remb_) base = twcc_active(last_now_) ? std::min(base, *remb_) : *remb_;
  return std::clamp(std::min(base, loss_bound_), cfg_.min, cfg_.max);
}

bool DownlinkEstimator::measured() const {
  return aimd_.measured() || remb_.has_value() || loss_bound_ < cfg_.max;
}

EstimatorState DownlinkEstimator::state() const {
  return EstimatorState{target(), acked_.rate().value_or(0), loss_, rtt_, to_string(detector_.signal())};
}

}  // namespace strata::bwe
