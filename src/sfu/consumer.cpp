#include "sfu/consumer.hpp"

#include <algorithm>
#include <cstring>

#include "codecs/codec.hpp"
#include "codecs/vp8.hpp"
#include "codecs/vp9.hpp"
#include "common/random.hpp"

namespace strata::sfu {

namespace {
// The shared source buffer is immutable; RtpPacket wants a mutable pointer but we only read.
std::optional<rtp::RtpPacket> view(const PacketRef& p) { return rtp::RtpPacket::parse(p.data(), p.size()); }
}  // namespace

Consumer::Consumer(EgressTrackInfo info)
    : info_(std::move(info)),
      // Audio needs a small reorder window: 128 packets are 2.5 s of Opus (3 KB less each).
      rewriter_(info_.codec.clock_rate, info_.kind == MediaKind::kAudio ? 128 : SeqRewriter::kWindow),
      sent_(info_.codec.nack ? kRetransmissionGrowth : RetransmissionGrowth{.initial = 1, .max = 1},
            std::chrono::seconds(2)),
      waiting_for_keyframe_(info_.kind == MediaKind::kVideo),
      rtx_seq_(uint16_t(random_u32())),
      pictures_(info_.kind == MediaKind::kVideo ? std::make_unique<codecs::PictureIdRewriter>(info_.codec.codec)
                                                : nullptr) {}

// The producer parsed the packet once and noted where its payload is (PacketFacts): the
// fixed header fields are read in place, so no consumer parses the header (extension
// elements included) again for every viewer. Facts made without a parse fall back to one.
std::optional<Consumer::SourceHeader> Consumer::source_header(const PacketRef& p, const PacketFacts& facts) {
  const uint8_t* d = p.data();
  if (facts.payload_offset >= rtp::RtpPacket::kFixedHeaderSize &&
      size_t(facts.payload_offset) + facts.payload_size <= p.size()) {
    return SourceHeader{load_be32(d + 8), load_be32(d + 4), load_be16(d + 2), (d[1] & 0x80) != 0,
                        ByteSpan(d + facts.payload_offset, facts.payload_size)};
  }
  auto src = view(p);
  if (!src) return std::nullopt;
  return SourceHeader{src->ssrc(), src->timestamp(), src->sequence(), src->marker(), src->payload()};
}

size_t Consumer::write_media(const PacketRef& source, Timestamp now, uint8_t* out, size_t capacity) {
  auto src = view(source);
  if (!src) return 0;
  const PacketFacts facts = packet_facts(info_.codec.codec, info_.kind, *src, 0);
  return write_media_parsed(source, *source_header(source, facts), facts, now, out, capacity);
}

size_t Consumer::write(const PacketRef& source, const PacketFacts& facts, Timestamp now, uint8_t* out,
                       size_t capacity, bool replayed) {
  if (selects_layers()) return write_layer(source, facts, now, out, capacity, replayed);
  if (facts.layer != 0) return 0;
  auto src = source_header(source, facts);
  if (!src) return 0;
  return write_media_parsed(source, *src, facts, now, out, capacity, replayed);
}

void Consumer::set_source(uint32_t source_track, uint32_t source_layers) {
  info_.source_track = source_track;
  info_.source_layers = std::max<uint32_t>(1, source_layers);
  current_layer_ = -1;
  layer_seen_ = {};
  source_seen_ = {};
  rates_ = LayerRateMeter();
  temporal_active_ = -1;
  waiting_for_keyframe_ = info_.kind == MediaKind::kVideo;
}

size_t Consumer::write_media_parsed(const PacketRef& source, const SourceHeader& src, const PacketFacts& facts,
                                    Timestamp now, uint8_t* out, size_t capacity, bool replayed) {
  bool source_switch = rewriter_.started() && src.ssrc != last_source_ssrc_;
  if (source_switch && info_.kind == MediaKind::kVideo) waiting_for_keyframe_ = true;
  if (waiting_for_keyframe_) {
    // A decoder can only start (or restart after a source change) at a keyframe.
    if (!facts.keyframe) return 0;
    waiting_for_keyframe_ = false;
  }
  if (src.payload.empty()) {
    // Padding-only probes carry nothing for the viewer; keep the output gap-free.
    if (rewriter_.started() && !source_switch) rewriter_.drop(src.seq);
    return 0;
  }
  if (!source_switch && drop_filtered_temporal(src, facts)) return 0;
  auto o = rewriter_.rewrite(src.seq, src.ts, now, source_switch, replayed);
  if (!o) return 0;
  last_source_ssrc_ = src.ssrc;
  if (header_size() + src.payload.size() > capacity) return 0;
  // Kept for NACKs before the payload is copied: taking the packet's reference (and
  // dropping the one of the packet it evicts) is a locked instruction, which would
  // otherwise wait for the copy's ~1200 bytes of stores to drain.
  Sent* kept = nullptr;
  if (info_.codec.nack) {
    Sent s;
    s.source = source;
    s.out_ts = o->ts;
    kept = sent_.insert(o->seq, std::move(s), now, !replayed);
  }
  Header h{info_.codec.payload_type, info_.ssrc, o->seq, o->ts, src.marker};
  const size_t header = write_packet(h, src.payload, 0, now, -1, out, capacity);
  uint8_t* payload = out + header;
  // A layer switch continues the picture ids too. A single-layer source never switches
  // but on a host restart, which starts at a keyframe: ids may jump there, so those
  // consumers skip the rewriting (and its per-packet parse).
  if (selects_layers()) {
    pictures_->rewrite(payload, src.payload.size(), source_switch);
    if (kept) record_picture_ids(*kept, payload, src.payload.size());
  }
  send_stats_.on_packet_sent(o->ts, src.payload.size(), now);
  return header + src.payload.size();
}

// Temporal layer filtering (VP8/VP9 L1T3): pictures above the target temporal layer are
// dropped whole; a target change takes effect at a frame start so that no picture is cut.
// Lower temporal layers never reference higher ones, so what stays is decodable.
bool Consumer::drop_filtered_temporal(const SourceHeader& src, const PacketFacts& facts) {
  if (info_.kind != MediaKind::kVideo || facts.temporal < 0) return false;
  if (facts.frame_start) temporal_active_ = temporal_target_;
  if (temporal_active_ < 0 || facts.temporal <= temporal_active_) return false;
  rewriter_.drop(src.seq);
  pictures_->drop_picture(src.payload);
  ++temporal_drops_;
  return true;
}

// The host's header extensions are not forwarded (their ids come from the host's SDP, not
// the viewer's); the only one we write is our own transport-wide sequence number.
size_t Consumer::header_size() const {
  // RFC 8285 §4.2 one-byte header: 0xBEDE, length 1 word, then id|len=1, 2 bytes, 1 pad.
  return rtp::RtpPacket::kFixedHeaderSize + (sequencer_ && info_.transport_cc_ext ? 8 : 0);
}

size_t Consumer::write_packet(const Header& h, ByteSpan payload, size_t prefix, Timestamp now, int probe_cluster,
                              uint8_t* out, size_t capacity) {
  const size_t header = header_size();
  const size_t len = header + prefix + payload.size();
  if (len > capacity) return 0;
  const bool twcc = header > rtp::RtpPacket::kFixedHeaderSize;
  out[0] = twcc ? 0x90 : 0x80;  // V=2, X when the transport-cc extension follows
  out[1] = uint8_t((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F));
  store_be16(out + 2, h.seq);
  store_be32(out + 4, h.ts);
  store_be32(out + 8, h.ssrc);
  if (twcc) {
    uint8_t* ext = out + rtp::RtpPacket::kFixedHeaderSize;
    ext[0] = 0xBE;
    ext[1] = 0xDE;
    store_be16(ext + 2, 1);
    ext[4] = uint8_t((info_.transport_cc_ext & 0x0F) << 4 | 1);  // L = length - 1
    store_be16(ext + 5, sequencer_->next(len, now, probe_cluster));
    ext[7] = 0;
  }
  std::memcpy(out + header + prefix, payload.data(), payload.size());
  return header;
}

void Consumer::record_picture_ids(Sent& s, const uint8_t* payload, size_t len) const {
  if (info_.codec.codec == codecs::Codec::kVp8) {
    auto d = codecs::parse_vp8(ByteSpan(payload, len));
    if (!d || !d->has_picture_id) return;
    s.has_picture_id = true;
    s.picture_id = d->picture_id;
    if (d->has_tl0picidx) {
      s.has_tl0picidx = true;
      s.tl0picidx = d->tl0picidx;
    }
  } else if (info_.codec.codec == codecs::Codec::kVp9) {
    auto d = codecs::parse_vp9(ByteSpan(payload, len));
    if (!d || !d->has_picture_id) return;
    s.has_picture_id = true;
    s.picture_id = d->picture_id;
    if (d->has_tl0picidx) {
      s.has_tl0picidx = true;
      s.tl0picidx = d->tl0picidx;
    }
  }
}

void Consumer::restore_picture_ids(const Sent& s, uint8_t* payload, size_t len) const {
  if (!s.has_picture_id) return;
  if (info_.codec.codec == codecs::Codec::kVp8) {
    codecs::rewrite_vp8_picture_id(payload, len, s.picture_id, s.has_tl0picidx ? s.tl0picidx : 0);
  } else if (info_.codec.codec == codecs::Codec::kVp9) {
    codecs::rewrite_vp9_picture_id(payload, len, s.picture_id,
                                   s.has_tl0picidx ? std::optional<uint8_t>(s.tl0picidx) : std::nullopt);
  }
}

int Consumer::desired_layer(Timestamp now) const {
  int top = int(std::min<size_t>(info_.source_layers, layer_seen_.size())) - 1;
  int max = info_.max_layer < 0 ? top : std::min(info_.max_layer, top);
  if (target_layer_ >= 0) max = std::min(max, target_layer_);
  for (int l = max; l >= 0; --l) {
    if (layer_seen_[size_t(l)] != Timestamp{} && now - layer_seen_[size_t(l)] < kLayerSilence) return l;
  }
  // Nothing at or below the maximum flows: better a higher layer than a frozen picture. But
  // not in the first moments of a source, when a lower layer may simply not have sent yet
  // (the top layer sends the most packets, so it is often seen first): that would cost the
  // host a keyframe of a layer this viewer does not want.
  if (source_seen_ == Timestamp{} || now - source_seen_ < kLayerSilence) return -1;
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
  auto src = view(source);
  if (!src) return 0;
  return write_layer(source, packet_facts(info_.codec.codec, info_.kind, *src, layer), now, out, capacity, false);
}

size_t Consumer::write_layer(const PacketRef& source, const PacketFacts& facts, Timestamp now, uint8_t* out,
                             size_t capacity, bool replayed) {
  const uint8_t layer = facts.layer;
  if (layer >= layer_seen_.size()) return 0;
  if (source_seen_ == Timestamp{}) source_seen_ = now;
  layer_seen_[layer] = now;
  // A replay (and the live packets queued behind it) arrives faster than the layer runs:
  // metered as it is sent, the layer looks costlier for a window, which only delays an
  // upgrade. Not metering it would make every layer look nearly free once the meter is no
  // longer young, and the selector would climb beyond the link (cluster_bwe).
  rates_.on_packet(layer, facts.temporal, source.size(), now);
  if (layer != current_layer_) {
    // Only the layer we want, and only from one of its keyframes: the decoder must not see
    // a delta frame of a stream it has no reference for.
    if (int(layer) != desired_layer(now)) return 0;
    if (!facts.keyframe) return 0;
    current_layer_ = layer;
    ++layer_switches_;
  }
  auto src = source_header(source, facts);
  if (!src) return 0;
  return write_media_parsed(source, *src, facts, now, out, capacity, replayed);
}

size_t Consumer::write_rtx(const Sent& s, uint16_t seq, Timestamp now, int probe_cluster, uint8_t* out,
                           size_t capacity) {
  auto src = view(s.source);
  if (!src) return 0;
  size_t header = 0;
  if (!info_.codec.rtx_payload_type) {
    header = write_packet(Header{info_.codec.payload_type, info_.ssrc, seq, s.out_ts, src->marker()}, src->payload(),
                          0, now, probe_cluster, out, capacity);
    if (header == 0) return 0;
    restore_picture_ids(s, out + header, src->payload_size());
    return header + src->payload_size();
  }
  // RFC 4588 §4: RTX header, then the original sequence number (OSN), then the payload.
  header = write_packet(Header{*info_.codec.rtx_payload_type, info_.rtx_ssrc, rtx_seq_, s.out_ts, src->marker()},
                        src->payload(), 2, now, probe_cluster, out, capacity);
  if (header == 0) return 0;
  ++rtx_seq_;
  store_be16(out + header, seq);
  restore_picture_ids(s, out + header + 2, src->payload_size());
  return header + 2 + src->payload_size();
}

size_t Consumer::write_retransmission(uint16_t seq, Timestamp now, uint8_t* out, size_t capacity) {
  Sent* s = sent_.find(seq, now);
  if (!s) return 0;
  size_t len = write_rtx(*s, seq, now, -1, out, capacity);
  if (len) ++retransmissions_;
  return len;
}

size_t Consumer::write_probe(int probe_cluster, Timestamp now, uint8_t* out, size_t capacity) {
  if (!info_.codec.rtx_payload_type || !rewriter_.started()) return 0;
  // Cycle over the last few packets sent, newest first, so probes are full-size copies.
  constexpr uint16_t kSpan = 16;
  for (uint16_t tries = 0; tries < kSpan; ++tries) {
    uint16_t seq = uint16_t(rewriter_.last_output_seq() - (probe_cursor_++ % kSpan));
    if (Sent* s = sent_.find(seq, now)) {
      size_t len = write_rtx(*s, seq, now, probe_cluster, out, capacity);
      if (len) ++probe_packets_;
      return len;
    }
  }
  return 0;
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
