// Keyframe cache and replay (sfu::KeyframeCache, sfu::ReplayQueue, and the consumer's
// replayed writes), on fake time: bounds, pacing, invalidation, continuity, NACK of a
// replayed packet, A/V timestamps.
#include <gtest/gtest.h>

#include <vector>

#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "sfu/consumer.hpp"
#include "sfu/keyframe_cache.hpp"
#include "sfu/replay_budget.hpp"
#include "sfu/replay_queue.hpp"
#include "sfu/seq_rewriter.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kSsrc = 0x1234;
// VP8 (RFC 7741): descriptor S=1 PID=0, then the payload header (P bit 0 = keyframe).
const std::vector<uint8_t> kKey = {0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
const std::vector<uint8_t> kDelta = {0x10, 0x01, 0x02, 0x03, 0x04};

class KeyframeCacheTest : public testing::Test {
 protected:
  // One RTP packet of a 30 fps video source: frame `frame`, `size` bytes in all.
  PacketRef packet(uint16_t seq, uint32_t frame, bool key, size_t size = 0, uint32_t ssrc = kSsrc, uint8_t pt = 96) {
    std::vector<uint8_t> payload = key ? kKey : kDelta;
    if (size > 12 + payload.size()) payload.resize(size - 12, 0x55);
    rtp::RtpPacketBuilder b;
    b.payload_type(pt).sequence(seq).timestamp(frame * 3000).ssrc(ssrc).marker(true);
    b.payload(ByteSpan(payload.data(), payload.size()));
    PacketRef ref = pool_.acquire();
    ref->size = b.write(ref.data(), PacketBuffer::kCapacity);
    return ref;
  }
  static PacketFacts facts(bool key, uint8_t layer = 0) {
    return PacketFacts{.layer = layer, .keyframe = key, .frame_start = true, .temporal = -1};
  }
  // Frames 0..n-1 at 30 fps from now on, the first a keyframe, one packet each.
  void add_frames(KeyframeCache& cache, uint16_t first_seq, int n, size_t size = 0, uint8_t layer = 0) {
    for (int i = 0; i < n; ++i) {
      const bool key = i == 0;
      cache.add(0, facts(key, layer), packet(uint16_t(first_seq + i), uint32_t(first_seq + i), key, size), clock_.now());
      clock_.advance(33ms);
    }
  }

  BufferPool pool_{256};
  FakeClock clock_;
};

TEST_F(KeyframeCacheTest, KeepsEverythingFromTheLastKeyframeOn) {
  KeyframeCache cache;
  cache.add(0, facts(false), packet(1, 1, false), clock_.now());
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty()) << "no keyframe yet: nothing to serve";
  add_frames(cache, 10, 5);
  auto g = cache.group(0, 0, clock_.now());
  ASSERT_EQ(g.packets.size(), 5u);
  EXPECT_TRUE(g.packets.front().facts.keyframe);
  for (size_t i = 0; i < g.packets.size(); ++i)
    EXPECT_EQ(rtp::RtpPacket::parse(g.packets[i].packet.data(), g.packets[i].packet.size())->sequence(), 10 + i);
  // The next keyframe starts over.
  add_frames(cache, 20, 2);
  g = cache.group(0, 0, clock_.now());
  ASSERT_EQ(g.packets.size(), 2u);
  EXPECT_EQ(rtp::RtpPacket::parse(g.packets[0].packet.data(), g.packets[0].packet.size())->sequence(), 20);
  EXPECT_EQ(cache.counters().groups, 2u);
}

TEST_F(KeyframeCacheTest, IsZeroCopy) {
  KeyframeCache cache;
  PacketRef key = packet(1, 1, true);
  cache.add(0, facts(true), key, clock_.now());
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets[0].packet.get(), key.get()) << "the same buffer, not a copy";
}

TEST_F(KeyframeCacheTest, AStaleGroupIsNeverServedAndLetsItsBuffersGo) {
  KeyframeCache cache(KeyframeCacheConfig{.max_age = 1s});
  add_frames(cache, 1, 20);  // 660 ms
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 20u);
  clock_.advance(400ms);  // the keyframe is now 1.06 s old
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty());
  cache.add(0, facts(false), packet(30, 30, false), clock_.now());
  EXPECT_EQ(cache.packets(), 0u) << "an expired group holds no buffers";
  EXPECT_EQ(cache.counters().expired, 1u);
  // The next keyframe is served again.
  add_frames(cache, 40, 3);
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 3u);
}

TEST_F(KeyframeCacheTest, AGroupOverTheByteBoundIsDroppedUntilTheNextKeyframe) {
  KeyframeCache cache(KeyframeCacheConfig{.max_bytes = 10'000});
  add_frames(cache, 1, 9, 1000);
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 9u);
  cache.add(0, facts(false), packet(10, 10, false, 1200), clock_.now());  // 10,200 bytes
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty());
  cache.add(0, facts(false), packet(11, 11, false, 100), clock_.now());
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty()) << "a group with a hole is no group";
  EXPECT_EQ(cache.counters().over_bytes, 1u);
  add_frames(cache, 20, 2, 1000);
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 2u);
}

TEST_F(KeyframeCacheTest, AnotherSsrcOrPayloadTypeInvalidatesTheLayer) {
  KeyframeCache cache;
  add_frames(cache, 1, 3);
  cache.add(0, facts(false), packet(4, 4, false, 0, kSsrc + 1), clock_.now());  // the host restarted
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty());
  add_frames(cache, 10, 3);
  cache.add(0, facts(false), packet(13, 13, false, 0, kSsrc, 98), clock_.now());  // another codec
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty());
  EXPECT_EQ(cache.counters().invalidated, 2u);
}

TEST_F(KeyframeCacheTest, AKeyframeOfSeveralKeyframePacketsIsOneGroup) {
  // H.264: the STAP-A with SPS/PPS and the IDR slice's first fragment both say keyframe.
  KeyframeCache cache;
  cache.add(0, facts(true), packet(1, 7, true), clock_.now());
  cache.add(0, facts(true), packet(2, 7, true), clock_.now());
  cache.add(0, facts(false), packet(3, 8, false), clock_.now());
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 3u);
}

TEST_F(KeyframeCacheTest, TracksAndLayersAreCachedApartAndAudioIsNot) {
  KeyframeCache cache;
  add_frames(cache, 1, 4, 0, 0);
  add_frames(cache, 100, 2, 0, 2);
  cache.add(1, facts(false), packet(500, 1, false), clock_.now());  // audio: never a keyframe
  EXPECT_EQ(cache.group(0, 0, clock_.now()).packets.size(), 4u);
  EXPECT_EQ(cache.group(0, 2, clock_.now()).packets.size(), 2u);
  EXPECT_TRUE(cache.group(0, 1, clock_.now()).packets.empty());
  EXPECT_TRUE(cache.group(1, 0, clock_.now()).packets.empty());
  EXPECT_EQ(cache.packets(), 6u);
}

TEST_F(KeyframeCacheTest, TheLayersRateIsKnownEvenForAGroupOfOneKeyframe) {
  KeyframeCache cache;
  EXPECT_EQ(cache.group(0, 0, clock_.now()).rate_bps, 0);
  add_frames(cache, 1, 31, 1000);  // 1000 bytes every 33 ms: 242 kbit/s
  add_frames(cache, 100, 1, 1000);  // a new keyframe: the group holds one packet
  const auto g = cache.group(0, 0, clock_.now());
  ASSERT_EQ(g.packets.size(), 1u);
  EXPECT_NEAR(double(g.rate_bps), 1000 * 8 / 0.033, 3000) << "the pace of its replay follows the layer's rate";
}

TEST_F(KeyframeCacheTest, DisabledKeepsNothing) {
  KeyframeCache cache(KeyframeCacheConfig{.enabled = false});
  add_frames(cache, 1, 3);
  EXPECT_EQ(cache.packets(), 0u);
  EXPECT_TRUE(cache.group(0, 0, clock_.now()).packets.empty());
}

// ---- ReplayQueue ----

TEST_F(KeyframeCacheTest, AReplayIsPacedAtItsRateAfterASmallFirstBurst) {
  KeyframeCache cache;
  add_frames(cache, 1, 60, 1000);  // 2 s of 240 kbit/s
  ReplayQueue q;
  const int64_t rate = 800'000;  // 100 kB/s: a 1000-byte packet every 10 ms
  q.start(cache.group(0, 0, clock_.now()).packets, rate, clock_.now());
  size_t at_once = 0;
  while (q.next(clock_.now())) {
    q.pop(1000);
    ++at_once;
  }
  EXPECT_EQ(at_once, 2u) << "the burst holds 20 ms of the rate";
  size_t sent = at_once;
  for (int tick = 0; tick < 30; ++tick) {  // 300 ms of 10 ms ticks
    clock_.advance(10ms);
    while (q.next(clock_.now())) {
      q.pop(1000);
      ++sent;
    }
  }
  EXPECT_NEAR(double(sent), 2 + 30, 1) << "100 kB/s for 300 ms after the burst";
}

TEST_F(KeyframeCacheTest, APacketTheConsumerFiltersCostsNothing) {
  KeyframeCache cache;
  add_frames(cache, 1, 10, 1000);
  ReplayQueue q;
  q.start(cache.group(0, 0, clock_.now()).packets, 800'000, clock_.now());
  size_t handled = 0;
  while (q.next(clock_.now())) {
    q.pop(0);  // another simulcast layer: not sent
    ++handled;
  }
  EXPECT_EQ(handled, 10u);
  EXPECT_FALSE(q.active());
}

TEST_F(KeyframeCacheTest, LivePacketsWaitBehindTheReplay) {
  KeyframeCache cache;
  add_frames(cache, 1, 3);
  ReplayQueue q;
  q.start(cache.group(0, 0, clock_.now()).packets, 8'000'000, clock_.now());
  q.push(KeyframeCache::Entry{0, facts(false), packet(4, 4, false), clock_.now()});
  std::vector<uint16_t> order;
  while (const auto* e = q.next(clock_.now())) {
    order.push_back(rtp::RtpPacket::parse(e->packet.data(), e->packet.size())->sequence());
    q.pop(100);
  }
  EXPECT_EQ(order, (std::vector<uint16_t>{1, 2, 3, 4}));
}

// The worker's replay budget: a replay holds the cached bytes it has still to send, gives
// them back packet by packet (live packets behind it are not counted), and all of it when
// it ends early; a replay that does not fit is refused.
TEST_F(KeyframeCacheTest, AReplayHoldsItsUnsentCachedBytesOfTheWorkersBudget) {
  KeyframeCache cache;
  add_frames(cache, 1, 3, 1000);
  const KeyframeCache::Group g = cache.group(0, 0, clock_.now());
  ASSERT_EQ(g.bytes, 3000u);
  ReplayBudget budget;
  constexpr size_t kLimit = 4000;
  ReplayQueue q;
  q.start(g.packets, 8'000'000, clock_.now(), budget.take(g.bytes, kLimit));
  EXPECT_EQ(budget.in_use(), 3000u);
  EXPECT_FALSE(budget.take(3000, kLimit)) << "3000 + 3000 > 4000: the second replay waits for a keyframe";
  EXPECT_EQ(budget.in_use(), 3000u) << "a refused lease takes nothing";
  q.push(KeyframeCache::Entry{0, facts(false), packet(4, 4, false, 1000), clock_.now()});
  const auto* e = q.next(clock_.now());
  ASSERT_NE(e, nullptr);
  q.pop(1000);
  EXPECT_EQ(budget.in_use(), 2000u);
  q.clear();  // the slot got another host
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_TRUE(budget.take(3000, kLimit));
}

TEST_F(KeyframeCacheTest, TheLivePacketsBehindAReplayAreNotChargedToTheBudget) {
  KeyframeCache cache;
  add_frames(cache, 1, 2, 1000);
  ReplayBudget budget;
  constexpr size_t kLimit = 10'000;
  {
    ReplayQueue q;
    q.start(cache.group(0, 0, clock_.now()).packets, 8'000'000, clock_.now(), budget.take(2000, kLimit));
    for (uint16_t seq = 3; seq < 6; ++seq) q.push(KeyframeCache::Entry{0, facts(false), packet(seq, seq, false, 1000), clock_.now()});
    int sent = 0;
    while (const auto* e = q.next(clock_.now())) {
      (void)e;
      q.pop(1000);
      EXPECT_EQ(budget.in_use(), size_t(std::max(0, 2 - ++sent) * 1000));
    }
    EXPECT_EQ(sent, 5);
    q.start(cache.group(0, 0, clock_.now()).packets, 8'000'000, clock_.now(), budget.take(2000, kLimit));
    EXPECT_EQ(budget.in_use(), 2000u);
  }  // the viewer went away mid-replay
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(ReplayBudget, AGroupLargerThanTheBudgetStillReplaysAlone) {
  ReplayBudget budget;
  ReplayBudget::Lease big = budget.take(5000, 1000);
  EXPECT_TRUE(big) << "a budget must not switch the cache off for large groups";
  EXPECT_FALSE(budget.take(1, 1000));
  big.reset();
  EXPECT_TRUE(budget.take(1000, 1000));
}

TEST(ReplayBudget, ZeroMeansNoLimit) {
  ReplayBudget budget;
  std::vector<ReplayBudget::Lease> leases;
  for (int i = 0; i < 100; ++i) leases.push_back(budget.take(1 << 20, 0));
  for (const auto& l : leases) EXPECT_TRUE(l);
  EXPECT_EQ(budget.in_use(), size_t(100) << 20);
  leases.clear();
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(ReplayBudget, AMovedLeaseIsGivenBackOnce) {
  ReplayBudget budget;
  ReplayBudget::Lease a = budget.take(3000, 10'000);
  ReplayBudget::Lease b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(budget.in_use(), 3000u);
  b = budget.take(1000, 10'000);  // the old lease of b goes back first
  EXPECT_EQ(budget.in_use(), 1000u);
  b.give_back(5000);      // no more than it holds
  EXPECT_EQ(budget.in_use(), 0u);
}

// A pace below the live rate (a worker whose rate meter is young starts at the 200 kbit/s
// floor) must not let the live packets queued behind the replay fall further and further
// behind: the queue drains at least twice as fast as live packets join it.
TEST_F(KeyframeCacheTest, ASlowPaceStillCatchesUpWithTheLiveStream) {
  KeyframeCache cache;
  add_frames(cache, 1, 30, 1000);  // 1 s of 240 kbit/s: 30 kB
  ReplayQueue q;
  q.start(cache.group(0, 0, clock_.now()).packets, 200'000, clock_.now());
  uint16_t seq = 100;
  Duration worst{};
  for (int tick = 0; tick < 500 && (q.active() || tick == 0); ++tick) {  // up to 5 s
    // 2.5 Mbit/s live: a 1000-byte packet every 3.2 ms, ~3 per 10 ms tick.
    for (int i = 0; i < 3; ++i, ++seq) q.push(KeyframeCache::Entry{0, facts(false), packet(seq, seq, false, 1000), clock_.now()});
    while (const auto* e = q.next(clock_.now())) {
      worst = std::max(worst, clock_.now() - e->arrived);
      q.pop(1000);
    }
    clock_.advance(10ms);
  }
  EXPECT_FALSE(q.active()) << "the replay and the live packets behind it drained";
  EXPECT_LT(worst, 2s) << "no live packet waited longer than the replay takes to catch up";
}

// A busy worker calls the queue late (a long receive batch, 60 ms between calls here):
// what the elapsed time earned is still sent, so the replay keeps its pace and ends.
TEST_F(KeyframeCacheTest, LateCallsStillDrainAtThePace) {
  KeyframeCache cache;
  add_frames(cache, 1, 30, 1000);
  ReplayQueue q;
  q.start(cache.group(0, 0, clock_.now()).packets, 200'000, clock_.now());
  uint16_t seq = 100;
  int calls = 0;
  for (; calls < 100 && (q.active() || calls == 0); ++calls) {  // up to 6 s
    // 2.5 Mbit/s live: 1000-byte packets, ~19 per 60 ms.
    for (int i = 0; i < 19; ++i, ++seq) q.push(KeyframeCache::Entry{0, facts(false), packet(seq, seq, false, 1000), clock_.now()});
    while (q.next(clock_.now())) q.pop(1000);
    clock_.advance(60ms);
  }
  EXPECT_FALSE(q.active()) << "the replay ended although each call came 60 ms after the last";
  EXPECT_LT(calls, 40) << "and within the catch-up time: 30 kB cached at twice the live rate";
}

// Live packets of the layers the slot does not forward (a simulcast slot is given all)
// do not speed the replay of its layer up: 2.5 Mbit/s of another layer leaves the pace.
TEST_F(KeyframeCacheTest, OtherLayersLivePacketsDoNotSpeedTheReplayUp) {
  KeyframeCache cache;
  add_frames(cache, 1, 60, 1000);  // 2 s of layer 0
  ReplayQueue q;
  q.start(cache.group(0, 0, clock_.now()).packets, 800'000, clock_.now());  // 100 kB/s
  uint16_t seq = 500;
  size_t sent = 0;
  for (int tick = 0; tick < 30; ++tick) {  // 300 ms
    for (int i = 0; i < 3; ++i, ++seq) q.push(KeyframeCache::Entry{0, facts(false, 2), packet(seq, seq, false, 1000), clock_.now()});
    while (q.next(clock_.now())) {
      q.pop(1000);
      ++sent;
    }
    clock_.advance(10ms);
  }
  EXPECT_NEAR(double(sent), 2 + 29, 2) << "still 100 kB/s: the other layer's 300 kB/s is not the replayed layer's rate";
}

// ---- the consumer's replayed writes ----

EgressTrackInfo video_info() {
  EgressTrackInfo info;
  info.kind = MediaKind::kVideo;
  info.codec.payload_type = 100;
  info.codec.rtx_payload_type = 101;
  info.codec.name = "VP8";
  info.codec.clock_rate = 90000;
  info.codec.codec = codecs::Codec::kVp8;
  info.codec.nack = true;
  info.ssrc = 0xAAAA;
  info.rtx_ssrc = 0xBBBB;
  info.cname = "c";
  return info;
}

struct Written {
  uint16_t seq;
  uint32_t ts;
};

TEST_F(KeyframeCacheTest, AReplayedGroupPlaysFastAndJoinsNowWithContinuousNumbers) {
  // 2 s of group (60 frames) replayed in 0.5 s, then the live frames that follow.
  KeyframeCache cache;
  add_frames(cache, 1000, 60);
  Consumer c(video_info());
  uint8_t out[PacketBuffer::kCapacity];
  std::vector<Written> w;
  auto record = [&](size_t n) {
    ASSERT_GT(n, 0u);
    auto p = rtp::RtpPacket::parse(out, n);
    w.push_back({p->sequence(), p->timestamp()});
  };
  const auto group = cache.group(0, 0, clock_.now());
  const Timestamp start = clock_.now();
  for (size_t i = 0; i < group.packets.size(); ++i) {
    const auto& e = group.packets[i];
    record(c.write(e.packet, e.facts, start + std::chrono::microseconds(500'000 * i / 59), out, sizeof out, true));
  }
  clock_.set(start + 500ms + 33ms);
  record(c.write(packet(1060, 1060, false), facts(false), clock_.now(), out, sizeof out));  // live
  clock_.advance(33ms);
  record(c.write(packet(1061, 1061, false), facts(false), clock_.now(), out, sizeof out));
  for (size_t i = 1; i < w.size(); ++i) EXPECT_EQ(uint16_t(w[i].seq - w[i - 1].seq), 1) << "at " << i;
  // The replayed frames' timestamps follow the wall clock of their sending (0.5 s), not
  // the 2 s they span at the source, so A/V sync (SR: timestamp <-> send time) holds.
  EXPECT_NEAR(double(w[59].ts - w[0].ts), 0.5 * 90000, 200);
  // Live frames continue at the source's pace from the last replayed one.
  EXPECT_EQ(w[60].ts - w[59].ts, 3000u);
  EXPECT_EQ(w[61].ts - w[60].ts, 3000u);
}

TEST_F(KeyframeCacheTest, AReplayedPacketCanBeRetransmitted) {
  KeyframeCache cache;
  add_frames(cache, 1, 5);
  Consumer c(video_info());
  uint8_t out[PacketBuffer::kCapacity];
  std::vector<uint16_t> seqs;
  for (const auto& e : cache.group(0, 0, clock_.now()).packets) {
    const size_t n = c.write(e.packet, e.facts, clock_.now(), out, sizeof out, true);
    ASSERT_GT(n, 0u);
    seqs.push_back(rtp::RtpPacket::parse(out, n)->sequence());
  }
  clock_.advance(50ms);
  const size_t n = c.write_retransmission(seqs[2], clock_.now(), out, sizeof out);
  ASSERT_GT(n, 0u) << "NACK of a replayed packet";
  auto rtx = rtp::RtpPacket::parse(out, n);
  EXPECT_EQ(rtx->ssrc(), 0xBBBBu);
  EXPECT_EQ(load_be16(rtx->payload().data()), seqs[2]) << "RFC 4588 OSN";
}

TEST_F(KeyframeCacheTest, AReplayCountsInTheLayersRate) {
  // Unmetered, a replay left the layer rate meter nearly empty once it was no longer young,
  // every layer looked free and the selector climbed beyond a 500 kbit/s link.
  KeyframeCache cache;
  add_frames(cache, 1, 30, 1000);
  EgressTrackInfo info = video_info();
  info.source_layers = 3;
  Consumer c(info);
  uint8_t out[PacketBuffer::kCapacity];
  for (const auto& e : cache.group(0, 0, clock_.now()).packets) {
    c.write(e.packet, e.facts, clock_.now(), out, sizeof out, true);
    clock_.advance(10ms);
  }
  EXPECT_GT(c.layer_rates().rates(clock_.now())[0][2], 200'000) << "30 kB in 300 ms";
}

TEST(SeqRewriterRetime, EachNewFrameOfAReplayContinuesByWallTime) {
  SeqRewriter r(90000);
  const Timestamp t0 = Timestamp(std::chrono::seconds(100));
  auto a = r.rewrite(10, 0, t0, false, true);
  auto b = r.rewrite(11, 3000, t0 + 10ms, false, true);   // next frame, 10 ms later
  auto b2 = r.rewrite(12, 3000, t0 + 11ms, false, true);  // same frame
  auto live = r.rewrite(13, 6000, t0 + 40ms);             // live: source pace
  ASSERT_TRUE(a && b && b2 && live);
  EXPECT_EQ(b->ts - a->ts, 900u);
  EXPECT_EQ(b2->ts, b->ts);
  EXPECT_EQ(live->ts - b->ts, 3000u);
  EXPECT_EQ(uint16_t(live->seq - a->seq), 3);
}

}  // namespace
}  // namespace strata::sfu
