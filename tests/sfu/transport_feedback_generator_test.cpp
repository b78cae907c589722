#include "sfu/transport_feedback_generator.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "rtp/rtcp.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kSenderSsrc = 0x11111111;
constexpr uint32_t kMediaSsrc = 0x22222222;

std::vector<rtp::TransportFeedback> decode_all(const Bytes& compound) {
  std::vector<rtp::TransportFeedback> out;
  rtp::RtcpIterator it(compound);
  while (auto v = it.next()) {
    auto fb = rtp::parse_transport_feedback(*v);
    EXPECT_TRUE(fb.has_value());
    if (fb) out.push_back(*fb);
  }
  EXPECT_FALSE(it.malformed());
  return out;
}

// Receive time of each received sequence number as the sender reconstructs it:
// reference time plus the running sum of deltas (§3.1.5).
std::map<uint16_t, int64_t> reconstruct_times(const rtp::TransportFeedback& fb) {
  std::map<uint16_t, int64_t> times;
  int64_t t = fb.reference_time_us();
  for (const auto& p : fb.packets) {
    if (!p.received) continue;
    t += p.delta_us;
    times[p.seq] = t;
  }
  return times;
}

int64_t quantized_us(Timestamp t) { return to_micros(t) / 250 * 250; }

struct Arrival {
  uint16_t seq;
  Duration at;  // since start
};
struct Status {
  uint16_t seq;
  bool received;
};

struct Scenario {
  std::string name;
  std::vector<Arrival> arrivals;
  std::vector<Status> want;  // concatenated over all feedback packets
};

TEST(TransportFeedbackGenerator, ScenarioTable) {
  const Scenario scenarios[] = {
      {"in_order", {{10, 0us}, {11, 1000us}, {12, 2100us}, {13, 2300us}, {14, 40ms}},
       {{10, true}, {11, true}, {12, true}, {13, true}, {14, true}}},
      {"loss_gap", {{100, 0us}, {101, 1ms}, {104, 2ms}, {105, 3ms}},
       {{100, true}, {101, true}, {102, false}, {103, false}, {104, true}, {105, true}}},
      {"reordering", {{1, 0us}, {3, 1ms}, {2, 2ms}, {5, 3ms}, {4, 7ms}},
       {{1, true}, {2, true}, {3, true}, {4, true}, {5, true}}},
      {"duplicates", {{7, 0us}, {7, 1ms}, {8, 2ms}, {8, 3ms}}, {{7, true}, {8, true}}},
      {"wrap_around", {{65534, 0us}, {65535, 1ms}, {0, 2ms}, {2, 3ms}},
       {{65534, true}, {65535, true}, {0, true}, {1, false}, {2, true}}},
      {"reordered_across_wrap", {{65535, 0us}, {1, 1ms}, {0, 2ms}},
       {{65535, true}, {0, true}, {1, true}}},
  };
  for (const auto& sc : scenarios) {
    SCOPED_TRACE(sc.name);
    FakeClock clock;
    const Timestamp start = clock.now() + 123'456us;  // not aligned to 64 ms
    TransportFeedbackGenerator gen(kSenderSsrc);
    std::map<uint16_t, Timestamp> first_arrival;
    for (const auto& a : sc.arrivals) {
      gen.on_packet(kMediaSsrc, a.seq, start + a.at);
      first_arrival.emplace(a.seq, start + a.at);
    }
    Bytes out;
    ASSERT_TRUE(gen.collect(start + 50ms, out));
    const auto fbs = decode_all(out);
    ASSERT_EQ(fbs.size(), 1u);
    const auto& fb = fbs[0];
    EXPECT_EQ(fb.sender_ssrc, kSenderSsrc);
    EXPECT_EQ(fb.media_ssrc, kMediaSsrc);
    EXPECT_EQ(fb.fb_pkt_count, 0);
    EXPECT_EQ(fb.base_seq, sc.want.front().seq);
    ASSERT_EQ(fb.packets.size(), sc.want.size());
    for (size_t i = 0; i < sc.want.size(); ++i) {
      EXPECT_EQ(fb.packets[i].seq, sc.want[i].seq) << i;
      EXPECT_EQ(fb.packets[i].received, sc.want[i].received) << i;
    }
    // Reference time: the first reported packet's arrival rounded down to 64 ms.
    const int64_t first_us = to_micros(first_arrival.at(sc.want.front().seq));
    EXPECT_EQ(fb.reference_time_us(), first_us / 64'000 * 64'000);
    for (const auto& [seq, t] : reconstruct_times(fb)) EXPECT_EQ(t, quantized_us(first_arrival.at(seq))) << seq;
    EXPECT_EQ(gen.pending_count(), 0);
    EXPECT_EQ(gen.next_due(), kNever);
  }
}

TEST(TransportFeedbackGenerator, DeltasAreMultiplesOf250usWithoutDrift) {
  FakeClock clock;
  TransportFeedbackGenerator gen(kSenderSsrc);
  // 300 packets every 333 us: per-delta rounding would drift; absolute quantization doesn't.
  for (int i = 0; i < 300; ++i) gen.on_packet(kMediaSsrc, uint16_t(i), clock.now() + Duration(333 * i));
  Bytes out;
  ASSERT_TRUE(gen.collect(clock.now() + 1s, out));
  const auto fbs = decode_all(out);
  ASSERT_EQ(fbs.size(), 1u);
  for (const auto& p : fbs[0].packets) EXPECT_EQ(p.delta_us % 250, 0);
  const auto times = reconstruct_times(fbs[0]);
  ASSERT_EQ(times.size(), 300u);
  for (const auto& [seq, t] : times) EXPECT_EQ(t, quantized_us(clock.now() + Duration(333 * seq))) << seq;
}

TEST(TransportFeedbackGenerator, IntervalPacing) {
  struct Step {
    Duration at;        // since start
    int packet;         // seq to receive at `at`, or -1
    bool want_collect;  // collect() at `at` (after the packet) returns this
  };
  const Step steps[] = {
      {0ms, 0, false},    {10ms, 1, false}, {49ms, -1, false}, {50ms, -1, true},
      {60ms, 2, false},   {99ms, -1, false}, {100ms, -1, true}, {150ms, -1, false},  // nothing pending
      {400ms, 3, false},  // after idle the timer restarts from this packet
      {420ms, -1, false}, {449ms, -1, false}, {450ms, -1, true},
  };
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc, 50ms);
  EXPECT_EQ(gen.next_due(), kNever);
  for (const auto& s : steps) {
    const Timestamp now = start + s.at;
    if (s.packet >= 0) gen.on_packet(kMediaSsrc, uint16_t(s.packet), now);
    Bytes out;
    EXPECT_EQ(gen.collect(now, out), s.want_collect) << to_millis(s.at);
    EXPECT_EQ(out.empty(), !s.want_collect) << to_millis(s.at);
  }
}

TEST(TransportFeedbackGenerator, NextDue) {
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc, 50ms);
  gen.on_packet(kMediaSsrc, 5, start);
  EXPECT_EQ(gen.next_due(), start + 50ms);
  Bytes out;
  EXPECT_TRUE(gen.collect(start + 50ms, out));
  EXPECT_EQ(gen.next_due(), kNever);
  gen.on_packet(kMediaSsrc, 6, start + 70ms);
  EXPECT_EQ(gen.next_due(), start + 100ms);
}

TEST(TransportFeedbackGenerator, ManyPendingPacketsMakeFeedbackDueEarly) {
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc, 50ms);
  int64_t i = 0;
  for (; i < TransportFeedbackGenerator::kEarlyFeedbackPackets - 1; ++i)
    gen.on_packet(kMediaSsrc, uint16_t(i), start + Duration(10 * i));
  EXPECT_EQ(gen.next_due(), start + 50ms);
  const Timestamp last = start + Duration(10 * i);
  gen.on_packet(kMediaSsrc, uint16_t(i), last);
  EXPECT_LE(gen.next_due(), last);
  Bytes out;
  EXPECT_TRUE(gen.collect(last, out));
  EXPECT_EQ(gen.pending_count(), 0);
}

TEST(TransportFeedbackGenerator, LongRangeSplitsIntoConsecutiveFeedbacks) {
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc);
  constexpr int kPackets = 3000;
  for (int i = 0; i < kPackets; ++i) {
    if (i % 10 == 3) continue;  // some loss
    gen.on_packet(kMediaSsrc, uint16_t(60000 + i), start + Duration(100 * i));
  }
  Bytes out;
  ASSERT_TRUE(gen.collect(start + 1s, out));
  const auto fbs = decode_all(out);
  ASSERT_GT(fbs.size(), 3u);
  uint16_t expect_seq = 60000;
  for (size_t k = 0; k < fbs.size(); ++k) {
    const auto& fb = fbs[k];
    EXPECT_EQ(fb.fb_pkt_count, uint8_t(k));
    EXPECT_EQ(fb.base_seq, expect_seq);
    EXPECT_LE(fb.packets.size(), 1000u);
    for (const auto& p : fb.packets) {
      const int i = uint16_t(p.seq - 60000);
      EXPECT_EQ(p.received, i % 10 != 3) << i;
    }
    for (const auto& [seq, t] : reconstruct_times(fb))
      EXPECT_EQ(t, quantized_us(start + Duration(100 * uint16_t(seq - 60000)))) << seq;
    expect_seq = uint16_t(expect_seq + fb.packets.size());
  }
  EXPECT_EQ(expect_seq, uint16_t(60000 + kPackets));
  EXPECT_EQ(gen.counters().feedback_packets, fbs.size());
}

TEST(TransportFeedbackGenerator, DeltaOverflowStartsNewFeedback) {
  struct Case {
    Duration gap;
    size_t want_feedbacks;
  };
  // 32767 ticks * 250 us = 8.19175 s is the largest delta a feedback can carry.
  const Case cases[] = {{8s, 1}, {8191ms, 1}, {8192ms, 2}, {30s, 2}};
  for (const auto& c : cases) {
    SCOPED_TRACE(to_millis(c.gap));
    FakeClock clock;
    const Timestamp start = clock.now();  // 64 ms aligned: first delta is 0
    TransportFeedbackGenerator gen(kSenderSsrc);
    gen.on_packet(kMediaSsrc, 1, start);
    gen.on_packet(kMediaSsrc, 2, start + c.gap);
    Bytes out;
    ASSERT_TRUE(gen.collect(start + c.gap + 50ms, out));
    const auto fbs = decode_all(out);
    ASSERT_EQ(fbs.size(), c.want_feedbacks);
    std::map<uint16_t, int64_t> times;
    for (const auto& fb : fbs) times.merge(reconstruct_times(fb));
    EXPECT_EQ(times.at(1), quantized_us(start));
    EXPECT_EQ(times.at(2), quantized_us(start + c.gap));
    if (fbs.size() == 2) {
      EXPECT_EQ(fbs[1].fb_pkt_count, 1);
    }
  }
}

TEST(TransportFeedbackGenerator, FeedbackPacketCountWrapsAt8Bits) {
  FakeClock clock;
  TransportFeedbackGenerator gen(kSenderSsrc, 50ms);
  for (int i = 0; i < 600; ++i) {
    gen.on_packet(kMediaSsrc, uint16_t(i), clock.now());
    clock.advance(50ms);
    Bytes out;
    ASSERT_TRUE(gen.collect(clock.now(), out));
    const auto fbs = decode_all(out);
    ASSERT_EQ(fbs.size(), 1u);
    EXPECT_EQ(fbs[0].fb_pkt_count, uint8_t(i));
    EXPECT_EQ(fbs[0].base_seq, uint16_t(i));
  }
}

TEST(TransportFeedbackGenerator, LatePacketAfterReportIsIgnored) {
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc);
  gen.on_packet(kMediaSsrc, 10, start);
  gen.on_packet(kMediaSsrc, 12, start + 1ms);  // 11 missing
  Bytes out;
  ASSERT_TRUE(gen.collect(start + 50ms, out));
  gen.on_packet(kMediaSsrc, 11, start + 60ms);  // already reported as lost
  gen.on_packet(kMediaSsrc, 9, start + 61ms);   // older than the first reported
  gen.on_packet(kMediaSsrc, 12, start + 62ms);  // duplicate of a reported packet
  EXPECT_EQ(gen.pending_count(), 0);
  EXPECT_EQ(gen.next_due(), kNever);
  EXPECT_EQ(gen.counters().late, 3u);
  out.clear();
  EXPECT_FALSE(gen.collect(start + 200ms, out));
  EXPECT_TRUE(out.empty());

  gen.on_packet(kMediaSsrc, 13, start + 210ms);
  ASSERT_TRUE(gen.collect(start + 260ms, out));
  const auto fbs = decode_all(out);
  ASSERT_EQ(fbs.size(), 1u);
  EXPECT_EQ(fbs[0].base_seq, 13);
  EXPECT_EQ(fbs[0].packets.size(), 1u);
}

TEST(TransportFeedbackGenerator, MediaSsrcIsTheLastPacketsSsrc) {
  FakeClock clock;
  TransportFeedbackGenerator gen(kSenderSsrc);
  gen.on_packet(0xA, 1, clock.now());
  gen.on_packet(0xB, 2, clock.now());
  Bytes out;
  ASSERT_TRUE(gen.collect(clock.now() + 50ms, out));
  EXPECT_EQ(decode_all(out).at(0).media_ssrc, 0xBu);
}

TEST(TransportFeedbackGenerator, HugeJumpDropsHistoryBeyondWindow) {
  FakeClock clock;
  const Timestamp start = clock.now();
  TransportFeedbackGenerator gen(kSenderSsrc);
  gen.on_packet(kMediaSsrc, 0, start);
  gen.on_packet(kMediaSsrc, 1, start + 1ms);
  // 30000 ahead: the two pending packets fall out of the 2^14 window.
  gen.on_packet(kMediaSsrc, 30000, start + 2ms);
  EXPECT_EQ(gen.pending_count(), TransportFeedbackGenerator::kHistorySize);
  EXPECT_EQ(gen.counters().dropped, uint64_t(30001 - TransportFeedbackGenerator::kHistorySize));
  Bytes out;
  ASSERT_TRUE(gen.collect(start + 50ms, out));
  const auto fbs = decode_all(out);
  ASSERT_FALSE(fbs.empty());
  EXPECT_EQ(fbs.front().base_seq, uint16_t(30001 - TransportFeedbackGenerator::kHistorySize));
  const auto& last = fbs.back();
  ASSERT_FALSE(last.packets.empty());
  EXPECT_EQ(last.packets.back().seq, 30000);
  EXPECT_TRUE(last.packets.back().received);
  size_t received = 0;
  for (const auto& fb : fbs)
    for (const auto& p : fb.packets) received += p.received;
  EXPECT_EQ(received, 1u);
}

TEST(TransportFeedbackGenerator, RandomTrafficAlwaysProducesParseableFeedback) {
  std::mt19937 rng(1234);
  FakeClock clock;
  TransportFeedbackGenerator gen(kSenderSsrc, 50ms);
  uint16_t seq = 65000;
  uint64_t decoded = 0;
  for (int round = 0; round < 2000; ++round) {
    const int n = int(rng() % 20);
    for (int k = 0; k < n; ++k) {
      clock.advance(Duration(rng() % 3000));
      uint16_t s = seq;
      switch (rng() % 10) {
        case 0: s = uint16_t(seq - rng() % 50); break;          // reordered / late / duplicate
        case 1: seq = uint16_t(seq + rng() % 100); s = seq; break;  // loss burst
        case 2: if (rng() % 50 == 0) { seq = uint16_t(seq + rng()); s = seq; } break;  // jump
        default: s = ++seq; break;
      }
      gen.on_packet(kMediaSsrc, s, clock.now());
    }
    if (rng() % 100 == 0) clock.advance(Duration(rng() % 20'000'000));  // long stall
    Bytes out;
    if (gen.collect(clock.now(), out)) {
      const auto fbs = decode_all(out);
      ASSERT_FALSE(fbs.empty());
      for (const auto& fb : fbs) {
        ASSERT_FALSE(fb.packets.empty());
        for (const auto& p : fb.packets) EXPECT_EQ(p.delta_us % 250, 0);
      }
      decoded += fbs.size();
    }
  }
  EXPECT_EQ(decoded, gen.counters().feedback_packets);
  EXPECT_GT(decoded, 100u);
}

}  // namespace
}  // namespace strata::sfu
