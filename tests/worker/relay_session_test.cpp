// RelaySendSession (the origin's end of a relay) on a real, unstarted worker: the test
// thread plays the worker thread (FakeClock time) and a test "edge" (real DTLS client and
// SRTP) connects to it over loopback UDP. The relay starts every layer from the worker's
// keyframe cache, paced, with the layer's live packets behind it, and answers the edge's
// first keyframe requests with that replay instead of asking the host.
#include "worker/relay_session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::worker {
namespace {

using namespace std::chrono_literals;

constexpr const char* kServerUfrag = "relU";
constexpr const char* kServerPwd = "relay-password-0123456789x";
constexpr const char* kEdgeUfrag = "edgU";
constexpr const char* kEdgePwd = "edge-password-abcdefghijkl";
constexpr SourceId kSource = 7;
// The host's simulcast video (track 0) on three SSRCs, and its audio (track 1).
constexpr uint32_t kLow = 0xA0, kMid = 0xA1, kHigh = 0xA2, kAudio = 0xB0;
constexpr size_t kPayload = 1000;

std::shared_ptr<const dtls::Certificate> cert(int which) {
  static auto a = dtls::Certificate::generate();
  static auto b = dtls::Certificate::generate();
  return which == 0 ? a : b;
}
Bytes sha256_of(const std::shared_ptr<const dtls::Certificate>& c) { return *dtls::digest_of(c->x509(), "sha-256"); }
SocketAddress loopback(uint16_t port) { return *SocketAddress::from_ip_port("127.0.0.1", port); }

struct NoEvents : SessionEvents {
  void on_session_connected(uint64_t) override {}
  void on_session_ended(uint64_t, std::string) override {}
};

struct Received {
  uint32_t ssrc;
  uint16_t seq;
  Timestamp at;
};

class RelaySendSessionTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(group_.open("127.0.0.1", 0, &error)) << error;  // opened, not started
    ASSERT_TRUE(edge_socket_.open(loopback(0), &error)) << error;
    edge_addr_ = loopback(edge_socket_.local_port());
    worker().set_now_for_testing(now_);
    worker().set_hosted(kSource, true);  // the host's worker: it caches from the start
    transport::TransportConfig c;
    c.local_ufrag = kServerUfrag;
    c.local_pwd = kServerPwd;
    c.remote_ufrag = kEdgeUfrag;
    c.remote_pwd = kEdgePwd;
    c.dtls_role = dtls::Role::kServer;
    c.remote_fingerprint = sha256_of(cert(1));
    c.certificate = cert(0);
    relay_ = std::make_unique<RelaySendSession>(worker(), 1, kSource, UpstreamRef{0, 99}, std::move(c), events_);
    worker().subscribe(kSource, relay_.get());  // as SessionManager::create_relay does
  }
  void TearDown() override { worker().unsubscribe(kSource, relay_.get()); }

  Worker& worker() { return group_.at(0); }
  const WorkerMetrics& metrics() { return worker().metrics(); }

  // The host's packet as its PublisherSession hands it to the fan-out.
  void host_sends(uint32_t ssrc, uint16_t seq, bool keyframe) {
    const uint32_t track = ssrc == kAudio ? 1 : 0;
    const uint8_t layer = ssrc == kAudio ? 0 : uint8_t(ssrc - kLow);
    const Bytes payload(kPayload, uint8_t(seq));
    const Bytes rtp = rtp::RtpPacketBuilder().payload_type(96).ssrc(ssrc).sequence(seq).timestamp(seq * 3000u)
                          .payload(payload).build();
    PacketRef p = worker().pool().acquire();
    std::memcpy(p.data(), rtp.data(), rtp.size());
    p->size = rtp.size();
    worker().set_now_for_testing(now_);
    worker().fan_out(FanoutItem{kSource, track, sfu::PacketFacts{layer, keyframe, keyframe}, p});
    worker().sender().flush();
  }

  // A keyframe and deltas on the low and mid layers, deltas only on the high one (no
  // keyframe cached there), audio (never cached): all before the edge connects.
  void host_sends_before_the_relay_connects() {
    host_sends(kLow, 100, true);
    for (uint16_t s = 101; s <= 105; ++s) host_sends(kLow, s, false);
    host_sends(kMid, 500, true);
    for (uint16_t s = 501; s <= 503; ++s) host_sends(kMid, s, false);
    host_sends(kHigh, 900, false);
    host_sends(kAudio, 50, false);
  }

  // ICE-lite nomination (RFC 8445 §7.3) and the DTLS-SRTP handshake (RFC 5764), with no
  // tick: the test says when the relay first ticks.
  void connect() {
    Bytes check = stun::MessageBuilder::binding_request(stun::random_transaction_id())
                      .add_username(std::string(kServerUfrag) + ":" + kEdgeUfrag)
                      .add_priority(0x6e001eff)
                      .add_ice_controlling(0x1122334455667788ull)
                      .add_use_candidate()
                      .finish(std::string_view(kServerPwd), true);
    deliver(check);
    edge_dtls_ = std::make_unique<dtls::DtlsTransport>(cert(1), dtls::Role::kClient, "sha-256", sha256_of(cert(0)));
    edge_dtls_->start(now_);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (relay_->transport().state() != transport::TransportState::kConnected ||
           edge_dtls_->state() != dtls::State::kConnected) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "handshake did not finish";
      for (auto& d : edge_dtls_->take_outgoing()) deliver(d);
      for (auto& d : receive_datagrams()) {
        if (!d.empty() && d[0] >= 20 && d[0] <= 63) edge_dtls_->handle_datagram(d, now_);
        // The server verifies our address before it sends us DTLS (no amplification): a
        // full agent answers its request (RFC 8445 §7.3).
        auto m = !d.empty() && d[0] <= 3 ? stun::Message::parse(d) : std::nullopt;
        if (m && m->is_binding_request()) {
          deliver(stun::MessageBuilder::binding_success(m->transaction_id())
                      .add_xor_mapped_address(edge_addr_)
                      .finish(std::string_view(kEdgePwd)));
        }
      }
    }
    auto keys = edge_dtls_->srtp_keys();
    ASSERT_TRUE(keys);
    edge_out_ = srtp::SrtpSession::create(keys->profile, keys->local_key, keys->local_salt);
    edge_in_ = srtp::SrtpSession::create(keys->profile, keys->remote_key, keys->remote_salt);
    ASSERT_TRUE(edge_out_ && edge_in_);
  }

  void deliver(ByteSpan bytes) {
    PacketRef p = worker().pool().acquire();
    std::memcpy(p.data(), bytes.data(), bytes.size());
    p->size = bytes.size();
    relay_->on_datagram(p, edge_addr_, SocketAddress{}, now_);
    worker().sender().flush();
  }

  void edge_sends_rtcp(const Bytes& plain) {
    Bytes b = plain;
    b.resize(plain.size() + kSrtpMaxTrailer);
    size_t n = 0;
    ASSERT_EQ(edge_out_->protect_rtcp(b.data(), plain.size(), b.size(), &n), srtp::Status::kOk);
    b.resize(n);
    deliver(b);
  }
  void edge_sends_pli(uint32_t ssrc) {
    Bytes b;
    rtp::append_pli(b, rtp::Pli{0xED6E, ssrc});
    edge_sends_rtcp(b);
  }

  std::vector<Bytes> receive_datagrams() {
    std::vector<Bytes> out;
    std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
    std::array<SocketAddress, UdpSocket::kRecvBatch> from;
    for (int n; (n = edge_socket_.receive_batch(edge_pool_, bufs, from)) > 0;) {
      for (int i = 0; i < n; ++i) out.emplace_back(bufs[size_t(i)].data(), bufs[size_t(i)].data() + bufs[size_t(i)].size());
    }
    return out;
  }

  // Every RTP packet the edge got since the last call (RFC 5761 §4: RTCP has PT 64-95).
  void collect_rtp() {
    for (Bytes& d : receive_datagrams()) {
      if (d.size() < 12 || d[0] < 128 || d[0] > 191 || ((d[1] & 0x7F) >= 64 && (d[1] & 0x7F) <= 95)) continue;
      size_t n = 0;
      ASSERT_EQ(edge_in_->unprotect_rtp(d.data(), d.size(), &n), srtp::Status::kOk);
      got_.push_back({load_be32(d.data() + 8), load_be16(d.data() + 2), now_});
    }
  }

  void tick_for(Duration d) {
    for (const Timestamp end = now_ + d; now_ < end;) {
      now_ += Worker::kTick;
      relay_->on_tick(now_);
      worker().sender().flush();
      collect_rtp();
    }
  }

  std::vector<uint16_t> seqs_of(uint32_t ssrc) const {
    std::vector<uint16_t> out;
    for (const Received& r : got_) {
      if (r.ssrc == ssrc) out.push_back(r.seq);
    }
    return out;
  }
  Timestamp when(uint32_t ssrc, uint16_t seq) const {
    for (const Received& r : got_) {
      if (r.ssrc == ssrc && r.seq == seq) return r.at;
    }
    return kNever;
  }

  WorkerGroup group_{1};
  UdpSocket edge_socket_;
  BufferPool edge_pool_{256};
  SocketAddress edge_addr_;
  Timestamp now_ = FakeClock().now();
  NoEvents events_;
  std::unique_ptr<RelaySendSession> relay_;
  std::unique_ptr<dtls::DtlsTransport> edge_dtls_;
  std::unique_ptr<srtp::SrtpSession> edge_out_, edge_in_;
  std::vector<Received> got_;
};

using Seqs = std::vector<uint16_t>;

// The edge gets each cached layer from its keyframe on, paced (the layer's rate is not
// known yet: the 200 kbit/s floor, a 1500-byte burst), then that layer's live packets in
// sequence order; layers the cache does not hold go live at once.
TEST_F(RelaySendSessionTest, StartsEveryLayerFromTheKeyframeCacheThenGoesLive) {
  host_sends_before_the_relay_connects();
  ASSERT_NO_FATAL_FAILURE(connect());
  collect_rtp();
  EXPECT_TRUE(got_.empty()) << "nothing before the relay's first tick";
  const Timestamp start = now_;
  relay_->on_tick(now_);
  worker().sender().flush();
  collect_rtp();
  EXPECT_EQ(seqs_of(kLow), (Seqs{100, 101})) << "the burst: two packets per layer at once";
  EXPECT_EQ(seqs_of(kMid), (Seqs{500, 501}));
  EXPECT_EQ(metrics().keyframe_cache_replays.get(), 2u) << "one replay per cached layer";

  // Live packets during the replay: behind it on a replayed layer, at once on the others.
  host_sends(kLow, 106, false);
  host_sends(kHigh, 901, false);
  host_sends(kAudio, 51, false);
  collect_rtp();
  EXPECT_EQ(seqs_of(kLow), (Seqs{100, 101}));
  EXPECT_EQ(seqs_of(kHigh), (Seqs{901}));
  EXPECT_EQ(seqs_of(kAudio), (Seqs{51}));

  tick_for(1s);
  EXPECT_EQ(seqs_of(kLow), (Seqs{100, 101, 102, 103, 104, 105, 106}));
  EXPECT_EQ(seqs_of(kMid), (Seqs{500, 501, 502, 503}));
  // 102..106, 1012 bytes each, behind a 1500-byte burst at 25 kB/s: one per ~40 ms, ~190 ms.
  EXPECT_GE(when(kLow, 106) - start, 120ms) << "paced, not a line-rate burst";
  EXPECT_LE(when(kLow, 106) - start, 300ms);
  EXPECT_EQ(metrics().keyframe_cache_packets_out.get(), 11u) << "7 low (one of them live, queued), 4 mid";

  host_sends(kLow, 107, false);  // live again
  collect_rtp();
  EXPECT_EQ(seqs_of(kLow).back(), 107);

  // Replayed packets are NACK-able like live ones (RFC 4585 §6.2.1). (The edge got this one:
  // its SRTP replay check would refuse the copy, so only count it.)
  Bytes nack;
  rtp::append_nack(nack, rtp::Nack{0xED6E, kLow, rtp::nack_items_from_sequences(Seqs{100})});
  edge_sends_rtcp(nack);
  EXPECT_EQ(metrics().retransmissions_out.get(), 1u);
  EXPECT_EQ(receive_datagrams().size(), 1u);
}

// The edge's first keyframe requests (its first viewer asks as soon as it connects) are
// answered by the replay of that layer and not sent to the host; a request after the
// window is real loss and goes on, as does one for a layer the cache did not hold.
TEST_F(RelaySendSessionTest, KeyframeRequestsDuringAndJustAfterTheReplayAreAnsweredByIt) {
  host_sends_before_the_relay_connects();
  ASSERT_NO_FATAL_FAILURE(connect());
  relay_->on_tick(now_);
  host_sends(kHigh, 901, false);

  edge_sends_pli(kLow);  // during the replay
  Bytes fir;
  rtp::append_fir(fir, rtp::Fir{0xED6E, {{kMid, 1}}});
  edge_sends_rtcp(fir);
  EXPECT_EQ(relay_->keyframe_requests_forwarded(), 0u);
  EXPECT_EQ(metrics().keyframe_cache_requests_answered.get(), 2u);

  edge_sends_pli(kHigh);  // no cached group for that layer: the host must send one
  EXPECT_EQ(relay_->keyframe_requests_forwarded(), 1u);

  tick_for(500ms);  // the replay ended after ~150 ms
  ASSERT_FALSE(seqs_of(kLow).empty());
  ASSERT_EQ(seqs_of(kLow).back(), 105);
  edge_sends_pli(kLow);  // within the window after the replay
  EXPECT_EQ(relay_->keyframe_requests_forwarded(), 1u);
  EXPECT_EQ(metrics().keyframe_cache_requests_answered.get(), 3u);

  tick_for(RelaySendSession::kReplayAnswersKeyframeRequests);
  edge_sends_pli(kLow);  // the edge lost something later on
  EXPECT_EQ(relay_->keyframe_requests_forwarded(), 2u);
  EXPECT_EQ(metrics().keyframe_cache_requests_answered.get(), 3u);
  EXPECT_EQ(metrics().keyframe_requests_in.get(), 5u);
}

// Without a fresh group (the host's keyframe is older than max_age) the relay goes live at
// once and every keyframe request goes to the host, as before.
TEST_F(RelaySendSessionTest, AStaleCacheIsNotReplayed) {
  host_sends_before_the_relay_connects();
  now_ += worker().group().keyframe_cache().max_age + 1ms;
  ASSERT_NO_FATAL_FAILURE(connect());
  relay_->on_tick(now_);
  host_sends(kLow, 106, false);
  worker().sender().flush();
  collect_rtp();
  EXPECT_EQ(seqs_of(kLow), (Seqs{106}));
  EXPECT_EQ(metrics().keyframe_cache_replays.get(), 0u);
  edge_sends_pli(kLow);
  EXPECT_EQ(relay_->keyframe_requests_forwarded(), 1u);
}

}  // namespace
}  // namespace strata::worker
