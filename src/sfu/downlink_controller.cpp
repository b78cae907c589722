#include "sfu/downlink_controller.hpp"

#include <algorithm>

#include "room/slot_budget.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::sfu {

DownlinkController::DownlinkController(std::shared_ptr<ViewerLayerStats> stats)
    : stats_(stats ? std::move(stats) : std::make_shared<ViewerLayerStats>()),
      estimator_(bwe::EstimatorConfig{.history_size = kSendHistory, .history_max = kSendHistoryMax}),
      sequencer_(this) {}

void DownlinkController::on_transport_packet_sent(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) {
  estimator_.on_packet_sent(seq, bytes, now, probe_cluster);
}

bool DownlinkController::on_rtcp(const rtp::RtcpPacketView& v, Timestamp now) {
  if (auto fb = rtp::parse_transport_feedback(v)) {
    estimator_.on_transport_feedback(*fb, now);
    have_feedback_ = true;
    return true;
  }
  if (auto remb = rtp::parse_remb(v)) {
    estimator_.on_remb(bwe::Bitrate(remb->bitrate_bps), now);
    have_feedback_ = true;
    return true;
  }
  return false;
}

void DownlinkController::on_report_block(const rtp::ReportBlock& block, std::optional<Duration> rtt, Timestamp now) {
  estimator_.on_receiver_report(block.fraction_lost, rtt, now);
}

bwe::LayerRates DownlinkController::layer_rates(Consumer& video, Timestamp now) {
  LayerRateMeter& meter = video.layer_rates();
  auto measured = meter.rates(now);
  bwe::LayerRates r;
  r.spatial_layers = int(std::min<uint32_t>(video.info().source_layers, LayerRateMeter::kMaxSpatial));
  r.temporal_layers = meter.temporal_layers(now);
  r.young = meter.young(now);
  for (size_t s = 0; s < r.rate.size() && s < measured.size(); ++s)
    for (size_t t = 0; t < r.rate[s].size() && t < measured[s].size(); ++t) r.rate[s][t] = measured[s][t];
  return r;
}

void DownlinkController::select(std::span<const DownlinkSlot> slots, Timestamp now) {
  if (selectors_.size() < slots.size()) selectors_.resize(slots.size());
  const bwe::Bitrate estimate = estimator_.target();
  std::vector<room::SlotKind> kinds;
  bwe::Bitrate audio = 0;
  for (const DownlinkSlot& s : slots) {
    kinds.push_back(!s.filled ? room::SlotKind::kEmpty : s.favored ? room::SlotKind::kFavored : room::SlotKind::kRegular);
    if (s.filled && s.has_audio) audio += kAudioAllowance;
  }
  const bwe::Bitrate for_video = std::max<bwe::Bitrate>(0, estimate - audio);
  const room::BudgetConfig budget;
  const auto shares = room::split_downlink(uint64_t(for_video), kinds, budget);
  auto weight = [&](room::SlotKind k) -> uint64_t {
    return k == room::SlotKind::kFavored ? budget.favored_weight : k == room::SlotKind::kRegular ? budget.regular_weight : 0;
  };
  uint64_t weights = 0;
  for (room::SlotKind k : kinds) weights += weight(k);
  media_rate_ = audio;
  for (size_t i = 0; i < slots.size(); ++i) {
    Consumer* video = slots[i].video;
    SlotLayerStats* slot_stats = stats_->slot(i);
    if (slot_stats) slot_stats->requested.store(video ? video->max_layer() : -1, std::memory_order_relaxed);
    if (!slots[i].filled || !video || !video->selects_layers()) {
      if (slot_stats) slot_stats->current.store(-1, std::memory_order_relaxed);
      continue;
    }
    bwe::LayerRates rates = layer_rates(*video, now);
    auto decision = selectors_[i].update(bwe::Bitrate(shares[i]), rates, video->max_layer(), now, estimator_.measured());
    video->set_target(decision.target.spatial, decision.target.temporal);
    int cur = video->current_layer();
    bwe::Bitrate layer_rate = 0;
    if (cur >= 0 && cur < int(rates.rate.size())) {
      int t = video->temporal_layer() >= 0 ? video->temporal_layer() : rates.temporal_layers - 1;
      layer_rate = rates.rate[size_t(cur)][size_t(std::clamp(t, 0, int(rates.rate[0].size()) - 1))];
      media_rate_ += layer_rate;
    }
    // Probes are measured by transport-cc feedback; with REMB alone they would prove
    // nothing. The probe tests the total that would give this slot what it asks for.
    if (decision.probe_to && !probe_ && video->info().transport_cc_ext) {
      bwe::Bitrate total = bwe::Bitrate(uint64_t(*decision.probe_to) * weights / weight(kinds[i])) + audio;
      // At most twice the estimate per probe (libwebrtc's ProbeController doubles too): a
      // probe to 2.7x it overflowed a 1 Mbit/s link's queue by 85 KB in 400 ms. A larger
      // step is reached by successive probes.
      total = std::min<bwe::Bitrate>(total, estimate * kMaxProbeGain);
      // A probe found the link full a moment ago: probing far beyond it again would only
      // overflow it (loss, a queue) and prove the same. Just above it, a probe still finds
      // out when the link got better, without costing the other slots their layers.
      if (auto ceiling = estimator_.link_ceiling();
          ceiling && double(total) > double(*ceiling) * kCeilingProbeGain) {
        total = bwe::Bitrate(double(*ceiling) * kCeilingProbeGain);
        ++probes_capped_;
      }
      start_probe(i, total, now);
    }
    if (!slot_stats) continue;
    slot_stats->current.store(cur, std::memory_order_relaxed);
    slot_stats->target.store(decision.target.spatial, std::memory_order_relaxed);
    slot_stats->temporal.store(video->temporal_layer(), std::memory_order_relaxed);
    slot_stats->switches.store(video->layer_switches(), std::memory_order_relaxed);
    slot_stats->share_bps.store(int64_t(shares[i]), std::memory_order_relaxed);
    slot_stats->layer_bps.store(layer_rate, std::memory_order_relaxed);
  }
  stats_->estimate_bps.store(estimate, std::memory_order_relaxed);
}

void DownlinkController::reset_slot(size_t slot) {
  if (slot < selectors_.size()) selectors_[slot] = bwe::LayerSelector();
  if (probe_ && probe_->slot == slot) {
    sequencer_.set_probe_cluster(-1);
    probe_.reset();
  }
}

void DownlinkController::start_probe(size_t slot, bwe::Bitrate rate, Timestamp now) {
  Probe p;
  p.cluster = next_cluster_++;
  p.slot = slot;
  p.rate = rate;
  p.started = now;
  p.ends = now + kProbeDuration;
  p.last_paced = now;
  estimator_.on_probe_started(p.cluster, rate, now);
  sequencer_.set_probe_cluster(p.cluster);
  probe_ = p;
  ++probes_;
  stats_->probes.store(probes_, std::memory_order_relaxed);
}

// Probe copies fill the gap between what media sends and the rate under test.
size_t DownlinkController::pace_probe(bwe::Bitrate media_rate, Timestamp now) {
  Probe& p = *probe_;
  double elapsed = std::chrono::duration<double>(now - p.last_paced).count();
  p.last_paced = now;
  bwe::Bitrate padding = std::max<bwe::Bitrate>(0, p.rate - media_rate);
  p.credit_bytes = std::min(p.credit_bytes + double(padding) / 8 * elapsed, double(padding) / 8 * 0.05);
  if (p.credit_bytes <= 0) return 0;
  size_t due = size_t(p.credit_bytes);
  p.credit_bytes = 0;
  return due;
}

void DownlinkController::finish_probe(Timestamp now) {
  if (auto result = estimator_.probe_result(probe_->cluster)) {
    if (probe_->slot < selectors_.size()) selectors_[probe_->slot].on_probe_result(*result, now);
    probe_.reset();
  } else if (now - probe_->started > kProbeResultTimeout) {
    if (probe_->slot < selectors_.size()) selectors_[probe_->slot].on_probe_result(false, now);
    probe_.reset();
  }
}

size_t DownlinkController::on_tick(Consumer& video, bool has_audio, Timestamp now) {
  const DownlinkSlot slot{&video, true, false, has_audio};
  return on_tick(std::span<const DownlinkSlot>(&slot, 1), now);
}

size_t DownlinkController::on_tick(std::span<const DownlinkSlot> slots, Timestamp now) {
  bool measurable = have_feedback_;  // else: transport-cc on some slot's packets
  for (const DownlinkSlot& s : slots) measurable = measurable || (s.video && s.video->info().transport_cc_ext);
  if (!measurable) return 0;  // nothing to estimate from
  if (now >= next_update_) {
    next_update_ = now + kUpdateInterval;
    select(slots, now);
  }
  if (!probe_) return 0;
  if (now < probe_->ends) return pace_probe(media_rate_, now);
  sequencer_.set_probe_cluster(-1);
  finish_probe(now);
  return 0;
}

}  // namespace strata::sfu
