#include "sfu/consumer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rtp/rtcp.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kOutSsrc = 0x0A0B0C0D;
constexpr uint32_t kOutRtxSsrc = 0x0A0B0C0E;
constexpr uint8_t kOutPt = 100;
constexpr uint8_t kOutRtxPt = 101;
constexpr uint32_t kSrcA = 0x11111111;
constexpr uint32_t kSrcB = 0x22222222;

// VP8 (RFC 7741): descriptor S=1 PID=0, then the payload header whose P bit (0x01) is 0
// for a keyframe and 1 for an interframe.
const std::vector<uint8_t> kKeyframe = {0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
const std::vector<uint8_t> kDelta = {0x10, 0x01, 0x02, 0x03, 0x04};
const std::vector<uint8_t> kAudio = {0xfc, 0xff, 0xfe, 0x01};

EgressTrackInfo video_info(bool rtx = true, bool nack = true) {
  EgressTrackInfo info;
  info.source_track = 0;
  info.mid = "1";
  info.kind = MediaKind::kVideo;
  info.codec.payload_type = kOutPt;
  if (rtx) info.codec.rtx_payload_type = kOutRtxPt;
  info.codec.name = "VP8";
  info.codec.clock_rate = 90000;
  info.codec.codec = codecs::Codec::kVp8;
  info.codec.nack = nack;
  info.codec.pli = true;
  info.ssrc = kOutSsrc;
  info.rtx_ssrc = kOutRtxSsrc;
  info.cname = "viewer-cname";
  return info;
}

EgressTrackInfo audio_info() {
  EgressTrackInfo info;
  info.kind = MediaKind::kAudio;
  info.codec.payload_type = 111;
  info.codec.name = "opus";
  info.codec.clock_rate = 48000;
  info.codec.channels = 2;
  info.codec.codec = codecs::Codec::kOpus;
  info.ssrc = kOutSsrc;
  info.cname = "a";
  return info;
}

struct In {
  uint32_t ssrc = kSrcA;
  uint16_t seq = 0;
  uint32_t ts = 0;
  std::vector<uint8_t> payload = kDelta;
  bool marker = false;
  uint8_t padding = 0;
  bool with_extensions = false;
};

PacketRef make_packet(BufferPool& pool, const In& in) {
  rtp::RtpPacketBuilder b;
  b.payload_type(96).sequence(in.seq).timestamp(in.ts).ssrc(in.ssrc).marker(in.marker);
  b.payload(ByteSpan(in.payload.data(), in.payload.size())).padding(in.padding);
  if (in.with_extensions) {
    b.extension(1, std::string_view("mid0")).extension(3, std::string_view("xy"));
    b.csrc(0xCAFEBABE);
  }
  PacketRef ref = pool.acquire();
  size_t n = b.write(ref.data(), PacketBuffer::kCapacity);
  EXPECT_GT(n, 0u);
  ref->size = n;
  return ref;
}

struct Out {
  std::vector<uint8_t> bytes;
  bool forwarded() const { return !bytes.empty(); }
  uint8_t first() const { return bytes.at(0); }
  bool marker() const { return bytes.at(1) & 0x80; }
  uint8_t pt() const { return bytes.at(1) & 0x7F; }
  uint16_t seq() const { return load_be16(&bytes.at(2)); }
  uint32_t ts() const { return load_be32(&bytes.at(4)); }
  uint32_t ssrc() const { return load_be32(&bytes.at(8)); }
  std::vector<uint8_t> payload() const { return {bytes.begin() + 12, bytes.end()}; }
};

class ConsumerTest : public testing::Test {
 protected:
  Out send(Consumer& c, const In& in) {
    PacketRef ref = make_packet(pool_, in);
    uint8_t out[PacketBuffer::kCapacity];
    size_t n = c.write_media(ref, clock_.now(), out, sizeof out);
    return Out{{out, out + n}};
  }
  Out retransmit(Consumer& c, uint16_t seq) {
    uint8_t out[PacketBuffer::kCapacity];
    size_t n = c.write_retransmission(seq, clock_.now(), out, sizeof out);
    return Out{{out, out + n}};
  }
  BufferPool pool_{64};
  FakeClock clock_;
};

TEST_F(ConsumerTest, VideoStartsOnlyAtAKeyframe) {
  struct Step {
    In in;
    bool forwarded;
    bool waiting_after;
  };
  const std::vector<Step> steps = {
      {{.seq = 10, .payload = kDelta}, false, true},
      {{.seq = 11, .payload = kDelta}, false, true},
      {{.seq = 12, .payload = {0x10}}, false, true},                 // descriptor only
      {{.seq = 13, .payload = {0x00, 0x00, 0x9d}}, false, true},     // S=0: not a frame start
      {{.seq = 14, .payload = {0x11, 0x00, 0x9d}}, false, true},     // partition 1
      {{.seq = 15, .payload = {}, .padding = 4}, false, true},       // padding probe
      {{.seq = 16, .payload = kKeyframe}, true, false},
      {{.seq = 17, .payload = kDelta}, true, false},
      {{.seq = 18, .payload = kDelta}, true, false},
  };
  Consumer c(video_info());
  EXPECT_TRUE(c.waiting_for_keyframe());
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    Out o = send(c, steps[i].in);
    EXPECT_EQ(o.forwarded(), steps[i].forwarded);
    EXPECT_EQ(c.waiting_for_keyframe(), steps[i].waiting_after);
  }
  EXPECT_EQ(c.packets_sent(), 3u);
}

TEST_F(ConsumerTest, AudioForwardsFromTheFirstPacket) {
  Consumer c(audio_info());
  EXPECT_FALSE(c.waiting_for_keyframe());
  Out o = send(c, {.seq = 500, .ts = 960, .payload = kAudio});
  ASSERT_TRUE(o.forwarded());
  EXPECT_EQ(o.pt(), 111);
  EXPECT_EQ(o.payload(), kAudio);
}

TEST_F(ConsumerTest, OutputHeaderIsRewrittenAndPayloadCopied) {
  struct Case {
    const char* name;
    In in;
  };
  const std::vector<Case> cases = {
      {"plain", {.seq = 1000, .ts = 90000, .payload = kKeyframe}},
      {"marker", {.seq = 1000, .ts = 90000, .payload = kKeyframe, .marker = true}},
      {"extensions and csrc", {.seq = 1000, .ts = 90000, .payload = kKeyframe, .with_extensions = true}},
      {"padding", {.seq = 1000, .ts = 90000, .payload = kKeyframe, .padding = 7}},
      {"everything", {.seq = 65535, .ts = 0xFFFFFFFF, .payload = kKeyframe, .marker = true, .padding = 3,
                      .with_extensions = true}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Consumer consumer(video_info());
    Out o = send(consumer, c.in);
    ASSERT_TRUE(o.forwarded());
    ASSERT_EQ(o.bytes.size(), 12 + c.in.payload.size());
    EXPECT_EQ(o.first(), 0x80);  // V=2, P=0, X=0, CC=0
    EXPECT_EQ(o.marker(), c.in.marker);
    EXPECT_EQ(o.pt(), kOutPt);
    EXPECT_EQ(o.ssrc(), kOutSsrc);
    EXPECT_EQ(o.seq(), c.in.seq);  // the first packet passes its numbers through
    EXPECT_EQ(o.ts(), c.in.ts);
    EXPECT_EQ(o.payload(), c.in.payload);
    auto parsed = rtp::RtpPacket::parse(o.bytes.data(), o.bytes.size());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->header_size(), 12u);
    EXPECT_FALSE(parsed->has_extension());
  }
}

// The producer's facts say where the payload is, so consumers read the header in place
// (once per viewer) instead of parsing it; facts without that (or with a place that does
// not fit the packet) make the consumer parse. Both give the same packet.
TEST_F(ConsumerTest, PayloadPlaceFromTheProducerGivesTheSameOutputAsAParse) {
  const In in{.seq = 7, .ts = 1234, .payload = kKeyframe, .marker = true, .padding = 5, .with_extensions = true};
  PacketRef ref = make_packet(pool_, in);
  auto parsed = rtp::RtpPacket::parse(ref.data(), ref.size());
  ASSERT_TRUE(parsed);
  const PacketFacts located = packet_facts(codecs::Codec::kVp8, MediaKind::kVideo, *parsed, 0);
  EXPECT_EQ(located.payload_offset, parsed->header_size());
  EXPECT_EQ(located.payload_size, kKeyframe.size());
  PacketFacts unknown = located;
  unknown.payload_offset = unknown.payload_size = 0;
  PacketFacts bogus = located;
  bogus.payload_size = uint16_t(ref.size());  // runs past the packet: ignored
  std::vector<std::vector<uint8_t>> outs;
  for (const PacketFacts& f : {located, unknown, bogus}) {
    Consumer consumer(video_info());
    uint8_t out[PacketBuffer::kCapacity];
    const size_t n = consumer.write(ref, f, clock_.now(), out, sizeof out);
    ASSERT_EQ(n, 12 + kKeyframe.size());
    outs.emplace_back(out, out + n);
    Out o{outs.back()};
    EXPECT_TRUE(o.marker());
    EXPECT_EQ(o.seq(), 7);
    EXPECT_EQ(o.ts(), 1234u);
    EXPECT_EQ(o.payload(), kKeyframe);
    EXPECT_EQ(consumer.write_retransmission(7, clock_.now(), out, sizeof out), 12 + 2 + kKeyframe.size());  // RTX kept it
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
}

TEST_F(ConsumerTest, SequenceContinuesAcrossInputWrapAround) {
  Consumer c(video_info());
  const uint16_t in_seqs[] = {65532, 65533, 65534, 65535, 0, 1, 2};
  std::optional<uint16_t> prev;
  for (size_t i = 0; i < std::size(in_seqs); ++i) {
    SCOPED_TRACE(in_seqs[i]);
    Out o = send(c, {.seq = in_seqs[i], .ts = uint32_t(3000 * i), .payload = i == 0 ? kKeyframe : kDelta});
    ASSERT_TRUE(o.forwarded());
    if (prev) {
      EXPECT_EQ(o.seq(), uint16_t(*prev + 1));
    }
    EXPECT_EQ(o.ts(), uint32_t(3000 * i));
    prev = o.seq();
  }
}

TEST_F(ConsumerTest, SequenceTable) {
  // Gaps stay gaps (the viewer NACKs them); padding-only packets are swallowed without a
  // hole; duplicates and too-old packets are dropped.
  struct Step {
    In in;
    std::optional<uint16_t> want_seq;  // nullopt: not forwarded
  };
  auto key = [](uint16_t s) { return In{.seq = s, .payload = kKeyframe}; };
  auto delta = [](uint16_t s) { return In{.seq = s, .payload = kDelta}; };
  auto pad = [](uint16_t s) { return In{.seq = s, .payload = {}, .padding = 200}; };
  const std::vector<Step> steps = {
      {key(100), 100},  {delta(101), 101}, {pad(102), std::nullopt}, {delta(103), 102},
      {pad(104), std::nullopt}, {pad(105), std::nullopt}, {delta(106), 103},
      {delta(108), 105},                    // 107 missing: output 104 is left for it
      {delta(107), 104},                    // reordered arrival fills its reserved number
      {delta(107), std::nullopt},           // duplicate
      {delta(101), std::nullopt},           // already sent
      {delta(109), 106},
  };
  Consumer c(video_info());
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "step " << i << " in seq " << steps[i].in.seq);
    Out o = send(c, steps[i].in);
    ASSERT_EQ(o.forwarded(), steps[i].want_seq.has_value());
    if (steps[i].want_seq) {
      EXPECT_EQ(o.seq(), *steps[i].want_seq);
    }
  }
}

TEST_F(ConsumerTest, SourceSwitchWaitsForKeyframeThenContinues) {
  Consumer c(video_info());
  uint16_t last_seq = 0;
  uint32_t last_ts = 0;
  for (uint16_t i = 0; i < 5; ++i) {
    Out o = send(c, {.ssrc = kSrcA, .seq = uint16_t(200 + i), .ts = 50000u + 3000u * i,
                     .payload = i == 0 ? kKeyframe : kDelta});
    ASSERT_TRUE(o.forwarded());
    last_seq = o.seq();
    last_ts = o.ts();
    clock_.advance(33ms);
  }
  // The host restarts (new SSRC, unrelated numbers): deltas of the new source wait.
  clock_.advance(67ms);  // 100 ms since the last sent packet
  EXPECT_FALSE(send(c, {.ssrc = kSrcB, .seq = 9000, .ts = 7, .payload = kDelta}).forwarded());
  EXPECT_TRUE(c.waiting_for_keyframe());
  EXPECT_FALSE(send(c, {.ssrc = kSrcB, .seq = 9001, .ts = 7, .payload = kDelta}).forwarded());
  Out k = send(c, {.ssrc = kSrcB, .seq = 9002, .ts = 3007, .payload = kKeyframe});
  ASSERT_TRUE(k.forwarded());
  EXPECT_FALSE(c.waiting_for_keyframe());
  EXPECT_EQ(k.ssrc(), kOutSsrc);
  EXPECT_EQ(k.seq(), uint16_t(last_seq + 1));
  EXPECT_EQ(k.ts(), last_ts + 9000);  // 100 ms at 90 kHz
  clock_.advance(33ms);
  Out d = send(c, {.ssrc = kSrcB, .seq = 9003, .ts = 6007, .payload = kDelta});
  ASSERT_TRUE(d.forwarded());
  EXPECT_EQ(d.seq(), uint16_t(last_seq + 2));
  EXPECT_EQ(d.ts(), last_ts + 9000 + 3000);
}

TEST_F(ConsumerTest, SourceSwitchWithImmediateKeyframeAndTimestampWrap) {
  Consumer c(video_info());
  ASSERT_TRUE(send(c, {.ssrc = kSrcA, .seq = 65535, .ts = 0xFFFFFF00, .payload = kKeyframe}).forwarded());
  // No wall time passed: the timestamp still advances (never repeats the last frame's).
  Out k = send(c, {.ssrc = kSrcB, .seq = 17, .ts = 1234, .payload = kKeyframe});
  ASSERT_TRUE(k.forwarded());
  EXPECT_EQ(k.seq(), 0);
  EXPECT_EQ(k.ts(), 0xFFFFFF01u);
}

TEST_F(ConsumerTest, AudioSourceSwitchNeedsNoKeyframe) {
  Consumer c(audio_info());
  ASSERT_TRUE(send(c, {.ssrc = kSrcA, .seq = 1, .ts = 960, .payload = kAudio}).forwarded());
  clock_.advance(20ms);
  Out o = send(c, {.ssrc = kSrcB, .seq = 777, .ts = 5, .payload = kAudio});
  ASSERT_TRUE(o.forwarded());
  EXPECT_EQ(o.seq(), 2);
  EXPECT_EQ(o.ts(), 960u + 960u);  // 20 ms at 48 kHz
}

TEST_F(ConsumerTest, WriteRetransmission) {
  struct Case {
    const char* name;
    bool rtx, nack;
  };
  const Case cases[] = {{"rtx", true, true}, {"plain", false, true}, {"no nack", true, false}};
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.name);
    Consumer c(video_info(cs.rtx, cs.nack));
    std::vector<Out> sent;
    for (uint16_t i = 0; i < 4; ++i) {
      sent.push_back(send(c, {.seq = uint16_t(40 + i), .ts = 1000u * i, .payload = i == 0 ? kKeyframe : kDelta,
                              .marker = i == 2}));
      ASSERT_TRUE(sent.back().forwarded());
    }
    EXPECT_FALSE(retransmit(c, 39).forwarded()) << "never sent";
    EXPECT_FALSE(retransmit(c, 44).forwarded()) << "not sent yet";
    Out r1 = retransmit(c, 42);
    Out r2 = retransmit(c, 40);
    if (!cs.nack) {
      EXPECT_FALSE(r1.forwarded());
      EXPECT_EQ(c.retransmissions(), 0u);
      continue;
    }
    ASSERT_TRUE(r1.forwarded());
    ASSERT_TRUE(r2.forwarded());
    EXPECT_EQ(c.retransmissions(), 2u);
    if (!cs.rtx) {
      EXPECT_EQ(r1.bytes, sent[2].bytes);  // the very same packet again
      EXPECT_EQ(r2.bytes, sent[0].bytes);
      continue;
    }
    // RFC 4588 §4: RTX SSRC/PT, own sequence space, original timestamp, then OSN + payload.
    for (auto [r, orig] : {std::pair{r1, sent[2]}, std::pair{r2, sent[0]}}) {
      EXPECT_EQ(r.first(), 0x80);
      EXPECT_EQ(r.pt(), kOutRtxPt);
      EXPECT_EQ(r.ssrc(), kOutRtxSsrc);
      EXPECT_EQ(r.ts(), orig.ts());
      EXPECT_EQ(r.marker(), orig.marker());
      ASSERT_EQ(r.bytes.size(), orig.bytes.size() + 2);
      EXPECT_EQ(load_be16(&r.bytes[12]), orig.seq());
      EXPECT_EQ(std::vector<uint8_t>(r.bytes.begin() + 14, r.bytes.end()), orig.payload());
    }
    EXPECT_EQ(r2.seq(), uint16_t(r1.seq() + 1));
    // Too small an output buffer: nothing written.
    uint8_t tiny[13];
    EXPECT_EQ(c.write_retransmission(41, clock_.now(), tiny, sizeof tiny), 0u);
    // Kept 2 s, then gone.
    clock_.advance(2100ms);
    EXPECT_FALSE(retransmit(c, 43).forwarded());
  }
}

std::vector<rtp::RtcpPacketView> split(const Bytes& compound) {
  std::vector<rtp::RtcpPacketView> v;
  rtp::RtcpIterator it(compound);
  while (auto p = it.next()) v.push_back(*p);
  EXPECT_FALSE(it.malformed());
  return v;
}

TEST_F(ConsumerTest, CollectRtcpSendsSrAndSdesOncePerSecondAfterMedia) {
  Consumer c(video_info());
  Bytes out;
  constexpr uint64_t kNtp = 0xE000000080000000ull;
  EXPECT_FALSE(c.collect_rtcp(clock_.now(), kNtp, out)) << "nothing sent yet";
  EXPECT_TRUE(out.empty());
  // A delta before the keyframe isn't sent either.
  ASSERT_FALSE(send(c, {.seq = 1, .payload = kDelta}).forwarded());
  EXPECT_FALSE(c.collect_rtcp(clock_.now(), kNtp, out));
  ASSERT_TRUE(send(c, {.seq = 2, .ts = 90000, .payload = kKeyframe}).forwarded());
  ASSERT_TRUE(send(c, {.seq = 3, .ts = 90000, .payload = kDelta}).forwarded());

  struct Step {
    Duration advance;
    bool want;
  };
  const Step steps[] = {{0ms, true}, {10ms, false}, {500ms, false}, {489ms, false}, {1ms, true},
                        {999ms, false}, {1ms, true}, {5s, true}, {0ms, false}};
  int reports = 0;
  for (size_t i = 0; i < std::size(steps); ++i) {
    SCOPED_TRACE(i);
    clock_.advance(steps[i].advance);
    out.clear();
    bool got = c.collect_rtcp(clock_.now(), kNtp, out);
    EXPECT_EQ(got, steps[i].want);
    EXPECT_EQ(out.empty(), !steps[i].want);
    if (!got) continue;
    ++reports;
    EXPECT_TRUE(rtp::is_valid_compound(out));
    auto parts = split(out);
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_TRUE(parts[0].is(rtp::RtcpType::kSr));
    auto sr = rtp::parse_sender_report(parts[0]);
    ASSERT_TRUE(sr);
    EXPECT_EQ(sr->ssrc, kOutSsrc);
    EXPECT_EQ(sr->ntp, kNtp);
    EXPECT_EQ(sr->packet_count, 2u);
    EXPECT_EQ(sr->octet_count, uint32_t(kKeyframe.size() + kDelta.size()));
    ASSERT_TRUE(parts[1].is(rtp::RtcpType::kSdes));
    auto sdes = rtp::parse_sdes(parts[1]);
    ASSERT_TRUE(sdes);
    ASSERT_EQ(sdes->chunks.size(), 1u);
    EXPECT_EQ(sdes->chunks[0].ssrc, kOutSsrc);
    EXPECT_EQ(sdes->chunks[0].cname, "viewer-cname");
  }
  EXPECT_EQ(reports, 4);
}

TEST_F(ConsumerTest, ByeListsSsrcAndRtxSsrc) {
  struct Case {
    bool rtx;
    std::vector<uint32_t> want;
  };
  const Case cases[] = {{true, {kOutSsrc, kOutRtxSsrc}}, {false, {kOutSsrc}}};
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.rtx);
    Consumer c(video_info(cs.rtx));
    Bytes out;
    c.append_bye(out);
    auto parts = split(out);
    ASSERT_EQ(parts.size(), 1u);
    auto bye = rtp::parse_bye(parts[0]);
    ASSERT_TRUE(bye);
    EXPECT_EQ(bye->ssrcs, cs.want);
  }
}

TEST_F(ConsumerTest, RttFromReportBlockForOurSsrcOnly) {
  Consumer c(video_info());
  EXPECT_FALSE(c.rtt());
  // A = middle 32 bits of NTP "now"; RTT = A - LSR - DLSR (RFC 3550 §6.4.1).
  const uint64_t ntp_now = uint64_t(5000) << 32;
  const uint32_t a = 5000u << 16;
  rtp::ReportBlock other{.ssrc = 0x999, .lsr = a - 0x10000, .dlsr = 0x8000};
  c.on_report_block(other, ntp_now);
  EXPECT_FALSE(c.rtt());
  rtp::ReportBlock ours{.ssrc = kOutSsrc, .lsr = a - 0x10000, .dlsr = 0x8000};  // 1 s - 0.5 s
  c.on_report_block(ours, ntp_now);
  ASSERT_TRUE(c.rtt());
  EXPECT_NEAR(double(c.rtt()->count()), 500000.0, 100.0);
}

TEST_F(ConsumerTest, KeyframeRequestsAreCounted) {
  Consumer c(video_info());
  c.on_keyframe_request();
  c.on_keyframe_request();
  EXPECT_EQ(c.keyframe_requests(), 2u);
}

TEST_F(ConsumerTest, TooSmallOutputBufferWritesNothing) {
  Consumer c(video_info());
  PacketRef ref = make_packet(pool_, {.seq = 1, .payload = kKeyframe});
  uint8_t out[12 + 3];
  EXPECT_EQ(c.write_media(ref, clock_.now(), out, sizeof out), 0u);
}

TEST_F(ConsumerTest, GarbageInputIsRejectedWithoutCrashing) {
  std::mt19937 rng(1234);
  Consumer video(video_info());
  Consumer audio(audio_info());
  uint8_t out[PacketBuffer::kCapacity];
  for (int i = 0; i < 5000; ++i) {
    PacketRef ref = pool_.acquire();
    size_t len = rng() % 64;
    for (size_t k = 0; k < len; ++k) ref.data()[k] = uint8_t(rng());
    if (i % 2) ref.data()[0] = uint8_t(0x80 | (ref.data()[0] & 0x3F));  // mostly version 2
    ref->size = len;
    size_t n1 = video.write_media(ref, clock_.now(), out, sizeof out);
    size_t n2 = audio.write_media(ref, clock_.now(), out, sizeof out);
    EXPECT_LE(n1, len + 12);
    EXPECT_LE(n2, len + 12);
    clock_.advance(1ms);
  }
  for (int seq = 0; seq < 65536; seq += 97) video.write_retransmission(uint16_t(seq), clock_.now(), out, sizeof out);
}

// A slot that gets another host (issue 11): set_source() makes the next packets of the new
// host wait for its keyframe and continue the viewer's sequence numbers, as a layer switch
// does; the new host's simulcast layers are chosen from then on. The packet facts the
// producer computed decide (the consumer does not re-parse the payload for them).
TEST_F(ConsumerTest, AnotherHostInTheSlotStartsAtItsKeyframeAndContinues) {
  Consumer c(video_info());
  uint8_t out[PacketBuffer::kCapacity];
  auto write = [&](const In& in, PacketFacts facts) {
    PacketRef ref = make_packet(pool_, in);
    size_t n = c.write(ref, facts, clock_.now(), out, sizeof out);
    return Out{{out, out + n}};
  };
  const PacketFacts key{.layer = 0, .keyframe = true, .frame_start = true};
  const PacketFacts delta{.layer = 0, .keyframe = false, .frame_start = true};
  ASSERT_TRUE(write({.ssrc = kSrcA, .seq = 10, .ts = 1000, .payload = kKeyframe}, key).forwarded());
  Out last = write({.ssrc = kSrcA, .seq = 11, .ts = 4000}, delta);
  ASSERT_TRUE(last.forwarded());

  c.set_source(/*source_track=*/1, /*source_layers=*/3);
  EXPECT_TRUE(c.selects_layers());
  EXPECT_TRUE(c.waiting_for_keyframe());
  clock_.advance(33ms);
  // Host A's packets still in flight, and B's deltas, do not reach the viewer.
  EXPECT_FALSE(write({.ssrc = kSrcA, .seq = 12, .ts = 7000}, delta).forwarded());
  EXPECT_FALSE(write({.ssrc = kSrcB, .seq = 500, .ts = 90, .payload = kDelta}, {.layer = 2}).forwarded());
  // B's top layer keyframe (by its facts: the payload bytes say delta) starts the slot.
  PacketFacts b_key{.layer = 2, .keyframe = true, .frame_start = true};
  Out k = write({.ssrc = kSrcB, .seq = 501, .ts = 3090, .payload = kDelta}, b_key);
  ASSERT_TRUE(k.forwarded());
  EXPECT_EQ(k.ssrc(), kOutSsrc);
  EXPECT_EQ(k.seq(), uint16_t(last.seq() + 1));
  EXPECT_EQ(c.current_layer(), 2);
  // A layer the consumer does not show is dropped.
  EXPECT_FALSE(write({.ssrc = 0x51, .seq = 7, .ts = 3090}, {.layer = 0, .keyframe = true}).forwarded());
}

}  // namespace
}  // namespace strata::sfu
