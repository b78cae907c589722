// Simulcast consumers: layer choice (explicit cap, bandwidth target, flowing layers),
// switching at keyframes, VP8 picture-id continuity, temporal filtering, the
// transport-wide-cc extension and probe packets.
#include <gtest/gtest.h>

#include <vector>

#include "codecs/vp8.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "sfu/consumer.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

constexpr uint8_t kTwccId = 5;
constexpr uint32_t kLayerSsrc[3] = {0x1000, 0x2000, 0x3000};

EgressTrackInfo simulcast_info(uint8_t twcc = 0) {
  EgressTrackInfo info;
  info.kind = MediaKind::kVideo;
  info.codec.payload_type = 96;
  info.codec.rtx_payload_type = 97;
  info.codec.name = "VP8";
  info.codec.codec = codecs::Codec::kVp8;
  info.codec.nack = true;
  info.ssrc = 0xAAAA;
  info.rtx_ssrc = 0xBBBB;
  info.cname = "c";
  info.source_layers = 3;
  info.transport_cc_ext = twcc;
  return info;
}

// VP8 descriptor with X, I (15-bit PictureID), L (TL0PICIDX) and T (TID), S=1 PID=0,
// then a payload header (P bit 0 = keyframe).
std::vector<uint8_t> vp8(uint16_t picture_id, uint8_t tl0, uint8_t tid, bool keyframe, bool start = true) {
  return {uint8_t(start ? 0x90 : 0x80), 0xE0, uint8_t(0x80 | (picture_id >> 8)), uint8_t(picture_id & 0xFF), tl0,
          uint8_t(tid << 6), uint8_t(keyframe ? 0x00 : 0x01), 0x9d, 0x01, 0x2a, 0x11, 0x22};
}

struct Sent {
  std::vector<uint8_t> bytes;
  bool ok() const { return !bytes.empty(); }
  std::optional<rtp::RtpPacket> parse() { return rtp::RtpPacket::parse(bytes.data(), bytes.size()); }
};

class ConsumerLayersTest : public testing::Test, protected TransportSequencer::Listener {
 protected:
  Sent feed(Consumer& c, int layer, uint16_t seq, std::vector<uint8_t> payload) {
    rtp::RtpPacketBuilder b;
    b.payload_type(100).sequence(seq).timestamp(uint32_t(seq) * 3000).ssrc(kLayerSsrc[layer]);
    b.payload(ByteSpan(payload.data(), payload.size()));
    PacketRef ref = pool_.acquire();
    ref->size = b.write(ref.data(), PacketBuffer::kCapacity);
    uint8_t out[PacketBuffer::kCapacity];
    size_t n = c.write_layer_media(ref, uint8_t(layer), clock_.now(), out, sizeof out);
    return Sent{{out, out + n}};
  }
  static codecs::Vp8Descriptor descriptor(Sent& s) {
    auto p = s.parse();
    EXPECT_TRUE(p);
    auto d = codecs::parse_vp8(p->payload());
    EXPECT_TRUE(d);
    return *d;
  }
  void on_transport_packet_sent(uint16_t seq, size_t bytes, Timestamp, int cluster) override {
    reported_.push_back({seq, bytes, cluster});
  }
  struct Reported {
    uint16_t seq;
    size_t bytes;
    int cluster;
  };
  std::vector<Reported> reported_;
  BufferPool pool_{64};
  FakeClock clock_;
};

TEST_F(ConsumerLayersTest, StartsOnTheHighestFlowingLayerAtItsKeyframe) {
  Consumer c(simulcast_info());
  // All three layers flow; only the top one's keyframe starts the viewer.
  EXPECT_FALSE(feed(c, 2, 1, vp8(500, 7, 0, false)).ok()) << "a delta frame cannot start";
  EXPECT_FALSE(feed(c, 0, 1, vp8(10, 1, 0, true)).ok()) << "layer 0 is not the choice once 2 is seen";
  EXPECT_FALSE(feed(c, 1, 1, vp8(300, 4, 0, true)).ok());
  EXPECT_TRUE(feed(c, 2, 2, vp8(501, 8, 0, true)).ok());
  EXPECT_EQ(c.current_layer(), 2);
}

TEST_F(ConsumerLayersTest, TargetAndMaxCapTheLayerAndSwitchWaitsForAKeyframe) {
  struct Step {
    int max_layer, target;  // explicit cap, bandwidth target
    int expect_layer;       // after a keyframe on every layer
  };
  const Step steps[] = {{-1, -1, 2}, {-1, 0, 0}, {1, -1, 1}, {1, 2, 1}, {2, 1, 1}, {-1, -1, 2}};
  Consumer c(simulcast_info());
  uint16_t seq = 100;
  uint16_t pid[3] = {10, 2000, 30000};
  for (const Step& st : steps) {
    SCOPED_TRACE(testing::Message() << "max " << st.max_layer << " target " << st.target);
    c.set_max_layer(st.max_layer);
    c.set_target(st.target, -1);
    int before = c.current_layer();
    // Delta frames of every layer: nothing switches, the current layer keeps flowing.
    for (int l = 0; l < 3; ++l) {
      Sent s = feed(c, l, seq, vp8(pid[l]++, 0, 0, false));
      EXPECT_EQ(s.ok(), l == before && before >= 0);
    }
    ++seq;
    for (int l = 0; l < 3; ++l) feed(c, l, seq, vp8(pid[l]++, 0, 0, true));
    ++seq;
    EXPECT_EQ(c.current_layer(), st.expect_layer);
    clock_.advance(20ms);
  }
}

TEST_F(ConsumerLayersTest, SilentLayerIsReplacedByOneThatFlows) {
  Consumer c(simulcast_info());
  uint16_t seq = 1;
  for (int l = 0; l < 3; ++l) feed(c, l, seq, vp8(uint16_t(100 * l), 0, 0, true));
  ASSERT_EQ(c.current_layer(), 2);
  // The host stops sending layer 2 (CPU or bandwidth adaptation in the browser).
  clock_.advance(Consumer::kLayerSilence + 10ms);
  EXPECT_EQ(c.pending_layer(clock_.now()), -1) << "nothing flows yet after the pause";
  ++seq;
  feed(c, 1, seq, vp8(400, 0, 0, false));
  EXPECT_EQ(c.pending_layer(clock_.now()), 1);
  EXPECT_TRUE(feed(c, 1, ++seq, vp8(401, 0, 0, true)).ok());
  EXPECT_EQ(c.current_layer(), 1);
}

TEST_F(ConsumerLayersTest, AHigherLayerThanWantedOnlyWhenTheWantedOneHadTimeToShowUp) {
  // A viewer capped at q whose first packets happen to be of f (it sends the most): asking
  // for an f keyframe would cost the host one this viewer does not want.
  Consumer c(simulcast_info());
  c.set_max_layer(0);
  EXPECT_FALSE(feed(c, 2, 1, vp8(500, 0, 0, true)).ok());
  EXPECT_EQ(c.pending_layer(clock_.now()), -1) << "q may simply not have sent yet";
  clock_.advance(Consumer::kLayerSilence);
  // Still only f after the silence period: better f than a frozen picture.
  EXPECT_EQ(c.pending_layer(clock_.now()), -1) << "f was last seen 500 ms ago: it is silent now too";
  EXPECT_TRUE(feed(c, 2, 2, vp8(501, 0, 0, true)).ok());
  EXPECT_EQ(c.current_layer(), 2);
}

TEST_F(ConsumerLayersTest, PictureIdsAndSequenceStayContinuousAcrossSwitches) {
  Consumer c(simulcast_info());
  c.set_target(0, -1);
  std::vector<Sent> out;
  out.push_back(feed(c, 0, 10, vp8(32766, 254, 0, true)));
  out.push_back(feed(c, 0, 11, vp8(32767, 255, 0, false)));  // 15-bit and TL0PICIDX wrap next
  out.push_back(feed(c, 0, 12, vp8(0, 0, 0, false)));
  c.set_target(2, -1);
  feed(c, 2, 900, vp8(7000, 90, 0, false));                   // not a keyframe: layer 0 goes on
  out.push_back(feed(c, 0, 13, vp8(1, 1, 0, false)));
  out.push_back(feed(c, 2, 901, vp8(7001, 91, 0, true)));     // the switch
  out.push_back(feed(c, 2, 902, vp8(7002, 92, 0, false)));
  c.set_target(1, -1);
  out.push_back(feed(c, 1, 50, vp8(20, 3, 0, true)));         // the switch down
  ASSERT_EQ(c.current_layer(), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(out[i].ok());
    auto p = out[i].parse();
    auto d = descriptor(out[i]);
    if (i == 0) continue;
    auto prev_p = out[i - 1].parse();
    auto prev = descriptor(out[i - 1]);
    EXPECT_EQ(p->sequence(), uint16_t(prev_p->sequence() + 1));
    EXPECT_EQ(d.picture_id, uint16_t((prev.picture_id + 1) & 0x7FFF));
    EXPECT_EQ(d.tl0picidx, uint8_t(prev.tl0picidx + 1));
  }
  EXPECT_EQ(c.layer_switches(), 3u);
}

TEST_F(ConsumerLayersTest, TemporalFilterDropsWholePicturesAndKeepsIdsContinuous) {
  Consumer c(simulcast_info());
  c.set_target(0, -1);
  // L1T3 pattern: tid 0 2 1 2 0 2 1 2 ...
  const uint8_t pattern[] = {0, 2, 1, 2};
  std::vector<Sent> forwarded;
  uint8_t tl0 = 0;
  for (uint16_t i = 0; i < 16; ++i) {
    if (i == 4) c.set_target(0, 1);  // drop TL2
    if (i == 8) c.set_target(0, 0);  // drop TL1 too
    if (i == 12) c.set_target(0, -1);
    uint8_t tid = pattern[i % 4];
    if (tid == 0 && i > 0) ++tl0;
    // Two packets per picture: the second is not a frame start.
    Sent a = feed(c, 0, uint16_t(2 * i), vp8(uint16_t(100 + i), tl0, tid, i == 0));
    Sent b = feed(c, 0, uint16_t(2 * i + 1), vp8(uint16_t(100 + i), tl0, tid, false, false));
    EXPECT_EQ(a.ok(), b.ok());
    bool expect = i < 4 || i >= 12 || (i < 8 ? tid <= 1 : tid == 0);
    EXPECT_EQ(a.ok(), expect) << "picture " << i << " tid " << int(tid);
    if (a.ok()) {
      forwarded.push_back(a);
      forwarded.push_back(b);
    }
  }
  EXPECT_GT(c.temporal_drops(), 0u);
  for (size_t i = 1; i < forwarded.size(); ++i) {
    SCOPED_TRACE(i);
    auto p = forwarded[i].parse(), q = forwarded[i - 1].parse();
    EXPECT_EQ(p->sequence(), uint16_t(q->sequence() + 1)) << "dropped packets leave no hole";
    auto d = descriptor(forwarded[i]), e = descriptor(forwarded[i - 1]);
    uint16_t step = i % 2 ? 0 : 1;  // same picture, then the next one
    EXPECT_EQ(d.picture_id, uint16_t(e.picture_id + step));
  }
}

TEST_F(ConsumerLayersTest, TransportCcExtensionOnMediaRetransmissionsAndProbes) {
  TransportSequencer seq(this);
  Consumer c(simulcast_info(kTwccId));
  c.set_transport_sequencer(&seq);
  c.set_target(0, -1);
  Sent k = feed(c, 0, 1, vp8(5, 1, 0, true));
  Sent d = feed(c, 0, 2, vp8(6, 1, 0, false));
  ASSERT_TRUE(k.ok() && d.ok());
  uint8_t buf[PacketBuffer::kCapacity];
  auto out_seq = k.parse()->sequence();
  size_t rtx = c.write_retransmission(out_seq, clock_.now(), buf, sizeof buf);
  ASSERT_GT(rtx, 0u);
  Sent r{{buf, buf + rtx}};
  seq.set_probe_cluster(7);
  size_t probe = c.write_probe(7, clock_.now(), buf, sizeof buf);
  ASSERT_GT(probe, 0u);
  Sent p{{buf, buf + probe}};
  std::vector<Sent*> all = {&k, &d, &r, &p};
  ASSERT_EQ(reported_.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(i);
    auto pkt = all[i]->parse();
    ASSERT_TRUE(pkt);
    auto t = rtp::read_transport_cc_seq(*pkt, kTwccId);
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, reported_[i].seq);
    EXPECT_EQ(reported_[i].bytes, all[i]->bytes.size());
    EXPECT_EQ(reported_[i].cluster, i == 3 ? 7 : -1);
  }
  EXPECT_EQ(reported_[1].seq, uint16_t(reported_[0].seq + 1));
  // The RTX copy carries the same (rewritten) VP8 payload after the OSN.
  auto rp = r.parse();
  EXPECT_EQ(rp->ssrc(), 0xBBBBu);
  EXPECT_EQ(load_be16(rp->payload().data()), out_seq);
  auto kp = k.parse();
  EXPECT_TRUE(std::equal(kp->payload().begin(), kp->payload().end(), rp->payload().begin() + 2));
  EXPECT_EQ(c.probe_packets(), 1u);
}

TEST_F(ConsumerLayersTest, RetransmissionKeepsTheRewrittenPictureId) {
  Consumer c(simulcast_info());
  c.set_target(0, -1);
  feed(c, 0, 1, vp8(100, 1, 0, true));
  c.set_target(1, -1);
  Sent s = feed(c, 1, 70, vp8(9000, 50, 0, true));  // switch: ids continue at 101 / 2
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(descriptor(s).picture_id, 101);
  uint8_t buf[PacketBuffer::kCapacity];
  size_t n = c.write_retransmission(s.parse()->sequence(), clock_.now(), buf, sizeof buf);
  ASSERT_GT(n, 14u);
  auto d = codecs::parse_vp8(ByteSpan(buf + 14, n - 14));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 101);
  EXPECT_EQ(d->tl0picidx, 2);
}

TEST_F(ConsumerLayersTest, ProbeNeedsRtxAndSomethingSent) {
  auto info = simulcast_info();
  info.codec.rtx_payload_type.reset();
  Consumer no_rtx(info);
  uint8_t buf[PacketBuffer::kCapacity];
  EXPECT_EQ(no_rtx.write_probe(1, clock_.now(), buf, sizeof buf), 0u);
  Consumer c(simulcast_info());
  EXPECT_EQ(c.write_probe(1, clock_.now(), buf, sizeof buf), 0u) << "nothing sent yet";
}

TEST_F(ConsumerLayersTest, LayerRatesAreMeasuredPerSpatialAndTemporalLayer) {
  Consumer c(simulcast_info());
  // 1 s of layer 0 at 50 packets/s alternating tid 0/1, layer 1 at 25 packets/s tid 0.
  for (int i = 0; i < 100; ++i) {
    feed(c, 0, uint16_t(i), vp8(uint16_t(i), 0, uint8_t(i % 2), i == 0));
    if (i % 2 == 0) feed(c, 1, uint16_t(i), vp8(uint16_t(i), 0, 0, false));
    clock_.advance(20ms);
  }
  auto rates = c.layer_rates().rates(clock_.now());
  // Each packet is 12 + 12 bytes = 24 bytes = 192 bits.
  EXPECT_NEAR(double(rates[0][0]), 25 * 192, 25 * 192 * 0.15);
  EXPECT_NEAR(double(rates[0][1]), 50 * 192, 50 * 192 * 0.15);
  EXPECT_EQ(rates[0][2], rates[0][1]);
  EXPECT_NEAR(double(rates[1][0]), 25 * 192, 25 * 192 * 0.15);
  EXPECT_EQ(rates[2][0], 0);
  EXPECT_EQ(c.layer_rates().temporal_layers(clock_.now()), 2);
}

}  // namespace
}  // namespace strata::sfu
