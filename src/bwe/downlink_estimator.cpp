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

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

DownlinkEstimator::DownlinkEstimator(EstimatorConfig cfg)
    : cfg_(cfg), history_(cfg.history_size), aimd_(cfg.initial, cfg.min, cfg.max), loss_bound_(cfg.max) {}

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
  aimd_.update(overuse ? BandwidthUsage::kOverusing : detector_.signal(), acked_.rate(), rtt_, now);

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

void DownlinkEstimator::decide_probes(Timestamp now) {
  for (Probe& pr : probes_) {
    if (pr.id < 0 || pr.result) continue;
    if (now - pr.start > cfg_.probe_timeout) {
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

EstimatorState DownlinkEstimator::state() const {
  return EstimatorState{target(), acked_.rate().value_or(0), loss_, rtt_, to_string(detector_.signal())};
}

}  // namespace strata::bwe
