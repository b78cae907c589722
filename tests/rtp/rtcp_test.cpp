#include "rtp/rtcp.hpp"

#include <gtest/gtest.h>

#include <random>

#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::rtp {
namespace {

// SR (RC=1, RFC 3550 §6.4.1) followed by SDES with a 16-byte CNAME (§6.5).
constexpr std::string_view kSrSdes =
    "81c8000c deadbeef e42a4e6c 80000000 00015f90 00000064 00004e20"
    "cafebabe 40fffffe 00011234 00000020 4e6c8000 00010000"
    "81ca0006 deadbeef 0110 6162636465666768696a6b6c6d6e6f70 0000";

// REMB (draft-alvestrand-rmcat-remb §2.2): 1 Mbps as exp 2 / mantissa 250000, 2 SSRCs.
constexpr std::string_view kRemb = "8fce0006 00000001 00000000 52454d42 020bd090 11111111 22222222";
// Generic NACK (RFC 4585 §6.2.1): PID 100, BLP 0b101 -> 100, 101, 103.
constexpr std::string_view kNack = "81cd0003 00000001 00000002 00640005";
constexpr std::string_view kPli = "81ce0002 00000001 00000002";
// FIR (RFC 5104 §4.3.1): SSRC 12345678, seq nr 7.
constexpr std::string_view kFir = "84ce0004 00000001 00000000 12345678 07000000";

std::vector<RtcpPacketView> split(ByteSpan compound, bool* malformed = nullptr) {
  std::vector<RtcpPacketView> out;
  RtcpIterator it(compound);
  while (auto v = it.next()) out.push_back(*v);
  if (malformed) *malformed = it.malformed();
  return out;
}

RtcpPacketView single(ByteSpan b) {
  auto views = split(b);
  EXPECT_EQ(views.size(), 1u);
  return views.empty() ? RtcpPacketView{} : views[0];
}

TEST(Rtcp, ParsesCompoundSrSdesFixture) {
  const Bytes buf = from_hex(kSrSdes);
  EXPECT_TRUE(is_valid_compound(buf));
  bool malformed = true;
  auto views = split(buf, &malformed);
  EXPECT_FALSE(malformed);
  ASSERT_EQ(views.size(), 2u);
  auto sr = parse_sender_report(views[0]);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->ssrc, 0xdeadbeefu);
  EXPECT_EQ(sr->ntp, 0xe42a4e6c80000000ull);
  EXPECT_EQ(sr->rtp_ts, 90000u);
  EXPECT_EQ(sr->packet_count, 100u);
  EXPECT_EQ(sr->octet_count, 20000u);
  ASSERT_EQ(sr->blocks.size(), 1u);
  const ReportBlock& b = sr->blocks[0];
  EXPECT_EQ(b.ssrc, 0xcafebabeu);
  EXPECT_EQ(b.fraction_lost, 64);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.highest_seq, 0x11234u);
  EXPECT_EQ(b.jitter, 32u);
  EXPECT_EQ(b.lsr, 0x4e6c8000u);
  EXPECT_EQ(b.dlsr, 65536u);
  auto sdes = parse_sdes(views[1]);
  ASSERT_TRUE(sdes);
  ASSERT_EQ(sdes->chunks.size(), 1u);
  EXPECT_EQ(sdes->chunks[0].ssrc, 0xdeadbeefu);
  EXPECT_EQ(sdes->chunks[0].cname, "abcdefghijklmnop");
  // Parsers reject the wrong type.
  EXPECT_FALSE(parse_receiver_report(views[0]));
  EXPECT_FALSE(parse_sender_report(views[1]));
}

TEST(Rtcp, BuildsTheFixtureBackExactly) {
  const Bytes buf = from_hex(kSrSdes);
  auto views = split(buf);
  Bytes out;
  ASSERT_TRUE(append_sender_report(out, *parse_sender_report(views[0])));
  ASSERT_TRUE(append_sdes(out, *parse_sdes(views[1])));
  EXPECT_EQ(to_hex(out), to_hex(buf));
}

TEST(Rtcp, ReportRoundTrips) {
  ReportBlock b1{1, 255, 0x7fffff, 0xffffffff, 7, 8, 9};
  ReportBlock b2{2, 0, -0x800000, 0, 0, 0, 0};
  SenderReport sr{10, 0x0102030405060708ull, 11, 12, 13, {b1, b2}};
  ReceiverReport rr{20, {b2, b1}};
  ReceiverReport empty_rr{21, {}};
  Bytes out;
  ASSERT_TRUE(append_sender_report(out, sr));
  ASSERT_TRUE(append_receiver_report(out, rr));
  ASSERT_TRUE(append_receiver_report(out, empty_rr));
  auto views = split(out);
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(*parse_sender_report(views[0]), sr);
  EXPECT_EQ(*parse_receiver_report(views[1]), rr);
  EXPECT_EQ(*parse_receiver_report(views[2]), empty_rr);
}

TEST(Rtcp, CumulativeLostIsClampedTo24Bits) {
  ReceiverReport rr{1, {ReportBlock{.ssrc = 2, .cumulative_lost = 50'000'000}}};
  Bytes out;
  ASSERT_TRUE(append_receiver_report(out, rr));
  EXPECT_EQ(parse_receiver_report(single(out))->blocks[0].cumulative_lost, 0x7fffff);
}

TEST(Rtcp, TooManyReportBlocksFails) {
  ReceiverReport rr{1, std::vector<ReportBlock>(32)};
  Bytes out;
  EXPECT_FALSE(append_receiver_report(out, rr));
  EXPECT_TRUE(out.empty());
}

TEST(Rtcp, SdesAndByeRoundTrip) {
  Sdes sdes{{{1, "a"}, {2, "abc"}, {3, ""}, {4, std::string(255, 'x')}}};
  Bye bye{{5, 6}, "going away"};
  Bye bare{{7}, ""};
  Bytes out;
  ASSERT_TRUE(append_sdes(out, sdes));
  ASSERT_TRUE(append_bye(out, bye));
  ASSERT_TRUE(append_bye(out, bare));
  auto views = split(out);
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(*parse_sdes(views[0]), sdes);
  EXPECT_EQ(*parse_bye(views[1]), bye);
  EXPECT_EQ(*parse_bye(views[2]), bare);
  EXPECT_FALSE(append_sdes(out, Sdes{{{1, std::string(256, 'x')}}}));
}

TEST(Rtcp, SdesSkipsNonCnameItems) {
  // Chunk: SSRC 1, NAME(2) "bob", CNAME(1) "c", END, pad.
  const Bytes buf = from_hex("81ca0004 00000001 0203626f62 010163 00 000000");
  auto sdes = parse_sdes(single(buf));
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->chunks[0].cname, "c");
}

TEST(RtcpFeedback, NackFixtureAndRoundTrip) {
  const Bytes buf = from_hex(kNack);
  auto nack = parse_nack(single(buf));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc, 1u);
  EXPECT_EQ(nack->media_ssrc, 2u);
  EXPECT_EQ(expand_nack_items(nack->items), (std::vector<uint16_t>{100, 101, 103}));
  Bytes out;
  ASSERT_TRUE(append_nack(out, *nack));
  EXPECT_EQ(to_hex(out), to_hex(buf));
  EXPECT_FALSE(append_nack(out, Nack{}));
}

struct NackPackCase {
  std::vector<uint16_t> seqs;
  std::vector<NackItem> items;
};

TEST(RtcpFeedback, NackItemsFromSequences) {
  const NackPackCase cases[] = {
      {{}, {}},
      {{5}, {{5, 0}}},
      {{100, 101, 103}, {{100, 0x0005}}},
      {{1, 17, 18}, {{1, 0x8000}, {18, 0}}},
      {{65535, 0, 1}, {{65535, 0x0003}}},  // wraps around
      {{7, 7, 8}, {{7, 0x0001}}},          // duplicate tolerated
  };
  for (const auto& c : cases) {
    auto items = nack_items_from_sequences(c.seqs);
    EXPECT_EQ(items, c.items);
    std::vector<uint16_t> unique;
    for (uint16_t s : c.seqs) {
      if (unique.empty() || unique.back() != s) unique.push_back(s);
    }
    EXPECT_EQ(expand_nack_items(items), unique);
  }
}

TEST(RtcpFeedback, PliFirFixturesRoundTrip) {
  const Bytes pli_buf = from_hex(kPli);
  auto pli = parse_pli(single(pli_buf));
  ASSERT_TRUE(pli);
  EXPECT_EQ(*pli, (Pli{1, 2}));
  Bytes out;
  append_pli(out, *pli);
  EXPECT_EQ(to_hex(out), to_hex(pli_buf));

  const Bytes fir_buf = from_hex(kFir);
  auto fir = parse_fir(single(fir_buf));
  ASSERT_TRUE(fir);
  EXPECT_EQ(*fir, (Fir{1, {{0x12345678, 7}}}));
  out.clear();
  ASSERT_TRUE(append_fir(out, *fir));
  EXPECT_EQ(to_hex(out), to_hex(fir_buf));
  EXPECT_FALSE(parse_fir(single(pli_buf)));
  EXPECT_FALSE(parse_pli(single(fir_buf)));
}

TEST(RtcpFeedback, RembFixtureAndRoundTrip) {
  const Bytes buf = from_hex(kRemb);
  auto remb = parse_remb(single(buf));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->sender_ssrc, 1u);
  EXPECT_EQ(remb->bitrate_bps, 1'000'000u);
  EXPECT_EQ(remb->ssrcs, (std::vector<uint32_t>{0x11111111, 0x22222222}));
  Bytes out;
  ASSERT_TRUE(append_remb(out, *remb));
  EXPECT_EQ(to_hex(out), to_hex(buf));
}

TEST(RtcpFeedback, RembRoundsBitrateToMantissa) {
  for (uint64_t bps : {0ull, 1ull, 262143ull, 262144ull, 2'500'001ull, 123'456'789'012ull}) {
    Bytes out;
    ASSERT_TRUE(append_remb(out, Remb{1, bps, {}}));
    auto r = parse_remb(single(out));
    ASSERT_TRUE(r);
    EXPECT_LE(r->bitrate_bps, bps);
    EXPECT_GE(r->bitrate_bps, bps - bps / 131072) << bps;  // within one mantissa step
  }
  // Not "REMB": generic AFB is ignored.
  Bytes afb = from_hex("8fce0004 00000001 00000000 41424344 00000000");
  EXPECT_FALSE(parse_remb(single(afb)));
}

TEST(Rtcp, CompoundFeedbackStartsWithReceiverReport) {
  Bytes fb;
  append_nack(fb, Nack{1, 2, nack_items_from_sequences(std::vector<uint16_t>{10, 12})});
  append_pli(fb, Pli{1, 2});
  ReportBlock block{2, 3, 4, 5, 6, 7, 8};
  Bytes compound = build_compound_feedback(1, std::span(&block, 1), fb, "cname");
  EXPECT_TRUE(is_valid_compound(compound));
  auto views = split(compound);
  ASSERT_EQ(views.size(), 4u);
  EXPECT_EQ(parse_receiver_report(views[0])->blocks[0], block);
  EXPECT_EQ(parse_sdes(views[1])->chunks[0].cname, "cname");
  EXPECT_TRUE(parse_nack(views[2]));
  EXPECT_TRUE(parse_pli(views[3]));
  // Feedback alone is not a valid RFC 3550 compound packet.
  EXPECT_FALSE(is_valid_compound(fb));
}

struct MalformedCase {
  const char* name;
  std::string_view hex;
  size_t good_packets;
};

TEST(Rtcp, IteratorStopsOnMalformedSubPackets) {
  const MalformedCase cases[] = {
      {"length beyond buffer", "81c90007 00000001", 0},
      {"version 0", "01c90001 00000001", 0},
      {"truncated header", "81c9", 0},
      {"zero padding count", "a1c90001 00000000", 0},
      {"padding eats header", "a1c90001 00000009", 0},
      {"good then garbage", "80c90001 00000001 ff", 1},
      {"good then overlong", "80c90001 00000001 81cd00ff 00000000", 1},
  };
  for (const auto& c : cases) {
    bool malformed = false;
    auto views = split(from_hex(c.hex), &malformed);
    EXPECT_TRUE(malformed) << c.name;
    EXPECT_EQ(views.size(), c.good_packets) << c.name;
  }
}

TEST(Rtcp, PaddedSubPacketBodyExcludesPadding) {
  // RR with no blocks + 4 padding bytes (P bit, count 4).
  const Bytes buf = from_hex("a0c90002 00000001 00000004");
  auto v = single(buf);
  EXPECT_EQ(v.body.size(), 4u);
  EXPECT_EQ(parse_receiver_report(v)->ssrc, 1u);
}

TEST(Rtcp, TruncatedReportsAreRejected) {
  // SR claiming 1 report block but carrying none.
  EXPECT_FALSE(parse_sender_report(single(from_hex("81c80006 00000001 00000000 00000000 00000000 00000000 00000000"))));
  // BYE claiming 2 SSRCs with one; reason longer than the body.
  EXPECT_FALSE(parse_bye(single(from_hex("82cb0001 00000001"))));
  EXPECT_FALSE(parse_bye(single(from_hex("81cb0002 00000001 09616263"))));
  // SDES item running past the end.
  EXPECT_FALSE(parse_sdes(single(from_hex("81ca0002 00000001 01096162"))));
}

TEST(Rtcp, EveryTruncationOfFixturesIsSafe) {
  for (auto hex : {kSrSdes, kRemb, kNack, kPli, kFir}) {
    const Bytes full = from_hex(hex);
    for (size_t len = 0; len < full.size(); ++len) {
      Bytes buf(full.begin(), full.begin() + len);
      RtcpIterator it(buf);
      while (auto v = it.next()) {
        parse_sender_report(*v);
        parse_sdes(*v);
        parse_remb(*v);
        parse_nack(*v);
        parse_fir(*v);
      }
    }
  }
}

TEST(Rtcp, RandomBytesNeverCrash) {
  std::mt19937 rng(99);
  size_t views_seen = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes buf(rng() % 96);
    for (auto& b : buf) b = uint8_t(rng());
    // Bias towards plausible headers so the sub-packet parsers run too.
    if (buf.size() >= 4) {
      buf[0] = uint8_t(0x80 | (buf[0] & 0x3f));
      buf[1] = uint8_t(200 + rng() % 7);
      store_be16(buf.data() + 2, uint16_t(rng() % (buf.size() / 4 + 1)));
    }
    RtcpIterator it(buf);
    while (auto v = it.next()) {
      ++views_seen;
      EXPECT_GE(v->packet.data(), buf.data());
      EXPECT_LE(v->packet.data() + v->packet.size(), buf.data() + buf.size());
      parse_sender_report(*v);
      parse_receiver_report(*v);
      parse_sdes(*v);
      parse_bye(*v);
      parse_nack(*v);
      parse_pli(*v);
      parse_fir(*v);
      parse_remb(*v);
      parse_transport_feedback(*v);
    }
  }
  EXPECT_GT(views_seen, 500u);
}

}  // namespace
}  // namespace strata::rtp
