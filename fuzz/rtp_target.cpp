// RTP/RTCP fuzz body: everything the server reads from a media packet a stranger sent
// (after SRTP, which authenticates the sender but not the sender's honesty).
//  - RTCP: the compound iterator and every sub-packet parser the sessions run (SR, RR,
//    SDES, BYE, generic NACK, PLI, FIR, REMB, transport-cc); each parse must survive a
//    build -> parse round trip unchanged, since the same builders write our own RTCP.
//  - RTP: the header view, both extension forms (RFC 8285) through every typed reader,
//    the in-place rewrites, a rebuild of the extension elements with RtpPacketBuilder,
//    and RTX (RFC 4588) both ways: wrap then restore must give back the original.
//  - The payload as each codec the producer inspects on every packet (sfu::packet_facts:
//    VP8, VP9, H.264, AV1 keyframe / frame start / temporal id), plus the VP8 descriptor
//    rewrite the consumers run. VP9 has its own deeper target (vp9_target.cpp).
#include <algorithm>
#include <cstring>
#include <vector>

#include "codecs/codec.hpp"
#include "codecs/vp8.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtcp_transport_cc.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "rtp/rtx.hpp"
#include "sfu/track.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

using namespace strata::rtp;

volatile size_t g_sink = 0;  // keeps the reads from being optimized away

// Builds one sub-packet with `append` and parses it back with `parse`: our builders must
// write what our parsers read (they write every RTCP packet the server sends).
template <typename T, typename Append, typename Parse>
void check_round_trip(const T& parsed, Append append, Parse parse) {
  Bytes out;
  if (!append(out, parsed)) return;  // a builder may refuse (e.g. an empty NACK)
  RtcpIterator it(out);
  auto v = it.next();
  STRATA_FUZZ_CHECK("rtp", v.has_value() && !it.next() && !it.malformed());
  auto again = parse(*v);
  STRATA_FUZZ_CHECK("rtp", again.has_value() && *again == parsed);
}

size_t exercise_report(const RtcpPacketView& v) {
  size_t sum = 0;
  if (auto sr = parse_sender_report(v)) {
    check_round_trip(*sr, append_sender_report, parse_sender_report);
    sum += sr->blocks.size() + sr->ntp;
  }
  if (auto rr = parse_receiver_report(v)) {
    check_round_trip(*rr, append_receiver_report, parse_receiver_report);
    sum += rr->blocks.size();
  }
  if (auto sdes = parse_sdes(v)) {
    check_round_trip(*sdes, append_sdes, parse_sdes);
    sum += sdes->chunks.size();
  }
  if (auto bye = parse_bye(v)) {
    check_round_trip(*bye, append_bye, parse_bye);
    sum += bye->ssrcs.size() + bye->reason.size();
  }
  return sum;
}

size_t exercise_feedback(const RtcpPacketView& v) {
  size_t sum = 0;
  if (auto nack = parse_nack(v)) {
    check_round_trip(*nack, append_nack, parse_nack);
    const auto seqs = expand_nack_items(nack->items);
    STRATA_FUZZ_CHECK("rtp", seqs.size() >= nack->items.size() && seqs.size() <= 17 * nack->items.size());
    // Re-packing what a NACK names must name the same packets (the producer's NACKs are
    // packed this way). Sorted and unique, as the producer collects them.
    std::vector<uint16_t> sorted = seqs;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    auto repacked = expand_nack_items(nack_items_from_sequences(sorted));
    std::sort(repacked.begin(), repacked.end());
    STRATA_FUZZ_CHECK("rtp", repacked == sorted);
    sum += seqs.size();
  }
  if (auto pli = parse_pli(v)) {
    check_round_trip(*pli, append_pli, parse_pli);
    sum += pli->media_ssrc;
  }
  if (auto fir = parse_fir(v)) {
    check_round_trip(*fir, append_fir, parse_fir);
    sum += fir->entries.size();
  }
  if (auto remb = parse_remb(v)) {
    check_round_trip(*remb, append_remb, parse_remb);
    sum += remb->ssrcs.size() + size_t(remb->bitrate_bps);
  }
  if (auto fb = parse_transport_feedback(v)) {
    check_round_trip(*fb, append_transport_feedback, parse_transport_feedback);
    sum += fb->packets.size() + size_t(fb->reference_time_us());
  }
  return sum;
}

void exercise_rtcp(ByteSpan data) {
  RtcpIterator it(data);
  size_t sum = 0;
  while (auto v = it.next()) {
    // Views stay inside the compound, and the body inside its sub-packet.
    STRATA_FUZZ_CHECK("rtp", v->packet.data() >= data.data() &&
                                 v->packet.data() + v->packet.size() <= data.data() + data.size());
    STRATA_FUZZ_CHECK("rtp", v->body.data() == v->packet.data() + 4 && v->body.size() + 4 <= v->packet.size());
    sum += exercise_report(*v) + exercise_feedback(*v);
  }
  sum += is_valid_compound(data);
  g_sink = g_sink + sum;
}

// The negotiated ids a session could have: every one-byte id, and two-byte ones above 14.
constexpr uint8_t kExtensionIds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 64, 255};

size_t read_extensions(const RtpPacket& p) {
  size_t sum = 0;
  for (uint8_t id : kExtensionIds) {
    if (auto e = p.extension(id)) sum += e->size();
    if (auto m = read_mid(p, id)) sum += m->size();
    if (auto r = read_rid(p, id)) sum += r->size();
    if (auto r = read_repaired_rid(p, id)) sum += r->size();
    if (auto t = read_abs_send_time(p, id)) {
      STRATA_FUZZ_CHECK("rtp", *t <= 0xFFFFFF);
      sum += *t;
    }
    if (auto t = read_transport_cc_seq(p, id)) sum += *t;
    if (auto a = read_audio_level(p, id)) {
      STRATA_FUZZ_CHECK("rtp", a->level <= 127);
      sum += a->level + a->voice_activity;
    }
  }
  return sum;
}

// The elements the parse found, written again by our builder (which senders of probes and
// tests use), must parse to the same values. Duplicate ids: the parse answers the first.
void rebuild_extensions(const RtpPacket& p) {
  if (p.extension_count() == 0) return;
  RtpPacketBuilder b;
  b.payload_type(p.payload_type()).sequence(p.sequence()).timestamp(p.timestamp()).ssrc(p.ssrc());
  b.payload(p.payload());
  std::vector<uint8_t> ids;
  for (int id = 1; id < 256; ++id) {
    if (auto e = p.extension(uint8_t(id))) {
      b.extension(uint8_t(id), *e);
      ids.push_back(uint8_t(id));
    }
  }
  if (p.uses_two_byte_extensions()) b.two_byte_extensions(true);
  if (b.error()) return;
  Bytes out = b.build();
  if (out.empty()) return;  // values the one-byte form cannot hold in a forced layout
  auto again = RtpPacket::parse(out.data(), out.size());
  STRATA_FUZZ_CHECK("rtp", again.has_value());
  for (uint8_t id : ids) {
    auto a = p.extension(id), c = again->extension(id);
    STRATA_FUZZ_CHECK("rtp", c.has_value() && c->size() == a->size() && std::equal(a->begin(), a->end(), c->begin()));
  }
  STRATA_FUZZ_CHECK("rtp", again->payload_size() == p.payload_size());
}

// RFC 4588 §4 both ways: the RTX form restored must be the original, padding dropped.
void exercise_rtx(const RtpPacket& p) {
  std::vector<uint8_t> rtx(p.header_size() + 2 + p.payload_size());  // exact size for ASan
  const size_t n = write_rtx(p, 97, 1234, 9, rtx.data(), rtx.size());
  STRATA_FUZZ_CHECK("rtp", n == rtx.size());
  STRATA_FUZZ_CHECK("rtp", write_rtx(p, 97, 1234, 9, rtx.data(), rtx.size() - 1) == 0);
  auto r = RtpPacket::parse(rtx.data(), n);
  STRATA_FUZZ_CHECK("rtp", r.has_value() && r->ssrc() == 1234 && r->payload_type() == 97);
  STRATA_FUZZ_CHECK("rtp", rtx_original_sequence(*r) == p.sequence());
  auto back = restore_from_rtx(*r, p.payload_type(), p.ssrc());
  STRATA_FUZZ_CHECK("rtp", back.has_value());
  STRATA_FUZZ_CHECK("rtp", back->sequence() == p.sequence() && back->ssrc() == p.ssrc() &&
                               back->payload_type() == p.payload_type() && back->timestamp() == p.timestamp());
  STRATA_FUZZ_CHECK("rtp", back->header_size() == p.header_size() && back->padding_size() == 0);
  const ByteSpan a = p.payload(), b = back->payload();
  STRATA_FUZZ_CHECK("rtp", a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()));
}

// The bytes as a received RTX packet (a restore that fails leaves the buffer alone).
void restore_received_rtx(std::vector<uint8_t> buf) {
  auto p = RtpPacket::parse(buf.data(), buf.size());
  if (!p) return;
  const bool has_osn = rtx_original_sequence(*p).has_value();
  auto back = restore_from_rtx(*p, 96, 42);
  STRATA_FUZZ_CHECK("rtp", back.has_value() == has_osn);
  if (back) STRATA_FUZZ_CHECK("rtp", back->ssrc() == 42 && back->size() + 2 == buf.size());
}

// What the producer computes for every packet, for every codec a track may have.
size_t exercise_payload(const RtpPacket& p) {
  size_t sum = 0;
  for (codecs::Codec c : {codecs::Codec::kVp8, codecs::Codec::kVp9, codecs::Codec::kH264, codecs::Codec::kAv1,
                          codecs::Codec::kOpus}) {
    const sfu::PacketFacts f = sfu::packet_facts(c, sfu::MediaKind::kVideo, p, 2);
    STRATA_FUZZ_CHECK("rtp", f.layer == 2 && f.temporal >= -1 && f.temporal <= 7);
    STRATA_FUZZ_CHECK("rtp", size_t(f.payload_offset) + f.payload_size <= p.size());
    // A keyframe is where a viewer starts: it must also start a frame (VP8, H.264; the
    // VP9 and AV1 rules read different fields for the two).
    if (c == codecs::Codec::kVp8 || c == codecs::Codec::kH264) STRATA_FUZZ_CHECK("rtp", !f.keyframe || f.frame_start);
    const sfu::PacketFacts audio = sfu::packet_facts(c, sfu::MediaKind::kAudio, p, 0);
    STRATA_FUZZ_CHECK("rtp", !audio.keyframe && audio.temporal == -1);
    sum += f.keyframe + f.frame_start + size_t(f.temporal + 1);
  }
  return sum;
}

// RFC 7741 §4.2: the in-place PictureID rewrite keeps the descriptor's layout.
void exercise_vp8(ByteSpan payload) {
  std::vector<uint8_t> copy(payload.begin(), payload.end());  // exact size for ASan
  const auto d = codecs::parse_vp8(payload);
  if (d) STRATA_FUZZ_CHECK("rtp", d->size < payload.size() && d->tid <= 3 && d->partition_index <= 7);
  const uint16_t pid = uint16_t(payload.size() * 2654435761u);
  const bool ok = codecs::rewrite_vp8_picture_id(copy.data(), copy.size(), pid, 7);
  if (!ok) STRATA_FUZZ_CHECK("rtp", std::equal(copy.begin(), copy.end(), payload.begin()));
  if (!d) return;
  STRATA_FUZZ_CHECK("rtp", ok == d->has_picture_id);
  const auto after = codecs::parse_vp8(ByteSpan(copy.data(), copy.size()));
  STRATA_FUZZ_CHECK("rtp", after.has_value() && after->size == d->size && after->keyframe == d->keyframe);
  if (ok) {
    STRATA_FUZZ_CHECK("rtp", after->picture_id == (pid & (d->picture_id_15bit ? 0x7fff : 0x7f)));
    STRATA_FUZZ_CHECK("rtp", !d->has_tl0picidx || after->tl0picidx == 7);
  }
}

void exercise_rtp(std::vector<uint8_t>& buf) {
  auto p = RtpPacket::parse(buf.data(), buf.size());
  if (!p) return;
  STRATA_FUZZ_CHECK("rtp", p->header_size() + p->padding_size() <= p->size() && p->size() == buf.size());
  STRATA_FUZZ_CHECK("rtp", p->extension_count() <= RtpPacket::kMaxExtensions);
  size_t sum = p->version() + p->payload_type() + p->sequence() + p->timestamp() + p->ssrc() + p->marker() +
               p->padding_size() + p->header_size() + p->extension_profile() + p->csrc(0) + p->csrc(20);
  for (size_t i = 0; i < p->csrc_count(); ++i) sum += p->csrc(i);
  sum += read_extensions(*p) + exercise_payload(*p);
  exercise_vp8(p->payload());
  rebuild_extensions(*p);
  exercise_rtx(*p);
  // The in-place rewrites the sessions do; the packet must still parse the same way.
  const size_t header = p->header_size();
  write_transport_cc_seq(*p, 4, 7);
  write_abs_send_time(*p, 3, 0x123456);
  if (auto e = p->mutable_extension(5); e && !e->empty()) (*e)[0] = 0x7f;
  p->set_sequence(1);
  p->set_timestamp(2);
  p->set_ssrc(3);
  p->set_payload_type(111);
  p->set_marker(true);
  auto again = RtpPacket::parse(buf.data(), buf.size());
  STRATA_FUZZ_CHECK("rtp", again.has_value() && again->header_size() == header && again->sequence() == 1);
  g_sink = g_sink + sum;
}

}  // namespace

int rtp_one_input(const uint8_t* data, size_t size) {
  // Exact-size heap copy so ASan catches any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const ByteSpan span(buf.data(), buf.size());
  g_sink = g_sink + looks_like_rtcp(span) + is_rtp_or_rtcp(span);
  exercise_rtcp(span);  // read-only, so before the RTP rewrites
  restore_received_rtx(buf);
  exercise_rtp(buf);
  return 0;
}

}  // namespace strata::fuzz
