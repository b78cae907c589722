#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sfu/receive_stats.hpp"
#include "sfu/send_stats.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

struct LossCase {
  const char* name;
  std::vector<uint16_t> seqs;  // arrival order
  uint32_t want_ext_highest;
  uint64_t want_expected;
  int32_t want_cumulative_lost;
  uint8_t want_fraction;
};

TEST(ReceiveStats, LossTable) {
  const LossCase cases[] = {
      {"in order", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10, 10, 0, 0},
      {"two lost", {1, 2, 5, 6, 7, 8, 9, 10}, 10, 10, 2, 51},  // 2/10 * 256
      {"reordered", {1, 3, 2, 4}, 4, 4, 0, 0},
      {"duplicate makes loss negative", {1, 2, 2, 3}, 3, 3, -1, 0},
      {"wrap", {65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5}, 65536 + 5, 12, 0, 0},
      {"wrap with loss", {65534, 1}, 65536 + 1, 4, 2, 128},
      {"late packet from before the wrap", {65535, 0, 1, 65534}, 65536 + 1, 3, -1, 0},
      // 20000 is a jump > MAX_DROPOUT: ignored, then 20001 confirms it and restarts (A.1).
      {"restart", {100, 101, 20000, 20001, 20002}, 20002, 2, 0, 0},
  };
  for (const auto& c : cases) {
    ReceiveStats s(90000);
    FakeClock clock;
    for (uint16_t seq : c.seqs) {
      s.on_packet(seq, 0, clock.now());
      clock.advance(1ms);
    }
    auto rb = s.make_report_block(0x1234, clock.now());
    EXPECT_EQ(rb.ssrc, 0x1234u) << c.name;
    EXPECT_EQ(rb.extended_highest_seq, c.want_ext_highest) << c.name;
    EXPECT_EQ(s.packets_expected(), c.want_expected) << c.name;
    EXPECT_EQ(rb.cumulative_lost, c.want_cumulative_lost) << c.name;
    EXPECT_EQ(rb.fraction_lost, c.want_fraction) << c.name;
  }
}

TEST(ReceiveStats, FractionLostIsPerInterval) {
  ReceiveStats s(90000);
  FakeClock clock;
  for (uint16_t seq : {1, 2, 5, 6, 7, 8, 9, 10}) s.on_packet(seq, 0, clock.now());
  EXPECT_EQ(s.make_report_block(1, clock.now()).fraction_lost, 51);
  for (uint16_t seq = 11; seq <= 20; ++seq) s.on_packet(seq, 0, clock.now());
  auto rb = s.make_report_block(1, clock.now());
  EXPECT_EQ(rb.fraction_lost, 0);
  EXPECT_EQ(rb.cumulative_lost, 2);
  // Interval with no packets at all: nothing expected, nothing lost.
  EXPECT_EQ(s.make_report_block(1, clock.now()).fraction_lost, 0);
}

TEST(ReceiveStats, EmptyReport) {
  ReceiveStats s(48000);
  FakeClock clock;
  auto rb = s.make_report_block(7, clock.now());
  EXPECT_EQ(rb.extended_highest_seq, 0u);
  EXPECT_EQ(rb.cumulative_lost, 0);
  EXPECT_EQ(rb.jitter, 0u);
  EXPECT_EQ(rb.lsr, 0u);
  EXPECT_EQ(rb.dlsr, 0u);
  EXPECT_FALSE(s.has_packets());
}

TEST(ReceiveStats, JitterFollowsA8) {
  struct Case {
    const char* name;
    std::vector<int> delay_ms;  // extra network delay per packet (sent every 20 ms)
  };
  const Case cases[] = {
      {"constant delay", {5, 5, 5, 5, 5, 5}},
      {"one late packet", {0, 0, 10, 0, 0, 0}},
      {"alternating", {0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4}},
  };
  for (const auto& c : cases) {
    ReceiveStats s(90000);
    const Timestamp start = FakeClock().now();
    double j = 0;  // floating-point reference
    for (size_t i = 0; i < c.delay_ms.size(); ++i) {
      const uint32_t ts = uint32_t(0xFFFFF000u + i * 1800);  // wraps the 32-bit timestamp
      s.on_packet(uint16_t(i), ts, start + std::chrono::milliseconds(20 * i + c.delay_ms[i]));
      if (i > 0) j += (std::abs(c.delay_ms[i] - c.delay_ms[i - 1]) * 90.0 - j) / 16;
    }
    EXPECT_NEAR(double(s.jitter()), j, 1.0) << c.name;
  }
}

TEST(ReceiveStats, LsrAndDlsr) {
  ReceiveStats s(90000);
  FakeClock clock;
  s.on_packet(1, 0, clock.now());
  s.on_sender_report(0x0001234567890000ULL, clock.now());
  clock.advance(500ms);
  auto rb = s.make_report_block(1, clock.now());
  EXPECT_EQ(rb.lsr, 0x23456789u);
  EXPECT_EQ(rb.dlsr, 32768u);  // 0.5 s in 1/65536 s
}

TEST(SendStats, SenderReportExtrapolatesRtpTime) {
  struct Case {
    const char* name;
    uint32_t last_ts;
    uint32_t clock_rate;
    Duration since;
    uint32_t want_ts;
  };
  const Case cases[] = {
      {"video", 90000, 90000, 100ms, 99000},
      {"audio", 4800, 48000, 1s, 52800},
      {"wraps", 0xFFFFFFF0u, 90000, 1s, 90000 - 16},
      {"no time", 7, 90000, 0ms, 7},
  };
  for (const auto& c : cases) {
    SendStats s;
    FakeClock clock;
    s.on_packet_sent(c.last_ts, 1000, clock.now());
    clock.advance(c.since);
    auto sr = s.make_sender_report(0xABCDEF0012345678ULL, clock.now(), c.clock_rate);
    EXPECT_EQ(sr.rtp_ts, c.want_ts) << c.name;
    EXPECT_EQ(sr.ntp, 0xABCDEF0012345678ULL) << c.name;
    EXPECT_EQ(sr.packet_count, 1u) << c.name;
    EXPECT_EQ(sr.octet_count, 1000u) << c.name;
  }
}

TEST(SendStats, CountsAndKeepsFirstSendOfNewestTimestamp) {
  SendStats s;
  FakeClock clock;
  EXPECT_EQ(s.make_sender_report(1, clock.now(), 90000).rtp_ts, 0u);
  s.on_packet_sent(1000, 1200, clock.now());
  clock.advance(10ms);
  s.on_packet_sent(1000, 1200, clock.now());  // same frame, paced later
  s.on_packet_sent(900, 100, clock.now());    // older timestamp (late)
  clock.advance(10ms);
  auto sr = s.make_sender_report(1, clock.now(), 90000);
  EXPECT_EQ(sr.rtp_ts, 1000u + 1800u);  // 20 ms since the first packet of ts 1000
  EXPECT_EQ(sr.packet_count, 3u);
  EXPECT_EQ(sr.octet_count, 2500u);
}

TEST(SendStats, RttFromReport) {
  struct Case {
    const char* name;
    uint32_t lsr, dlsr;
    uint64_t ntp_now;
    std::optional<int64_t> want_ms;
  };
  const uint32_t lsr = 0x10000000;
  auto at = [](uint32_t middle) { return uint64_t(middle) << 16; };
  const Case cases[] = {
      {"100ms", lsr, 65536, at(lsr + 65536 + 6554), 100},
      {"no sr yet", 0, 0, at(5000), std::nullopt},
      {"zero", lsr, 100, at(lsr + 100), 0},
      {"rounding below zero", lsr, 110, at(lsr + 100), 0},
      {"bogus", lsr, 65536, at(lsr), std::nullopt},
      {"wraps", 0xFFFFFF00u, 0x100, at(0x00000000u + 13108), 200},
  };
  for (const auto& c : cases) {
    auto rtt = SendStats::rtt_from_report(c.lsr, c.dlsr, c.ntp_now);
    ASSERT_EQ(rtt.has_value(), c.want_ms.has_value()) << c.name;
    if (rtt) {
      EXPECT_EQ(to_millis(*rtt), *c.want_ms) << c.name;
    }
  }
}

TEST(Stats, RoundTripBetweenSenderAndReceiver) {
  // SR leaves the sender at NTP T, takes 50 ms, the receiver holds it 200 ms, the report
  // block takes 50 ms back: RTT = 100 ms.
  const uint64_t t_ntp = 0x0000100000000000ULL;
  FakeClock clock;
  ReceiveStats rx(90000);
  rx.on_packet(1, 0, clock.now());
  rx.on_sender_report(t_ntp, clock.now());
  clock.advance(200ms);
  auto rb = rx.make_report_block(1, clock.now());
  const uint64_t ntp_back = t_ntp + (uint64_t(300) << 32) / 1000;  // T + 300 ms
  auto rtt = SendStats::rtt_from_report(rb.lsr, rb.dlsr, ntp_back);
  ASSERT_TRUE(rtt);
  EXPECT_NEAR(double(rtt->count()), 100000.0, 100.0);
}

}  // namespace
}  // namespace strata::sfu
