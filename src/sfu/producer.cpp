#include "sfu/producer.hpp"

#include "codecs/codec.hpp"
#include "rtp/rtcp_feedback.hpp"

namespace strata::sfu {

Producer::Producer(IngestTrackInfo info, uint32_t rtcp_sender_ssrc, NackConfig nack)
    : info_(std::move(info)), sender_ssrc_(rtcp_sender_ssrc) {
  size_t n = info_.rids.empty() ? 1 : info_.rids.size();
  for (size_t i = 0; i < n; ++i) layers_.emplace_back(info_.codec.clock_rate, nack);
}

int Producer::top_flowing_layer(Timestamp now) const {
  for (int i = int(layers_.size()) - 1; i >= 0; --i) {
    if (flowing(layers_[size_t(i)], now)) return i;
  }
  return 0;
}

Producer::Verdict Producer::on_rtp(const rtp::RtpPacket& packet, int layer, bool recovered, Timestamp now) {
  Verdict v;
  if (layer < 0 || size_t(layer) >= layers_.size()) return v;
  Layer& l = layers_[size_t(layer)];
  if (!l.seen) {
    l.seen = true;
    l.ssrc = packet.ssrc();
    l.last_packet = now;
  }
  // Retransmissions say nothing about whether the host still sends this layer.
  if (!recovered) l.last_packet = now;
  ++packets_;
  bytes_ += packet.size();
  v.facts = packet_facts(info_.codec.codec, info_.kind, packet, uint8_t(layer));
  if (!recovered) l.stats.on_packet(packet.sequence(), packet.timestamp(), now);
  const bool filled_gap = info_.codec.nack && l.nacks.on_packet(packet.sequence(), now, v.facts.keyframe);
  if (recovered && !filled_gap) {
    v.duplicate = true;
    return v;
  }
  if (v.facts.keyframe) {
    ++keyframes_;
    l.keyframe_requests.on_keyframe_received(now);
  }
  return v;
}

void Producer::on_sender_report(int layer, const rtp::SenderReport& sr, Timestamp now) {
  if (layer < 0 || size_t(layer) >= layers_.size()) return;
  layers_[size_t(layer)].stats.on_sender_report(sr.ntp, now);
}

void Producer::request_keyframe(Timestamp now, int layer) {
  if (info_.kind != MediaKind::kVideo) return;
  if (layer < 0 || size_t(layer) >= layers_.size()) layer = top_flowing_layer(now);
  Layer& l = layers_[size_t(layer)];
  if (l.keyframe_requests.request(now)) l.pli_due = true;
}

void Producer::collect_rtcp(Timestamp now, Bytes& out) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    if (l.keyframe_requests.on_timeout(now)) l.pli_due = true;
    if (l.seen && l.nacks.take_keyframe_needed()) request_keyframe(now, int(i));
  }
  // Feedback first, then one RR in front of it: RFC 3550 §6.1 wants compound packets to
  // start with a report, and an empty RR is valid when none is due.
  Bytes feedback;
  std::vector<uint16_t> missing;
  for (auto& l : layers_) {
    if (!l.seen || !info_.codec.nack) continue;
    missing.clear();
    l.nacks.collect(now, missing);
    if (missing.empty()) continue;
    rtp::Nack nack{sender_ssrc_, l.ssrc, rtp::nack_items_from_sequences(missing)};
    rtp::append_nack(feedback, nack);
    ++nack_sent_;
  }
  for (auto& l : layers_) {
    if (!l.pli_due || !l.seen) continue;
    l.pli_due = false;
    rtp::append_pli(feedback, rtp::Pli{sender_ssrc_, l.ssrc});
    ++pli_sent_;
  }
  bool report_due = now >= next_report_;
  if (!report_due && feedback.empty()) return;
  rtp::ReceiverReport rr;
  rr.ssrc = sender_ssrc_;
  if (report_due) {
    next_report_ = now + kReportInterval;
    for (auto& l : layers_) {
      if (!l.seen) continue;
      auto d = l.stats.make_report_block(l.ssrc, now);
      rr.blocks.push_back(rtp::ReportBlock{d.ssrc, d.fraction_lost, d.cumulative_lost, d.extended_highest_seq,
                                           d.jitter, d.lsr, d.dlsr});
    }
  }
  rtp::append_receiver_report(out, rr);
  out.insert(out.end(), feedback.begin(), feedback.end());
}

}  // namespace strata::sfu
