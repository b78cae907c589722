// PublisherSession on a real (unstarted) worker: the test thread plays the worker thread
// and a test "browser" (real stun::MessageBuilder, dtls::DtlsTransport, srtp::SrtpSession)
// connects to it over loopback UDP. Checks that every way an ingest packet or an RTCP
// packet is dropped shows up in the worker metrics (strata_drop_*_total).
#include "worker/sessions.hpp"
#include "worker/relay_session.hpp"
#include "worker/viewer_session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rtp/rtp_packet_builder.hpp"
#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::worker {
namespace {

using namespace std::chrono_literals;

constexpr const char* kServerUfrag = "srvU";
constexpr const char* kServerPwd = "server-password-0123456789";
constexpr const char* kClientUfrag = "cliU";
constexpr const char* kClientPwd = "client-password-abcdefghij";
constexpr uint8_t kVp8Pt = 96, kRtxPt = 97;
constexpr uint32_t kMediaSsrc = 0x1111, kRtxSsrc = 0x2222;

std::shared_ptr<const dtls::Certificate> server_cert() {
  static auto cert = dtls::Certificate::generate();
  return cert;
}
std::shared_ptr<const dtls::Certificate> client_cert() {
  static auto cert = dtls::Certificate::generate();
  return cert;
}
Bytes sha256_of(const std::shared_ptr<const dtls::Certificate>& c) { return *dtls::digest_of(c->x509(), "sha-256"); }
SocketAddress loopback(uint16_t port) { return *SocketAddress::from_ip_port("127.0.0.1", port); }

struct NoEvents : SessionEvents {
  void on_session_connected(uint64_t) override {}
  void on_session_ended(uint64_t, std::string) override {}
};

// One VP8 video track with NACK and RTX (a=rtpmap 97 rtx, apt=96), no a=ssrc lines: SSRCs
// are learned from the payload types, as with a browser that does not signal them.
sfu::IngestTrackInfo vp8_track_with_rtx() {
  sfu::IngestTrackInfo t;
  t.mid = "0";
  t.kind = sfu::MediaKind::kVideo;
  t.codec.payload_type = kVp8Pt;
  t.codec.rtx_payload_type = kRtxPt;
  t.codec.name = "VP8";
  t.codec.codec = codecs::Codec::kVp8;
  t.codec.nack = true;
  t.codec.pli = true;
  return t;
}

// A VP8 interframe (RFC 7741 §4.2 descriptor S=1, then a payload header with P=1), so no
// packet is mistaken for a keyframe (a keyframe cancels outstanding NACKs).
const Bytes kInterframe = {0x10, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};

class PublisherSessionTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    // Opened but not started: this thread is the worker thread.
    ASSERT_TRUE(group_.open("127.0.0.1", 0, &error)) << error;
    ASSERT_TRUE(browser_socket_.open(loopback(0), &error)) << error;
    browser_addr_ = loopback(browser_socket_.local_port());
  }

  Worker& worker() { return group_.at(0); }
  const WorkerMetrics& metrics() { return worker().metrics(); }

  // ICE-lite nomination (RFC 8445 §7.3) and the DTLS-SRTP handshake (RFC 5764).
  void connect(std::vector<sfu::IngestTrackInfo> tracks) {
    transport::TransportConfig c;
    c.local_ufrag = kServerUfrag;
    c.local_pwd = kServerPwd;
    c.remote_ufrag = kClientUfrag;
    c.remote_pwd = kClientPwd;
    c.dtls_role = dtls::Role::kServer;
    c.remote_fingerprint = sha256_of(client_cert());
    c.certificate = server_cert();
    session_ = std::make_unique<PublisherSession>(worker(), 1, 1, std::move(c), std::move(tracks), events_);

    Bytes check = stun::MessageBuilder::binding_request(stun::random_transaction_id())
                      .add_username(std::string(kServerUfrag) + ":" + kClientUfrag)
                      .add_priority(0x6e001eff)
                      .add_ice_controlling(0x1122334455667788ull)
                      .add_use_candidate()
                      .finish(std::string_view(kServerPwd), true);
    deliver(check);

    browser_dtls_ = std::make_unique<dtls::DtlsTransport>(client_cert(), dtls::Role::kClient, "sha-256",
                                                          sha256_of(server_cert()));
    browser_dtls_->start(now_);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (session_->transport().state() != transport::TransportState::kConnected ||
           browser_dtls_->state() != dtls::State::kConnected) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "handshake did not finish";
      for (auto& d : browser_dtls_->take_outgoing()) deliver(d);
      for (auto& d : receive_from_server()) {
        if (!d.empty() && d[0] >= 20 && d[0] <= 63) browser_dtls_->handle_datagram(d, now_);
        // The server verifies our address before it sends us DTLS (no amplification): a
        // full agent answers its request (RFC 8445 §7.3).
        auto m = !d.empty() && d[0] <= 3 ? stun::Message::parse(d) : std::nullopt;
        if (m && m->is_binding_request()) {
          deliver(stun::MessageBuilder::binding_success(m->transaction_id())
                      .add_xor_mapped_address(browser_addr_)
                      .finish(std::string_view(kClientPwd)));
        }
      }
    }
    auto keys = browser_dtls_->srtp_keys();
    ASSERT_TRUE(keys);
    browser_out_ = srtp::SrtpSession::create(keys->profile, keys->local_key, keys->local_salt);
    ASSERT_NE(browser_out_, nullptr);
    session_->on_tick(now_);  // reports connected; RTCP timers start
    worker().sender().flush();
    receive_from_server();
  }

  // One datagram from the browser, as the worker's demux would hand it over.
  void deliver(ByteSpan bytes) {
    PacketRef p = worker().pool().acquire();
    ASSERT_LE(bytes.size(), PacketBuffer::kCapacity);
    std::memcpy(p.data(), bytes.data(), bytes.size());
    p->size = bytes.size();
    session_->on_datagram(p, browser_addr_, SocketAddress{}, now_);
    worker().sender().flush();
  }

  void deliver_rtp(const Bytes& plain) {
    Bytes b = plain;
    b.resize(plain.size() + kSrtpMaxTrailer);
    size_t n = 0;
    ASSERT_EQ(browser_out_->protect_rtp(b.data(), plain.size(), b.size(), &n), srtp::Status::kOk);
    b.resize(n);
    deliver(b);
  }

  static Bytes media(uint16_t seq) {
    return rtp::RtpPacketBuilder().payload_type(kVp8Pt).ssrc(kMediaSsrc).sequence(seq).timestamp(seq * 3000u)
        .payload(kInterframe).build();
  }
  // RFC 4588 §4: the original sequence number (OSN) in front of the original payload.
  static Bytes rtx(uint16_t rtx_seq, uint16_t osn) {
    Bytes payload = {uint8_t(osn >> 8), uint8_t(osn)};
    payload.insert(payload.end(), kInterframe.begin(), kInterframe.end());
    return rtp::RtpPacketBuilder().payload_type(kRtxPt).ssrc(kRtxSsrc).sequence(rtx_seq).timestamp(osn * 3000u)
        .payload(payload).build();
  }

  // Whatever the server sent to the browser (loopback delivers within the flush).
  std::vector<Bytes> receive_from_server() {
    std::vector<Bytes> out;
    std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
    std::array<SocketAddress, UdpSocket::kRecvBatch> from;
    for (int n; (n = browser_socket_.receive_batch(browser_pool_, bufs, from)) > 0;) {
      for (int i = 0; i < n; ++i) out.emplace_back(bufs[size_t(i)].data(), bufs[size_t(i)].data() + bufs[size_t(i)].size());
    }
    return out;
  }

  WorkerGroup group_{1};
  UdpSocket browser_socket_;
  BufferPool browser_pool_{64};
  SocketAddress browser_addr_;
  Timestamp now_ = FakeClock().now();
  NoEvents events_;
  std::unique_ptr<PublisherSession> session_;
  std::unique_ptr<dtls::DtlsTransport> browser_dtls_;
  std::unique_ptr<srtp::SrtpSession> browser_out_;
};

// Typed lookups (no dynamic_cast): the worker finds a session as what it is, never as
// another kind.
TEST_F(PublisherSessionTest, WorkerFindsSessionsByKind) {
  ASSERT_NO_FATAL_FAILURE(connect({vp8_track_with_rtx()}));
  PublisherSession* raw = session_.get();
  const uint64_t id = raw->id();
  worker().add_session(std::move(session_), "lookup-ufrag");
  EXPECT_EQ(worker().find<PublisherSession>(id), raw);
  EXPECT_EQ(worker().find<TransportSession>(id), raw);
  EXPECT_EQ(worker().find<ViewerSession>(id), nullptr);
  EXPECT_EQ(worker().find<RelaySendSession>(id), nullptr);
  EXPECT_EQ(worker().find<PublisherSession>(id + 1), nullptr);
}

// Control: an RTX packet that repairs a real gap is restored and counts as no drop.
TEST_F(PublisherSessionTest, RtxFillingAGapIsNotADrop) {
  ASSERT_NO_FATAL_FAILURE(connect({vp8_track_with_rtx()}));
  deliver_rtp(media(10));
  deliver_rtp(media(12));  // 11 is missing
  deliver_rtp(rtx(1, 11));
  EXPECT_EQ(metrics().rtp_in.get(), 3u);
  EXPECT_EQ(session_->producers()[0]->packets(), 3u);
  EXPECT_EQ(metrics().drop_rtx_unknown_media_ssrc.get(), 0u);
  EXPECT_EQ(metrics().drop_rtx_unrestorable.get(), 0u);
  EXPECT_EQ(metrics().drop_duplicate_rtx.get(), 0u);
  EXPECT_EQ(metrics().drop_unknown_ssrc.get(), 0u);
}

// The RTX SSRC is known (by its payload type) but the stream it repairs has not sent a
// packet yet: nothing to restore it into.
TEST_F(PublisherSessionTest, RtxBeforeItsMediaSsrcIsKnownIsCounted) {
  ASSERT_NO_FATAL_FAILURE(connect({vp8_track_with_rtx()}));
  deliver_rtp(rtx(1, 11));
  deliver_rtp(rtx(2, 12));
  EXPECT_EQ(metrics().drop_rtx_unknown_media_ssrc.get(), 2u);
  EXPECT_EQ(session_->producers()[0]->packets(), 0u);
  // Once the media SSRC is known, RTX is restored again.
  deliver_rtp(media(20));
  deliver_rtp(media(22));
  deliver_rtp(rtx(3, 21));
  EXPECT_EQ(metrics().drop_rtx_unknown_media_ssrc.get(), 2u);
  EXPECT_EQ(session_->producers()[0]->packets(), 3u);
}

// RFC 4588 §4: an RTX payload shorter than the 2-byte OSN (Chromium's padding-only
// probes, or a truncated packet) restores to nothing.
TEST_F(PublisherSessionTest, UnrestorableRtxIsCounted) {
  ASSERT_NO_FATAL_FAILURE(connect({vp8_track_with_rtx()}));
  deliver_rtp(media(10));
  const uint8_t one_byte[] = {0x42};
  deliver_rtp(rtp::RtpPacketBuilder().payload_type(kRtxPt).ssrc(kRtxSsrc).sequence(1)
                  .payload(ByteSpan(one_byte, 1)).build());
  deliver_rtp(rtp::RtpPacketBuilder().payload_type(kRtxPt).ssrc(kRtxSsrc).sequence(2).padding(200).build());
  EXPECT_EQ(metrics().drop_rtx_unrestorable.get(), 2u);
  EXPECT_EQ(metrics().drop_rtx_unknown_media_ssrc.get(), 0u);
  EXPECT_EQ(session_->producers()[0]->packets(), 1u);
}

// A NACK naming ~400 scattered losses does not fit one datagram (RFC 3550 §6.1: a compound
// is never split across datagrams): it is not sent, and that is counted.
TEST_F(PublisherSessionTest, OversizedRtcpIsCounted) {
  ASSERT_NO_FATAL_FAILURE(connect({vp8_track_with_rtx()}));
  // Control: a small NACK goes out.
  deliver_rtp(media(0));
  deliver_rtp(media(2));
  const uint64_t rtcp_before = metrics().rtcp_out.get();
  now_ += 20ms;
  session_->on_tick(now_);
  worker().sender().flush();
  EXPECT_GT(metrics().rtcp_out.get(), rtcp_before);
  EXPECT_EQ(metrics().drop_rtcp_oversized.get(), 0u);
  // Every 17th packet lost: each loss needs its own NACK item (PID + 16-bit BLP, RFC 4585
  // §6.2.1), 4 bytes each, so 400 of them need 1600 bytes.
  for (uint32_t seq = 3; seq < 3 + 17 * 400; ++seq) {
    if (seq % 17 != 0) deliver_rtp(media(uint16_t(seq)));
  }
  const uint64_t rtcp_sent = metrics().rtcp_out.get();
  now_ += 20ms;
  session_->on_tick(now_);
  worker().sender().flush();
  EXPECT_EQ(metrics().drop_rtcp_oversized.get(), 1u);
  EXPECT_EQ(metrics().rtcp_out.get(), rtcp_sent);
}

}  // namespace
}  // namespace strata::worker
