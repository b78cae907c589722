#include "loadtest/receive_stats.hpp"

#include <gtest/gtest.h>

#include <random>

#include "rtp/rtp_packet_builder.hpp"

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;
using R = SequenceTracker::Result;

TEST(SequenceTrackerTest, CountsLossAcrossWrapAround) {
  SequenceTracker t;
  for (uint16_t s = 65530; s != 10; ++s)
    if (s != 65534 && s != 2) t.on_packet(s);
  EXPECT_EQ(t.expected(), 16u);
  EXPECT_EQ(t.received(), 14u);
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.highest(), 65530 + 15);
}

TEST(SequenceTrackerTest, RetransmissionFillsTheGap) {
  SequenceTracker t;
  EXPECT_EQ(t.on_packet(100), R::kNew);
  EXPECT_EQ(t.on_packet(103), R::kNew);
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.on_repaired(101), R::kFilled);
  EXPECT_EQ(t.on_packet(102), R::kFilled);  // reordered: also not loss
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.on_packet(102), R::kDuplicate);
  EXPECT_EQ(t.duplicates(), 1u);
  EXPECT_EQ(t.received(), 4u);
}

TEST(SequenceTrackerTest, OldAndPreStartPacketsAreIgnored) {
  SequenceTracker t;
  EXPECT_EQ(t.on_repaired(5), R::kTooOld);  // nothing started yet
  t.on_packet(1000);
  EXPECT_EQ(t.on_packet(999), R::kTooOld);  // before our first packet
  for (int i = 1; i <= 3000; ++i) t.on_packet(uint16_t(1000 + i));
  EXPECT_EQ(t.on_packet(1001), R::kTooOld);  // left the window
  EXPECT_EQ(t.lost(), 0u);
}

TEST(SequenceTrackerTest, NacksRetryThenGiveUp) {
  SequenceTracker t;
  Timestamp now{};
  t.on_packet(10);
  t.on_packet(14);  // 11, 12, 13 missing
  std::vector<uint16_t> out;
  t.collect_nacks(now, 50ms, 2, out);
  EXPECT_EQ(out, (std::vector<uint16_t>{11, 12, 13}));
  t.on_repaired(12);
  out.clear();
  t.collect_nacks(now + 10ms, 50ms, 2, out);
  EXPECT_TRUE(out.empty());  // not yet time to retry
  t.collect_nacks(now + 60ms, 50ms, 2, out);
  EXPECT_EQ(out, (std::vector<uint16_t>{11, 13}));
  out.clear();
  t.collect_nacks(now + 200ms, 50ms, 2, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.pending_nacks(), 0u);
  EXPECT_EQ(t.lost(), 2u);
}

TEST(SequenceTrackerTest, PendingListIsBounded) {
  SequenceTracker t;
  t.on_packet(0);
  t.on_packet(1000);
  EXPECT_EQ(t.pending_nacks(), SequenceTracker::kMaxPendingNacks);
  std::vector<uint16_t> out;
  t.collect_nacks(Timestamp{}, 50ms, 3, out);
  EXPECT_EQ(out.front(), 1000 - SequenceTracker::kMaxPendingNacks);  // the newest gaps are kept
  EXPECT_EQ(t.lost(), 999u);
}

TEST(SequenceTrackerTest, FractionLostPerInterval) {
  SequenceTracker t;
  for (uint16_t s = 0; s < 100; ++s)
    if (s % 4 != 0 || s == 0) t.on_packet(s);
  uint8_t f = t.take_fraction_lost();
  EXPECT_NEAR(f, 256 * 24 / 100, 1);
  EXPECT_EQ(t.take_fraction_lost(), 0);
}

TEST(JitterTest, ZeroForPerfectPacingAndGrowsWithVariation) {
  JitterEstimator j(90000);
  Timestamp t{std::chrono::seconds(100)};
  for (int i = 0; i < 50; ++i) j.on_packet(uint32_t(i * 3000), t + std::chrono::microseconds(i * 33'333));
  EXPECT_LT(j.jitter_ms(), 0.05);
  JitterEstimator k(90000);
  for (int i = 0; i < 200; ++i) k.on_packet(uint32_t(4'294'960'000u + i * 3000), t + std::chrono::microseconds(i * 33'333 + (i % 2) * 10'000));
  EXPECT_NEAR(k.jitter_ms(), 10.0, 1.0);  // RTP timestamp wrap does not disturb it
}

TEST(RtpHeaderTest, ReadsFieldsAndTwccExtension) {
  uint8_t twcc[2] = {0x12, 0x34};
  Bytes payload(20, 0xEE);
  auto pkt = rtp::RtpPacketBuilder().payload_type(96).sequence(65535).timestamp(77).ssrc(0xABCD).marker(true)
                 .extension(1, std::string_view("1")).extension(3, ByteSpan(twcc, 2)).payload(payload).build();
  auto h = parse_rtp_header(pkt, 3);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->payload_type, 96);
  EXPECT_TRUE(h->marker);
  EXPECT_EQ(h->sequence, 65535);
  EXPECT_EQ(h->timestamp, 77u);
  EXPECT_EQ(h->ssrc, 0xABCDu);
  EXPECT_EQ(h->twcc_seq, 0x1234);
  EXPECT_EQ(h->header_size, pkt.size() - payload.size());
  EXPECT_FALSE(parse_rtp_header(pkt, 2)->twcc_seq);
}

TEST(RtpHeaderTest, GarbageAndTruncationNeverCrash) {
  uint8_t twcc[2] = {0, 1};
  auto pkt = rtp::RtpPacketBuilder().sequence(1).extension(3, ByteSpan(twcc, 2)).payload(Bytes(8, 1)).build();
  for (size_t n = 0; n < 12; ++n) EXPECT_FALSE(parse_rtp_header(ByteSpan(pkt.data(), n), 3));
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    Bytes b(rng() % 40);
    for (auto& x : b) x = uint8_t(rng());
    if (!b.empty()) b[0] = uint8_t(0x80 | (b[0] & 0x3F));
    if (auto h = parse_rtp_header(b, uint8_t(rng() % 15))) EXPECT_LE(h->header_size, b.size());
  }
}

TEST(PercentileTest, NearestRank) {
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({5}, 99), 5);
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(percentile(v, 50), 50);
  EXPECT_EQ(percentile(v, 99), 99);
  EXPECT_EQ(percentile(v, 100), 100);
  EXPECT_EQ(percentile(v, 0), 1);
}

}  // namespace
}  // namespace strata::loadtest
