#include "sfu/consumer.hpp"

#include <algorithm>
#include <cstring>

#include "codecs/codec.hpp"
#include "common/random.hpp"

namespace strata::sfu {

namespace {
// The shared source buffer is immutable; RtpPacket wants a mutable pointer but we only read.
std::optional<rtp::RtpPacket> view(const PacketRef& p) { return rtp::RtpPacket::parse(p.data(), p.size()); }
}  // namespace

Consumer::Consumer(EgressTrackInfo info)
    : info_(std::move(info)),
      rewriter_(info_.codec.clock_rate),
      sent_(kRetransmissionSlots, std::chrono::seconds(2)),
      waiting_for_keyframe_(info_.kind == MediaKind::kVideo),
      rtx_seq_(uint16_t(random_u32())) {}

size_t Consumer::write_media(const PacketRef& source, Timestamp now, uint8_t* out, size_t capacity) {
  auto src = view(source);
  if (!src) return 0;
  bool source_switch = rewriter_.started() && src->ssrc() != last_source_ssrc_;
  if (source_switch && info_.kind == MediaKind::kVideo) waiting_for_keyframe_ = true;
  if (waiting_for_keyframe_) {
    // A decoder can only start (or restart after a source change) at a keyframe.
    if (!codecs::is_keyframe(info_.codec.codec, src->payload())) return 0;
    waiting_for_keyframe_ = false;
  }
  if (src->payload_size() == 0) {
    // Padding-only probes carry nothing for the viewer; keep the output gap-free.
    if (rewriter_.started() && !source_switch) rewriter_.drop(src->sequence());
    return 0;
  }
  auto o = rewriter_.rewrite(src->sequence(), src->timestamp(), now, source_switch);
  if (!o) return 0;
  last_source_ssrc_ = src->ssrc();
  size_t len = write_rewritten(*src, o->seq, o->ts, out, capacity);
  if (len == 0) return 0;
  send_stats_.on_packet_sent(o->ts, len - rtp::RtpPacket::kFixedHeaderSize, now);
  if (info_.codec.nack) sent_.insert(o->seq, Sent{source, o->ts}, now);
  return len;
}

// The viewer gets a 12-byte header and the payload: the host's header extensions carry ids
// from the host's SDP, which need not match the viewer's, so none are forwarded.
size_t Consumer::write_rewritten(const rtp::RtpPacket& src, uint16_t seq, uint32_t ts, uint8_t* out,
                                 size_t capacity) const {
  size_t payload = src.payload_size();
  size_t len = rtp::RtpPacket::kFixedHeaderSize + payload;
  if (len > capacity) return 0;
  out[0] = 0x80;  // V=2, no padding, no extension, no CSRC
  out[1] = uint8_t((src.marker() ? 0x80 : 0) | (info_.codec.payload_type & 0x7F));
  store_be16(out + 2, seq);
  store_be32(out + 4, ts);
  store_be32(out + 8, info_.ssrc);
  std::memcpy(out + rtp::RtpPacket::kFixedHeaderSize, src.payload().data(), payload);
  return len;
}

int Consumer::desired_layer(Timestamp now) const {
  int top = int(std::min<size_t>(info_.source_layers, layer_seen_.size())) - 1;
  int max = info_.max_layer < 0 ? top : std::min(info_.max_layer, top);
  for (int l = max; l >= 0; --l) {
    if (layer_seen_[size_t(l)] != Timestamp{} && now - layer_seen_[size_t(l)] < kLayerSilence) return l;
  }
  // Nothing at or below the maximum flows: better a higher layer than a frozen picture.
  for (int l = max + 1; l <= top; ++l) {
    if (layer_seen_[size_t(l)] != Timestamp{} && now - layer_seen_[size_t(l)] < kLayerSilence) return l;
  }
  return -1;
}

int Consumer::pending_layer(Timestamp now) const {
  int desired = desired_layer(now);
  return desired != current_layer_ ? desired : -1;
}

size_t Consumer::write_layer_media(const PacketRef& source, uint8_t layer, Timestamp now, uint8_t* out,
                                   size_t capacity) {
  if (layer >= layer_seen_.size()) return 0;
  layer_seen_[layer] = now;
  if (layer != current_layer_) {
    // Only the layer we want, and only from one of its keyframes: the decoder must not see
    // a delta frame of a stream it has no reference for.
    if (int(layer) != desired_layer(now)) return 0;
    auto src = rtp::RtpPacket::parse(source.data(), source.size());
    if (!src || !codecs::is_keyframe(info_.codec.codec, src->payload())) return 0;
    current_layer_ = layer;
    ++layer_switches_;
  }
  return write_media(source, now, out, capacity);
}

size_t Consumer::write_retransmission(uint16_t seq, Timestamp now, uint8_t* out, size_t capacity) {
  Sent* s = sent_.find(seq, now);
  if (!s) return 0;
  auto src = view(s->source);
  if (!src) return 0;
  if (!info_.codec.rtx_payload_type) {
    ++retransmissions_;
    return write_rewritten(*src, seq, s->out_ts, out, capacity);
  }
  // RFC 4588 §4: RTX header, then the original sequence number (OSN), then the payload.
  size_t payload = src->payload_size();
  size_t len = rtp::RtpPacket::kFixedHeaderSize + 2 + payload;
  if (len > capacity) return 0;
  out[0] = 0x80;
  out[1] = uint8_t((src->marker() ? 0x80 : 0) | (*info_.codec.rtx_payload_type & 0x7F));
  store_be16(out + 2, rtx_seq_++);
  store_be32(out + 4, s->out_ts);
  store_be32(out + 8, info_.rtx_ssrc);
  store_be16(out + 12, seq);
  std::memcpy(out + 14, src->payload().data(), payload);
  ++retransmissions_;
  return len;
}

void Consumer::on_report_block(const rtp::ReportBlock& block, uint64_t ntp_now) {
  if (block.ssrc != info_.ssrc) return;
  if (auto rtt = SendStats::rtt_from_report(block.lsr, block.dlsr, ntp_now)) rtt_ = rtt;
}

bool Consumer::collect_rtcp(Timestamp now, uint64_t ntp_now, Bytes& out) {
  if (now < next_report_ || send_stats_.packets() == 0) return false;
  next_report_ = now + kReportInterval;
  auto d = send_stats_.make_sender_report(ntp_now, now, info_.codec.clock_rate);
  rtp::SenderReport sr;
  sr.ssrc = info_.ssrc;
  sr.ntp = d.ntp;
  sr.rtp_ts = d.rtp_ts;
  sr.packet_count = d.packet_count;
  sr.octet_count = d.octet_count;
  rtp::append_sender_report(out, sr);
  rtp::Sdes sdes;
  sdes.chunks.push_back(rtp::SdesChunk{info_.ssrc, info_.cname});
  rtp::append_sdes(out, sdes);
  return true;
}

void Consumer::append_bye(Bytes& out) const {
  rtp::Bye bye;
  bye.ssrcs.push_back(info_.ssrc);
  if (info_.codec.rtx_payload_type) bye.ssrcs.push_back(info_.rtx_ssrc);
  bye.reason = "stream ended";
  rtp::append_bye(out, bye);
}

}  // namespace strata::sfu
