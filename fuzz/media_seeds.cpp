// Seeds for the rtp and sfu fuzz targets, built with the project's own RTP/RTCP builders
// so each starts the fuzzer on a success path: every RTCP feedback type, both header
// extension forms carrying every extension the server reads, each codec's keyframe, and
// (sfu) a session's worth of host media, RTX, reports and viewer feedback.
#include <string>
#include <vector>

#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtcp_transport_cc.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "rtp/rtx.hpp"
#include "seeds.hpp"

namespace strata::fuzz {
namespace {

namespace fs = std::filesystem;
using namespace strata::rtp;

// Extension ids as a browser's offer numbers them (and fuzz/rtp_target.cpp reads them).
constexpr uint8_t kMidId = 1, kRidId = 2, kAbsSendTimeId = 3, kTwccId = 4, kAudioLevelId = 5;
constexpr uint8_t kRepairedRidId = 15;  // > 14: forces the two-byte form

ReportBlock block(uint32_t ssrc, uint32_t lsr) { return ReportBlock{ssrc, 12, -3, 70000, 45, lsr, 6554}; }

Bytes sr_sdes_bye() {
  Bytes out;
  append_sender_report(out, SenderReport{0x11111111, 0xe42a4e6c80000000ull, 90000, 100, 20000,
                                         {block(0x22222222, 0x4e6c8000), block(0x33333333, 0)}});
  append_sdes(out, Sdes{{SdesChunk{0x11111111, "host@strata"}, SdesChunk{0x44444444, ""}}});
  append_bye(out, Bye{{0x11111111, 0x44444444}, "stream ended"});
  return out;
}

Bytes rr_nack_pli_fir() {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x1, {block(0x2, 0x12345678)}});
  append_nack(out, Nack{0x1, 0x2, {{100, 0x8001}, {65530, 0xffff}}});
  append_pli(out, Pli{0x1, 0x2});
  append_fir(out, Fir{0x1, {{0x2, 7}, {0x3, 255}}});
  return out;
}

Bytes remb(uint64_t bps) {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x1, {}});
  append_remb(out, Remb{0x1, bps, {0x2, 0x3, 0x4}});
  return out;
}

// Statuses that need every chunk type: a long run (run-length), a mix of lost and small
// deltas (1-bit vector) and large / negative deltas (2-bit vector).
TransportFeedback mixed_feedback(uint16_t base, uint32_t media_ssrc) {
  TransportFeedback fb{0x1, media_ssrc, base, -5, 3, {}};
  for (uint16_t i = 0; i < 40; ++i) {
    const bool received = !(i >= 20 && i % 3 == 0);
    int64_t delta = 0;
    if (received) delta = i < 16 ? 1000 : (i == 25 ? -2500 : (i == 31 ? 70'000 : 250 * i));
    fb.packets.push_back({uint16_t(base + i), received, delta});
  }
  return fb;
}

Bytes transport_cc() {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x1, {}});
  append_transport_feedback(out, mixed_feedback(65500, 0x2));
  return out;
}

// A VP8 keyframe start (RFC 7741 §4.2: X, S, I with 15-bit PictureID, L, T; then P=0).
const uint8_t kVp8Key[] = {0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a};
// VP9 non-flexible keyframe with layer indices (RFC 9628 §4.2).
const uint8_t kVp9Key[] = {0xaa, 0x81, 0x23, 0x00, 0x05, 0x82, 0x49, 0x83, 0x42};
// H.264 STAP-A with SPS, PPS and an IDR slice (RFC 6184 §5.7.1).
const uint8_t kH264StapA[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xe0, 0x1f, 0x00, 0x02, 0x68, 0xce,
                              0x00, 0x03, 0x65, 0x88, 0x84};
// H.264 FU-A start of an IDR (RFC 6184 §5.8).
const uint8_t kH264FuA[] = {0x7c, 0x85, 0x88, 0x84, 0x00, 0x33};
// AV1 aggregation header N=1, W=1, then a sequence header OBU (AV1 RTP spec §4.4).
const uint8_t kAv1Key[] = {0x18, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0x24, 0xc4, 0xff, 0xdf, 0x00, 0x68};
// Opus, one 20 ms frame (RFC 7587).
const uint8_t kOpus[] = {0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x80};

Bytes one_byte_ext(ByteSpan payload, uint8_t pt) {
  const uint8_t abs_send_time[3] = {0x12, 0x34, 0x56}, twcc[2] = {0x01, 0x02}, level[1] = {0x80 | 40};
  RtpPacketBuilder b;
  b.payload_type(pt).sequence(4242).timestamp(90000).ssrc(0x11223344).marker(true);
  b.extension(kMidId, std::string_view("0")).extension(kRidId, std::string_view("h"));
  b.extension(kAbsSendTimeId, ByteSpan(abs_send_time, 3)).extension(kTwccId, ByteSpan(twcc, 2));
  b.extension(kAudioLevelId, ByteSpan(level, 1)).payload(payload);
  return b.build();
}

// Two-byte form (RFC 8285 §4.3): an id above 14, an empty value, a value over 16 bytes,
// CSRCs and padding.
Bytes two_byte_ext() {
  RtpPacketBuilder b;
  b.payload_type(97).sequence(7).timestamp(1).ssrc(0x55667788).csrc(0xc0c0c0c0).csrc(0xc1c1c1c1);
  b.extension(kRepairedRidId, std::string_view("m")).extension(kMidId, std::string_view(""));
  b.extension(64, std::string_view("a-value-longer-than-16-bytes"));
  b.two_byte_extensions(true).padding(4).payload(ByteSpan(kVp8Key, sizeof kVp8Key));
  return b.build();
}

Bytes rtx_of(const Bytes& original, uint32_t rtx_ssrc = 0x99999999) {
  Bytes copy = original;
  auto p = RtpPacket::parse(copy.data(), copy.size());
  Bytes out(copy.size() + 2);
  out.resize(write_rtx(*p, 97, rtx_ssrc, 3, out.data(), out.size()));
  return out;
}

}  // namespace

void rtp_seeds(const fs::path& dir) {
  write_seed(dir, "rtcp_sr_sdes_bye.bin", sr_sdes_bye());
  write_seed(dir, "rtcp_rr_nack_pli_fir.bin", rr_nack_pli_fir());
  write_seed(dir, "rtcp_remb_low.bin", remb(300'000));
  write_seed(dir, "rtcp_remb_saturated.bin", remb(UINT64_MAX));
  write_seed(dir, "rtcp_transport_cc_mixed.bin", transport_cc());
  Bytes all = sr_sdes_bye();
  for (const Bytes& b : {rr_nack_pli_fir(), remb(2'500'000), transport_cc()}) all.insert(all.end(), b.begin(), b.end());
  write_seed(dir, "rtcp_compound_all_types.bin", all);
  struct Payload { const char* name; ByteSpan bytes; uint8_t pt; };
  for (Payload p : {Payload{"vp8_key", ByteSpan(kVp8Key, sizeof kVp8Key), 96},
                    Payload{"vp9_key", ByteSpan(kVp9Key, sizeof kVp9Key), 98},
                    Payload{"h264_stap_a", ByteSpan(kH264StapA, sizeof kH264StapA), 102},
                    Payload{"h264_fu_a", ByteSpan(kH264FuA, sizeof kH264FuA), 102},
                    Payload{"av1_key", ByteSpan(kAv1Key, sizeof kAv1Key), 45},
                    Payload{"opus_level", ByteSpan(kOpus, sizeof kOpus), 111}}) {
    write_seed(dir, std::string("rtp_") + p.name + ".bin", one_byte_ext(p.bytes, p.pt));
  }
  write_seed(dir, "rtp_two_byte_csrc_padding.bin", two_byte_ext());
  write_seed(dir, "rtp_rtx_of_vp8_key.bin", rtx_of(one_byte_ext(ByteSpan(kVp8Key, sizeof kVp8Key), 96)));
}

// ---- sfu: record streams for fuzz/sfu_target.cpp (its constants, mirrored) ----
namespace {

constexpr uint32_t kHostSsrc = 0x100, kHostRtxSsrc = 0x200, kViewerSsrc = 0x1000;
constexpr uint8_t kHostTwccId = 5;
enum Op : uint8_t { kViewerRtcp = 0, kHostRtp = 1, kHostRtcp = 2, kTick = 3 };

class Records {
 public:
  Records& add(uint8_t op, const Bytes& b) {
    out_.push_back(op);
    out_.push_back(uint8_t(b.size() >> 8));
    out_.push_back(uint8_t(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  Records& tick(int ms) { return add(uint8_t(kTick | (ms / 8) << 2), {}); }
  const Bytes& bytes() const { return out_; }

 private:
  Bytes out_;
};

// A VP8 packet of `layer` (L1T3 temporal ids, a keyframe every `key_every` pictures) with
// the host's transport-cc sequence number.
Bytes host_vp8(uint32_t layer, uint16_t seq, uint16_t twcc, bool key) {
  const uint8_t tid = uint8_t(seq % 4 == 0 ? 0 : seq % 2 == 0 ? 1 : 2);
  const uint8_t vp8[] = {0x90, 0xe0, uint8_t(0x80 | seq >> 8), uint8_t(seq), uint8_t(seq / 4),
                         uint8_t(tid << 6 | (tid == 0 ? 0x20 : 0)), uint8_t(key ? 0x00 : 0x01), 0x9d, 0x01, 0x2a};
  const uint8_t tcc[2] = {uint8_t(twcc >> 8), uint8_t(twcc)};
  RtpPacketBuilder b;
  b.payload_type(96).sequence(seq).timestamp(3000u * seq).ssrc(kHostSsrc + layer).marker(true);
  b.extension(kHostTwccId, ByteSpan(tcc, 2)).payload(ByteSpan(vp8, sizeof vp8));
  return b.build();
}

// Host media on every layer for `pictures` pictures from `first`, skipping `lost`.
void host_media(Records& r, uint16_t first, int pictures, uint16_t& twcc, int lost = -1) {
  for (int i = 0; i < pictures; ++i) {
    const uint16_t seq = uint16_t(first + i);
    for (uint32_t l = 0; l < 3; ++l) {
      const uint16_t t = twcc++;
      if (seq != lost) r.add(kHostRtp, host_vp8(l, uint16_t(seq + 1000 * l), t, i == 0));
    }
    r.tick(32);
  }
}

// LSR of an SR sent at 1000.5 s: the target's clock starts at 1000 s (FakeClock) and its
// NTP is that clock, so the report gives the consumer an RTT of a few hundred ms.
constexpr uint32_t kLsr = (1000u << 16) + 0x8000;

Bytes viewer_feedback(uint16_t base, int count) {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x77, {ReportBlock{kViewerSsrc, 5, 2, 30, 10, kLsr, 0x1000}}});
  TransportFeedback fb{0x77, kViewerSsrc, base, 20000, 0, {}};
  for (int i = 0; i < count; ++i) fb.packets.push_back({uint16_t(base + i), i % 7 != 3, i % 7 != 3 ? 2000 : 0});
  append_transport_feedback(out, fb);
  return out;
}

Bytes viewer_nack_pli_fir() {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x77, {ReportBlock{kViewerSsrc, 40, 9, 30, 10, kLsr, 0}}});
  append_nack(out, Nack{0x77, kViewerSsrc, {{0, 0xffff}, {17, 0x00ff}}});
  append_pli(out, Pli{0x77, kViewerSsrc});
  append_fir(out, Fir{0x77, {{kViewerSsrc, 1}}});
  return out;
}

Bytes viewer_remb(uint64_t bps) {
  Bytes out;
  append_receiver_report(out, ReceiverReport{0x77, {}});
  append_remb(out, Remb{0x77, bps, {kViewerSsrc}});
  return out;
}

Bytes host_sr(uint32_t layer) {
  Bytes out;
  append_sender_report(out, SenderReport{kHostSsrc + layer, 0xe42a4e6c80000000ull, 270000, 30, 3000, {}});
  append_sdes(out, Sdes{{SdesChunk{kHostSsrc + layer, "host"}}});
  return out;
}

}  // namespace

void sfu_seeds(const fs::path& dir) {
  uint16_t twcc = 1;
  Records media;
  host_media(media, 10, 12, twcc);
  write_seed(dir, "sfu_host_media.bin", media.bytes());

  Records loss;
  host_media(loss, 10, 12, twcc, 15);
  loss.tick(200).tick(200);  // NACKs due, then the keyframe request after too many retries
  Bytes lost = host_vp8(0, 15, 999, false);
  loss.add(kHostRtp, rtx_of(lost, kHostRtxSsrc)).add(kHostRtcp, host_sr(0)).tick(500);
  write_seed(dir, "sfu_host_loss_rtx_sr.bin", loss.bytes());

  Records nack;
  host_media(nack, 10, 6, twcc);
  nack.add(kViewerRtcp, viewer_nack_pli_fir()).tick(100);
  write_seed(dir, "sfu_viewer_nack_pli_fir.bin", nack.bytes());

  Records bwe;
  host_media(bwe, 10, 10, twcc);
  bwe.add(kViewerRtcp, viewer_feedback(1, 60)).tick(100).add(kViewerRtcp, viewer_feedback(61, 40)).tick(500);
  write_seed(dir, "sfu_viewer_transport_cc.bin", bwe.bytes());

  Records remb;
  host_media(remb, 10, 6, twcc);
  remb.add(kViewerRtcp, viewer_remb(150'000)).tick(200).add(kViewerRtcp, viewer_remb(5'000'000)).tick(500);
  write_seed(dir, "sfu_viewer_remb.bin", remb.bytes());

  Records quiet;
  quiet.tick(500).tick(500).add(kViewerRtcp, viewer_nack_pli_fir()).tick(500);
  write_seed(dir, "sfu_ticks_only.bin", quiet.bytes());

  // A padding-only RTX probe (no original sequence number), what browsers send.
  Records probe;
  RtpPacketBuilder b;
  b.payload_type(97).sequence(5).timestamp(0).ssrc(kHostRtxSsrc + 1).padding(200);
  probe.add(kHostRtp, b.build()).add(kHostRtp, host_vp8(1, 1, 1, true)).tick(8);
  write_seed(dir, "sfu_host_padding_probe.bin", probe.bytes());

  Records all;
  host_media(all, 40000, 8, twcc, 40003);
  all.add(kHostRtcp, host_sr(1)).add(kViewerRtcp, viewer_feedback(1, 30)).add(kViewerRtcp, viewer_nack_pli_fir());
  all.add(kHostRtp, rtx_of(host_vp8(0, 40003, 7, false), kHostRtxSsrc)).add(kViewerRtcp, viewer_remb(800'000)).tick(504);
  write_seed(dir, "sfu_session_mixed.bin", all.bytes());
}

}  // namespace strata::fuzz
