#include "sfu/producer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet_builder.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kRtcpSsrc = 0x5EED0001;
constexpr uint32_t kMediaSsrc = 0x00ABCDEF;

const std::vector<uint8_t> kKeyframe = {0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01};
const std::vector<uint8_t> kDelta = {0x10, 0x01, 0x02, 0x03};

IngestTrackInfo video_track(std::vector<std::string> rids = {}, bool nack = true) {
  IngestTrackInfo info;
  info.mid = "0";
  info.kind = MediaKind::kVideo;
  info.codec.payload_type = 96;
  info.codec.name = "VP8";
  info.codec.clock_rate = 90000;
  info.codec.codec = codecs::Codec::kVp8;
  info.codec.nack = nack;
  info.codec.pli = true;
  info.rids = std::move(rids);
  return info;
}

IngestTrackInfo audio_track() {
  IngestTrackInfo info;
  info.mid = "1";
  info.kind = MediaKind::kAudio;
  info.codec.payload_type = 111;
  info.codec.name = "opus";
  info.codec.clock_rate = 48000;
  info.codec.codec = codecs::Codec::kOpus;
  return info;
}

// Owns the bytes an RtpPacket view points into.
struct Packet {
  Bytes bytes;
  rtp::RtpPacket view() {
    auto p = rtp::RtpPacket::parse(bytes.data(), bytes.size());
    EXPECT_TRUE(p);
    return *p;
  }
};

Packet make_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, const std::vector<uint8_t>& payload) {
  rtp::RtpPacketBuilder b;
  b.payload_type(96).ssrc(ssrc).sequence(seq).timestamp(ts).payload(ByteSpan(payload.data(), payload.size()));
  return Packet{b.build()};
}

// One collect_rtcp() output, taken apart.
struct Rtcp {
  Bytes raw;
  std::vector<rtp::RtcpPacketView> parts;
  std::vector<rtp::Pli> plis;
  std::vector<rtp::Nack> nacks;
  std::optional<rtp::ReceiverReport> rr;

  explicit Rtcp(Bytes bytes) : raw(std::move(bytes)) {
    rtp::RtcpIterator it(raw);
    while (auto v = it.next()) {
      parts.push_back(*v);
      if (auto pli = rtp::parse_pli(*v)) plis.push_back(*pli);
      if (auto nack = rtp::parse_nack(*v)) nacks.push_back(*nack);
      if (v->is(rtp::RtcpType::kRr) && !rr) rr = rtp::parse_receiver_report(*v);
    }
    EXPECT_FALSE(it.malformed());
  }
  bool empty() const { return raw.empty(); }
  // RFC 3550 §6.1: a compound packet starts with SR or RR.
  bool starts_with_rr() const { return !parts.empty() && parts[0].is(rtp::RtcpType::kRr); }
};

Rtcp collect(Producer& p, Timestamp now) {
  Bytes out;
  p.collect_rtcp(now, out);
  return Rtcp(std::move(out));
}

class ProducerTest : public testing::Test {
 protected:
  Producer::Verdict feed(Producer& p, uint32_t ssrc, uint16_t seq, const std::vector<uint8_t>& payload,
                         int layer = 0, bool recovered = false) {
    Packet pkt = make_packet(ssrc, seq, uint32_t(seq) * 3000, payload);
    return p.on_rtp(pkt.view(), layer, recovered, clock_.now());
  }
  FakeClock clock_;
};

TEST_F(ProducerTest, SingleLayerPassesEveryPacketOn) {
  Producer p(video_track(), kRtcpSsrc);
  EXPECT_EQ(p.layer_count(), 1u);
  size_t bytes = 0;
  for (uint16_t i = 0; i < 50; ++i) {
    clock_.advance(10ms);
    // Gaps, reordering and silence don't matter to a single-layer track.
    const uint16_t seq = uint16_t(65500 + i * 2 + (i % 3 == 0 ? 1 : 0));
    auto v = feed(p, kMediaSsrc, seq, i % 10 == 0 ? kKeyframe : kDelta);
    EXPECT_FALSE(v.duplicate) << i;
    EXPECT_EQ(v.facts.layer, 0) << i;
    EXPECT_EQ(v.facts.keyframe, i % 10 == 0) << i;
    bytes += 12 + (i % 10 == 0 ? kKeyframe.size() : kDelta.size());
    if (i == 25) clock_.advance(3s);
  }
  EXPECT_EQ(p.packets(), 50u);
  EXPECT_EQ(p.bytes(), bytes);
}

TEST_F(ProducerTest, AudioPacketsHaveNoVideoFacts) {
  Producer p(audio_track(), kRtcpSsrc);
  for (uint16_t i = 0; i < 10; ++i) {
    auto v = feed(p, 0xA0D10, i, {0xfc, 0x01, 0x02});
    EXPECT_FALSE(v.duplicate);
    EXPECT_FALSE(v.facts.keyframe);
    EXPECT_FALSE(v.facts.frame_start);
    EXPECT_EQ(v.facts.temporal, -1);
  }
  EXPECT_EQ(p.packets(), 10u);
  EXPECT_EQ(p.keyframes(), 0u);
}

TEST_F(ProducerTest, UnknownLayerIsIgnored) {
  Producer p(video_track(), kRtcpSsrc);
  for (int layer : {-1, 1, 3}) {
    auto v = feed(p, kMediaSsrc, 1, kKeyframe, layer);
    EXPECT_FALSE(v.facts.keyframe) << layer;
  }
  EXPECT_EQ(p.packets(), 0u);
  EXPECT_EQ(p.keyframes(), 0u);
}

TEST_F(ProducerTest, KeyframeDetection) {
  struct Case {
    const char* name;
    IngestTrackInfo info;
    std::vector<uint8_t> payload;
    bool keyframe;
  };
  const std::vector<Case> cases = {
      {"vp8 keyframe", video_track(), kKeyframe, true},
      {"vp8 delta", video_track(), kDelta, false},
      {"vp8 continuation (S=0)", video_track(), {0x00, 0x00, 0x9d}, false},
      {"vp8 descriptor only", video_track(), {0x10}, false},
      {"empty payload", video_track(), {}, false},
      {"opus never", audio_track(), kKeyframe, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Producer p(c.info, kRtcpSsrc);
    auto v = feed(p, kMediaSsrc, 7, c.payload);
    EXPECT_FALSE(v.duplicate);
    EXPECT_EQ(v.facts.keyframe, c.keyframe);
    EXPECT_EQ(p.keyframes(), c.keyframe ? 1u : 0u);
  }
}

TEST_F(ProducerTest, KeyframeRequestsAreCoalesced) {
  struct Case {
    const char* name;
    bool keyframe_arrives;  // a keyframe arrives after the last request, before the interval ends
    uint64_t want_plis;
  };
  const Case cases[] = {{"no keyframe", false, 2}, {"keyframe satisfies the waiters", true, 1}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    Producer p(video_track(), kRtcpSsrc);
    Packet first = make_packet(kMediaSsrc, 1, 0, kDelta);
    p.on_rtp(first.view(), 0, false, clock.now());
    uint64_t plis = 0;
    uint16_t seq = 2;
    // 50 requests spread over 1 s, RTCP collected every 10 ms for 1.5 s.
    for (int ms = 0; ms <= 1500; ms += 10) {
      if (ms < 1000 && ms % 20 == 0) p.request_keyframe(clock.now());
      if (c.keyframe_arrives && ms == 990) {
        Packet k = make_packet(kMediaSsrc, seq++, 0, kKeyframe);
        p.on_rtp(k.view(), 0, false, clock.now());
      }
      Rtcp r = collect(p, clock.now());
      for (auto& pli : r.plis) {
        EXPECT_EQ(pli.sender_ssrc, kRtcpSsrc);
        EXPECT_EQ(pli.media_ssrc, kMediaSsrc);
        EXPECT_TRUE(r.starts_with_rr());
        ++plis;
      }
      clock.advance(10ms);
    }
    EXPECT_EQ(plis, c.want_plis);
    EXPECT_EQ(p.keyframe_requests_sent(), c.want_plis);
  }
}

TEST_F(ProducerTest, KeyframeRequestWaitsForTheFirstPacket) {
  Producer p(video_track(), kRtcpSsrc);
  p.request_keyframe(clock_.now());
  EXPECT_TRUE(collect(p, clock_.now()).plis.empty()) << "no SSRC to ask yet";
  clock_.advance(10ms);
  feed(p, kMediaSsrc, 1, kDelta);
  Rtcp r = collect(p, clock_.now());
  ASSERT_EQ(r.plis.size(), 1u);
  EXPECT_EQ(r.plis[0].media_ssrc, kMediaSsrc);
}

TEST_F(ProducerTest, AudioNeverSendsPli) {
  Producer p(audio_track(), kRtcpSsrc);
  feed(p, kMediaSsrc, 1, {0xfc});
  for (int i = 0; i < 5; ++i) {
    p.request_keyframe(clock_.now());
    EXPECT_TRUE(collect(p, clock_.now()).plis.empty());
    clock_.advance(1s);
  }
  EXPECT_EQ(p.keyframe_requests_sent(), 0u);
}

TEST_F(ProducerTest, NackForAGapOnlyWhenNegotiated) {
  struct Case {
    bool nack;
    std::vector<uint16_t> seqs;
    std::vector<uint16_t> want_missing;
  };
  const Case cases[] = {
      {true, {10, 11, 12, 15, 16}, {13, 14}},
      {true, {65533, 65534, 1, 2}, {65535, 0}},  // across the wrap
      {true, {1, 2, 3, 4}, {}},
      {true, {1, 3, 2, 4}, {}},  // reordered, filled before the NACK went out
      {false, {10, 11, 12, 15, 16}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "nack=" << c.nack << " first=" << c.seqs[0]);
    FakeClock clock;
    Producer p(video_track({}, c.nack), kRtcpSsrc);
    for (uint16_t s : c.seqs) {
      Packet pkt = make_packet(kMediaSsrc, s, 0, kDelta);
      p.on_rtp(pkt.view(), 0, false, clock.now());
    }
    clock.advance(5ms);
    Rtcp r = collect(p, clock.now());
    EXPECT_TRUE(r.starts_with_rr());
    std::vector<uint16_t> missing;
    for (auto& n : r.nacks) {
      EXPECT_EQ(n.sender_ssrc, kRtcpSsrc);
      EXPECT_EQ(n.media_ssrc, kMediaSsrc);
      for (uint16_t s : rtp::expand_nack_items(n.items)) missing.push_back(s);
    }
    EXPECT_EQ(missing, c.want_missing);
    EXPECT_EQ(p.nacks_sent(), c.want_missing.empty() ? 0u : 1u);
  }
}

TEST_F(ProducerTest, RecoveredPacketFillsTheGap) {
  Producer p(video_track(), kRtcpSsrc);
  feed(p, kMediaSsrc, 1, kDelta);
  feed(p, kMediaSsrc, 3, kDelta);
  Rtcp first = collect(p, clock_.now());
  ASSERT_EQ(first.nacks.size(), 1u);
  EXPECT_EQ(rtp::expand_nack_items(first.nacks[0].items), std::vector<uint16_t>{2});
  // The retransmission (restored from RTX by the caller) arrives: no more NACKs for it.
  auto v = feed(p, kMediaSsrc, 2, kDelta, 0, /*recovered=*/true);
  EXPECT_FALSE(v.duplicate);
  for (int i = 0; i < 10; ++i) {
    clock_.advance(50ms);
    EXPECT_TRUE(collect(p, clock_.now()).nacks.empty()) << i;
  }
  EXPECT_EQ(p.nacks_sent(), 1u);
}

// Browsers pad for bandwidth probing with RTX copies of packets already delivered: such a
// copy must reach no consumer (a viewer joining then would start at an old keyframe and
// see a hole up to the live packets), while a retransmission that fills a gap must.
TEST_F(ProducerTest, RetransmissionOfAPacketNeverMissingIsADuplicate) {
  struct Case {
    const char* name;
    uint16_t seq;
    bool duplicate;
  };
  const Case cases[] = {{"already received", 10, true}, {"the gap", 12, false}, {"gap again (filled)", 12, true},
                        {"far in the past", 1, true}};
  Producer p(video_track(), kRtcpSsrc);
  feed(p, kMediaSsrc, 10, kKeyframe);
  feed(p, kMediaSsrc, 11, kDelta);
  feed(p, kMediaSsrc, 13, kDelta);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto v = feed(p, kMediaSsrc, c.seq, c.seq == 10 ? kKeyframe : kDelta, 0, /*recovered=*/true);
    EXPECT_EQ(v.duplicate, c.duplicate);
  }
  EXPECT_FALSE(feed(p, kMediaSsrc, 14, kDelta).duplicate) << "live packets are never duplicates";
}

TEST_F(ProducerTest, UnrecoverableLossAsksForAKeyframe) {
  Producer p(video_track(), kRtcpSsrc);
  feed(p, kMediaSsrc, 1, kDelta);
  feed(p, kMediaSsrc, 3, kDelta);  // 2 never comes
  size_t nacks = 0, plis = 0;
  for (int ms = 0; ms <= 3000; ms += 10) {
    Rtcp r = collect(p, clock_.now());
    nacks += r.nacks.size();
    for (auto& pli : r.plis) {
      EXPECT_EQ(pli.media_ssrc, kMediaSsrc);
      ++plis;
    }
    clock_.advance(10ms);
  }
  EXPECT_GE(nacks, 2u);   // retried
  EXPECT_LE(nacks, 11u);  // but bounded (NackConfig::max_retries)
  EXPECT_EQ(plis, 1u);    // then gave up and asked for a keyframe instead
}

TEST_F(ProducerTest, ReceiverReportEverySecondAndCompoundStartsWithRr) {
  // NACK off: its retries would add feedback between reports (tested above).
  Producer p(video_track({}, false), kRtcpSsrc);
  for (uint16_t s = 100; s < 110; ++s) {
    if (s == 105) continue;  // one lost
    feed(p, kMediaSsrc, s, kDelta);
  }
  struct Step {
    Duration advance;
    bool request_keyframe;
    bool want_output;
    bool want_blocks;  // a full report (due) rather than an empty RR in front of feedback
    size_t want_plis;
  };
  const Step steps[] = {
      {0ms, false, true, true, 0},      // first collect: report due
      {300ms, false, false, false, 0},  // nothing due
      {100ms, true, true, false, 1},    // PLI: an empty RR leads the compound
      {599ms, false, false, false, 0},
      {1ms, false, true, true, 0},      // 1 s after the first report
      {500ms, false, false, false, 0},
      {500ms, false, true, true, 0},
  };
  bool first = true;
  for (size_t i = 0; i < std::size(steps); ++i) {
    SCOPED_TRACE(i);
    const auto& s = steps[i];
    clock_.advance(s.advance);
    if (s.request_keyframe) p.request_keyframe(clock_.now());
    Rtcp r = collect(p, clock_.now());
    ASSERT_EQ(!r.empty(), s.want_output);
    EXPECT_EQ(r.plis.size(), s.want_plis);
    if (r.empty()) continue;
    EXPECT_TRUE(r.starts_with_rr());
    EXPECT_TRUE(rtp::is_valid_compound(r.raw));
    ASSERT_TRUE(r.rr);
    EXPECT_EQ(r.rr->ssrc, kRtcpSsrc);
    if (!s.want_blocks) {
      EXPECT_TRUE(r.rr->blocks.empty());
      continue;
    }
    ASSERT_EQ(r.rr->blocks.size(), 1u);
    const auto& b = r.rr->blocks[0];
    EXPECT_EQ(b.ssrc, kMediaSsrc);
    EXPECT_EQ(b.highest_seq, 109u);
    EXPECT_EQ(b.cumulative_lost, 1);
    if (first) {
      EXPECT_EQ(b.fraction_lost, uint8_t(256 / 10));  // 1 of 10 in the first interval
      EXPECT_TRUE(r.nacks.empty());
      first = false;
    } else {
      EXPECT_EQ(b.fraction_lost, 0);  // nothing new was expected since
    }
  }
}

TEST_F(ProducerTest, ReportCarriesLsrFromSenderReport) {
  Producer p(video_track(), kRtcpSsrc);
  feed(p, kMediaSsrc, 1, kDelta);
  rtp::SenderReport sr;
  sr.ssrc = kMediaSsrc;
  sr.ntp = 0x0001234556780000ull;
  p.on_sender_report(0, sr, clock_.now());
  p.on_sender_report(5, sr, clock_.now());  // unknown layer: ignored
  clock_.advance(500ms);
  Rtcp r = collect(p, clock_.now());
  ASSERT_TRUE(r.rr);
  ASSERT_EQ(r.rr->blocks.size(), 1u);
  EXPECT_EQ(r.rr->blocks[0].lsr, 0x23455678u);  // middle 32 bits
  EXPECT_EQ(r.rr->blocks[0].dlsr, 0x8000u);     // 0.5 s in 1/65536 s
}

// ---- simulcast ------------------------------------------------------------------------

constexpr uint32_t kLayerSsrc[3] = {0x100, 0x200, 0x300};

// Which layers send during [from, to) (ms), at one packet per layer every 20 ms.
struct Segment {
  int from_ms, to_ms;
  std::vector<int> layers;
};

// Feeds the schedule; at `ask_ms` someone asks for a keyframe without naming a layer.
// Returns the media SSRCs the PLIs went to.
std::vector<uint32_t> keyframe_request_targets(const std::vector<Segment>& schedule, int end_ms, int ask_ms) {
  FakeClock clock;
  const Timestamp start = clock.now();
  Producer p(video_track({"q", "h", "f"}, false), kRtcpSsrc);
  EXPECT_EQ(p.layer_count(), 3u);
  std::vector<uint32_t> plis;
  uint16_t seq[3] = {1000, 2000, 3000};
  for (int ms = 0; ms < end_ms; ms += 20) {
    clock.set(start + std::chrono::milliseconds(ms));
    for (int layer = 0; layer < 3; ++layer) {
      bool sends = false;
      for (auto& s : schedule) {
        if (ms >= s.from_ms && ms < s.to_ms && std::count(s.layers.begin(), s.layers.end(), layer)) sends = true;
      }
      if (!sends) continue;
      Packet pkt = make_packet(kLayerSsrc[layer], seq[layer]++, uint32_t(ms) * 90, kDelta);
      auto v = p.on_rtp(pkt.view(), layer, false, clock.now());
      EXPECT_EQ(v.facts.layer, layer) << "every packet says which encoding it is";
    }
    if (ms == ask_ms) p.request_keyframe(clock.now());
    Rtcp r = collect(p, clock.now());
    for (auto& pli : r.plis) plis.push_back(pli.media_ssrc);
  }
  return plis;
}

// Viewers choose their layer themselves; a request that names none (a relay's viewer, a
// new slot) goes to the best layer that is flowing.
TEST(ProducerSimulcast, KeyframeRequestWithoutALayerGoesToTheTopFlowingOne) {
  struct Case {
    const char* name;
    std::vector<Segment> schedule;
    uint32_t want_pli_to;
  };
  const std::vector<Case> cases = {
      {"all three", {{0, 1000, {0, 1, 2}}}, kLayerSsrc[2]},
      {"only h", {{0, 1000, {1}}}, kLayerSsrc[1]},
      {"q stops, h continues", {{0, 500, {0}}, {0, 2000, {1}}}, kLayerSsrc[1]},
      {"f went silent 600 ms ago", {{0, 2000, {0, 1}}, {0, 1400, {2}}}, kLayerSsrc[1]},
      {"everything stops but q", {{0, 3000, {0, 1, 2}}, {3000, 4000, {0}}}, kLayerSsrc[0]},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    int end = 0;
    for (auto& s : c.schedule) end = std::max(end, s.to_ms);
    auto plis = keyframe_request_targets(c.schedule, end, end - 20);
    EXPECT_EQ(plis, std::vector<uint32_t>{c.want_pli_to});
  }
}

TEST(ProducerSimulcast, ReportHasOneBlockPerSeenLayer) {
  FakeClock clock;
  Producer p(video_track({"q", "h", "f"}), kRtcpSsrc);
  for (int layer : {0, 2}) {
    Packet pkt = make_packet(kLayerSsrc[layer], 10, 0, kDelta);
    p.on_rtp(pkt.view(), layer, false, clock.now());
  }
  Rtcp r = collect(p, clock.now());
  ASSERT_TRUE(r.rr);
  ASSERT_EQ(r.rr->blocks.size(), 2u);
  EXPECT_EQ(r.rr->blocks[0].ssrc, kLayerSsrc[0]);
  EXPECT_EQ(r.rr->blocks[1].ssrc, kLayerSsrc[2]);
}

}  // namespace
}  // namespace strata::sfu
