// SFU fuzz body: the per-session packet handling behind SRTP, sans-IO. A stranger who
// completed DTLS sends us SRTP/SRTCP that decrypts to whatever they like, so this feeds
// fuzzer-chosen packets to what the worker's sessions call with them:
//  - host RTP's transport-cc sequence numbers into the sfu::TransportFeedbackGenerator
//    whose feedback goes back to the host;
//  - host RTP into an ingest sfu::Producer (VP8 simulcast, 3 layers, NACK, RTX restored
//    as PublisherSession::on_rtp does) and on through a simulcast sfu::Consumer;
//  - host RTCP (sender reports) into the Producer (PublisherSession::on_rtcp);
//  - viewer RTCP dispatched as ViewerSession::on_rtcp does: transport-cc and REMB to the
//    sfu::DownlinkController (the bandwidth estimator), RR blocks to the Consumer (RTT)
//    and the estimator, NACKs to Consumer::write_retransmission, PLI/FIR to the
//    Producer's keyframe requests;
//  - ticks: layer selection and probes, transport-cc feedback, the Producer's
//    RR/NACK/PLI, the Consumer's SR.
// ViewerSession and PublisherSession need a worker and sockets, so the dispatch is
// mirrored here (keep it in step with src/worker/{viewer_session,sessions}.cpp).
//
// Input: records [op][length, 16-bit big endian][length bytes]...; op & 3 picks the
// record's kind (kViewerRtcp, kHostRtp, kHostRtcp, kTick); a tick advances time by
// (op >> 2) * 8 ms. Every record advances the clock by 1 ms. A fresh session per input
// keeps runs reproducible (the Consumer's random RTX sequence start changes no branch).
// Invariants: everything we send parses (our RTP as RTP from our SSRCs, our RTCP as a
// valid compound), and the bandwidth estimate stays positive.
#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "common/packet_buffer.hpp"
#include "common/time.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "rtp/rtx.hpp"
#include "sfu/consumer.hpp"
#include "sfu/downlink_controller.hpp"
#include "sfu/producer.hpp"
#include "sfu/transport_feedback_generator.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

using namespace std::chrono_literals;

// The fixed numbers of the session; seeds (fuzz/seed_generator.cpp) use the same.
constexpr uint32_t kHostSsrc = 0x100;     // + layer: the host's media SSRCs
constexpr uint32_t kHostRtxSsrc = 0x200;  // + layer: their RTX
constexpr uint8_t kHostPt = 96, kHostRtxPt = 97;
constexpr uint32_t kViewerSsrc = 0x1000, kViewerRtxSsrc = 0x1001;
constexpr uint8_t kViewerTwccId = 3;
constexpr uint32_t kLayers = 3;
constexpr uint8_t kHostTwccId = 5;  // the host's transport-cc extension id

enum Op : uint8_t { kViewerRtcp = 0, kHostRtp = 1, kHostRtcp = 2, kTick = 3 };

volatile size_t g_sink = 0;

sfu::IngestTrackInfo ingest_info() {
  sfu::IngestTrackInfo info;
  info.mid = "0";
  info.kind = sfu::MediaKind::kVideo;
  info.codec = sfu::CodecParams{kHostPt, kHostRtxPt, "VP8", 90000, 0, "", codecs::Codec::kVp8, true, true, true};
  info.rids = {"l", "m", "h"};
  return info;
}

sfu::EgressTrackInfo egress_info() {
  sfu::EgressTrackInfo info;
  info.kind = sfu::MediaKind::kVideo;
  info.codec = sfu::CodecParams{100, 101, "VP8", 90000, 0, "", codecs::Codec::kVp8, true, true, true};
  info.ssrc = kViewerSsrc;
  info.rtx_ssrc = kViewerRtxSsrc;
  info.cname = "fuzz";
  info.source_layers = kLayers;
  info.transport_cc_ext = kViewerTwccId;
  return info;
}

// 32.32 NTP derived from the fake clock, so reports and RTTs are reproducible.
uint64_t ntp_at(Timestamp now) { return (uint64_t(to_micros(now)) << 32) / 1'000'000; }

class Session {
 public:
  Session()
      : producer_(ingest_info(), 0xabc), feedback_(0xabc), downlink_(nullptr), consumer_(egress_info()) {
    consumer_.set_transport_sequencer(&downlink_.sequencer());
  }

  // A few VP8 pictures per layer, keyframes first, so the consumer forwards and keeps
  // packets for NACKs and the estimator has sent packets to match feedback against.
  void prime() {
    for (int i = 0; i < 6; ++i) {
      for (uint32_t l = 0; l < kLayers; ++l) {
        const uint8_t vp8[] = {0x90, 0x80, uint8_t(0x80 | (i >> 8)), uint8_t(i), uint8_t(i == 0 ? 0x00 : 0x01), 0x55};
        rtp::RtpPacketBuilder b;
        b.payload_type(kHostPt).sequence(uint16_t(1000 * l + i)).timestamp(uint32_t(3000 * i));
        b.ssrc(kHostSsrc + l).marker(true).payload(ByteSpan(vp8, sizeof vp8));
        Bytes p = b.build();
        host_rtp(p);
      }
      now_ += 33ms;
    }
  }

  void run(uint8_t op, ByteSpan bytes) {
    now_ += 1ms;
    switch (op & 3) {
      case kViewerRtcp: viewer_rtcp(bytes); break;
      case kHostRtp: host_rtp(bytes); break;
      case kHostRtcp: host_rtcp(bytes); break;
      case kTick: tick(Duration(std::chrono::milliseconds(8 * (op >> 2)))); break;
    }
  }

  void tick(Duration advance) {
    now_ += advance;
    const sfu::DownlinkSlot slot{&consumer_, true, false, true};
    size_t probe = downlink_.on_tick(std::span(&slot, 1), now_);
    for (int i = 0; i < 32 && probe > 0; ++i) {
      const size_t n = consumer_.write_probe(downlink_.probe_cluster(), now_, out_, sizeof out_);
      if (n == 0) break;
      check_sent(n, true);
      probe -= std::min(probe, n);
    }
    Bytes rtcp;
    if (feedback_.collect(now_, rtcp)) check_transport_feedback(rtcp);
    rtcp.clear();
    producer_.collect_rtcp(now_, rtcp);
    check_rtcp(rtcp);
    rtcp.clear();
    if (consumer_.collect_rtcp(now_, ntp_at(now_), rtcp)) check_rtcp(rtcp);
    STRATA_FUZZ_CHECK("sfu", downlink_.estimate() > 0);
    g_sink = g_sink + producer_.nacks_sent() + producer_.keyframe_requests_sent() + consumer_.layer_switches() +
             size_t(downlink_.estimate());
  }

 private:
  // PublisherSession::route by SSRC, then PublisherSession::on_rtp.
  void host_rtp(ByteSpan bytes) {
    if (bytes.size() > PacketBuffer::kCapacity) return;  // larger than any datagram we read
    PacketRef ref = pool_.acquire();
    std::copy(bytes.begin(), bytes.end(), ref.data());
    auto p = rtp::RtpPacket::parse(ref.data(), bytes.size());
    if (!p) return;
    const uint32_t ssrc = p->ssrc();
    const bool rtx = ssrc - kHostRtxSsrc < kLayers;
    if (!rtx && ssrc - kHostSsrc >= kLayers) return;
    const uint32_t layer = ssrc - (rtx ? kHostRtxSsrc : kHostSsrc);
    if (auto seq = rtp::read_transport_cc_seq(*p, kHostTwccId)) feedback_.on_packet(ssrc, *seq, now_);
    if (rtx) {
      p = rtp::restore_from_rtx(*p, kHostPt, kHostSsrc + layer);
      if (!p) return;
    }
    ref->size = p->size();
    auto verdict = producer_.on_rtp(*p, int(layer), rtx, now_);
    STRATA_FUZZ_CHECK("sfu", verdict.facts.layer == layer);
    if (verdict.duplicate) return;
    const size_t n = consumer_.write(ref, verdict.facts, now_, out_, sizeof out_);
    if (n) check_sent(n, false);
  }

  void host_rtcp(ByteSpan bytes) {
    rtp::RtcpIterator it(bytes);
    while (auto v = it.next()) {
      if (!v->is(rtp::RtcpType::kSr)) continue;
      auto sr = rtp::parse_sender_report(*v);
      if (sr && sr->ssrc - kHostSsrc < kLayers) producer_.on_sender_report(int(sr->ssrc - kHostSsrc), *sr, now_);
    }
  }

  // ViewerSession::on_rtcp with one video consumer.
  void viewer_rtcp(ByteSpan bytes) {
    rtp::RtcpIterator it(bytes);
    while (auto v = it.next()) {
      if (downlink_.on_rtcp(*v, now_)) continue;  // transport-cc, REMB
      if (v->is(rtp::RtcpType::kRr)) {
        if (auto rr = rtp::parse_receiver_report(*v)) {
          for (const auto& b : rr->blocks) report_block(b);
        }
      } else if (auto nack = rtp::parse_nack(*v)) {
        if (nack->media_ssrc != kViewerSsrc) continue;
        for (uint16_t seq : rtp::expand_nack_items(nack->items)) {
          const size_t n = consumer_.write_retransmission(seq, now_, out_, sizeof out_);
          if (n) check_sent(n, true);
        }
      } else if (auto pli = rtp::parse_pli(*v)) {
        if (pli->media_ssrc == kViewerSsrc) keyframe_request();
      } else if (auto fir = rtp::parse_fir(*v)) {
        for (const auto& e : fir->entries) {
          if (e.ssrc == kViewerSsrc) keyframe_request();
        }
      }
    }
  }

  void report_block(const rtp::ReportBlock& b) {
    if (b.ssrc != kViewerSsrc) return;
    consumer_.on_report_block(b, ntp_at(now_));
    downlink_.on_report_block(b, consumer_.rtt(), now_);
  }

  // ViewerSession::on_viewer_keyframe_request: the layer the viewer decodes or awaits.
  void keyframe_request() {
    consumer_.on_keyframe_request();
    const int pending = consumer_.pending_layer(now_);
    producer_.request_keyframe(now_, pending >= 0 ? pending : consumer_.current_layer());
  }

  // What the consumer wrote for the viewer: RTP from our SSRCs with our transport-cc.
  void check_sent(size_t n, bool retransmission) {
    STRATA_FUZZ_CHECK("sfu", n <= sizeof out_);
    std::vector<uint8_t> copy(out_, out_ + n);  // exact size for ASan
    auto p = rtp::RtpPacket::parse(copy.data(), copy.size());
    STRATA_FUZZ_CHECK("sfu", p.has_value());
    const bool as_rtx = p->ssrc() == kViewerRtxSsrc && p->payload_type() == 101;
    STRATA_FUZZ_CHECK("sfu", as_rtx ? retransmission : (p->ssrc() == kViewerSsrc && p->payload_type() == 100));
    STRATA_FUZZ_CHECK("sfu", rtp::read_transport_cc_seq(*p, kViewerTwccId).has_value());
    g_sink = g_sink + p->payload_size();
  }

  // The transport-cc feedback we send the host: every sub-packet parses back.
  static void check_transport_feedback(const Bytes& rtcp) {
    rtp::RtcpIterator it(rtcp);
    size_t n = 0;
    while (auto v = it.next()) {
      STRATA_FUZZ_CHECK("sfu", rtp::parse_transport_feedback(*v).has_value());
      ++n;
    }
    STRATA_FUZZ_CHECK("sfu", n > 0 && !it.malformed());
  }

  static void check_rtcp(const Bytes& rtcp) {
    if (!rtcp.empty()) STRATA_FUZZ_CHECK("sfu", rtp::is_valid_compound(rtcp));
  }

  BufferPool pool_{16};  // first: outlives the consumer's references
  Timestamp now_ = FakeClock().now();
  sfu::Producer producer_;
  sfu::TransportFeedbackGenerator feedback_;  // the host's transport-cc (PublisherSession)
  sfu::DownlinkController downlink_;
  sfu::Consumer consumer_;
  uint8_t out_[PacketBuffer::kCapacity + 64];
};

}  // namespace

int sfu_one_input(const uint8_t* data, size_t size) {
  Session session;
  session.prime();
  size_t i = 0;
  while (i + 3 <= size) {
    const uint8_t op = data[i];
    const size_t len = std::min<size_t>(load_be16(data + i + 1), size - i - 3);
    // Exact-size heap copy per record so ASan catches any read past its end.
    const std::vector<uint8_t> record(data + i + 3, data + i + 3 + len);
    session.run(op, ByteSpan(record.data(), record.size()));
    i += 3 + len;
  }
  session.tick(1s);  // whatever the records left due
  return 0;
}

}  // namespace strata::fuzz
