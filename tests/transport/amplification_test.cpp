// No amplification toward unverified addresses (docs/ARCHITECTURE.md "No amplification"):
// a viewer holds its session's ICE credentials and can put a victim's address on its checks.
// Every datagram the server sends to an address before that address has answered our
// verification request is recorded with the size of the datagram from that address it
// answers (0: it answers none), and must be STUN no larger than that. Both DTLS roles.
#include <gtest/gtest.h>

#include "transport/webrtc_transport.hpp"
#include "transport_fixture.hpp"

namespace strata::transport {
namespace {

using namespace testing_support;
using std::chrono::milliseconds;
using std::chrono::seconds;

class AmplificationTest : public TransportTest, public testing::WithParamInterface<dtls::Role> {
 protected:
  struct Sent {
    SocketAddress to;
    size_t out = 0, in = 0;  // our datagram, and the one from `to` it answers
    uint8_t first_byte = 0;
  };
  std::vector<Sent> ledger;  // everything sent to an address that has not verified
  const SocketAddress victim = addr("203.0.113.77:9");
  const SocketAddress moved = addr("192.0.2.10:50001");

  void SetUp() override {
    make_server(seconds(30), GetParam());
    out.on_send = [this](const RecordingOutput::Sent& s) {
      if (std::find(answered.begin(), answered.end(), s.to) != answered.end()) return;
      ledger.push_back({s.to, s.data.size(), delivering_from == s.to ? delivering_size : 0, s.data[0]});
    };
  }

  // What a worker session does with media: one SRTP packet to the selected path
  // (TransportSession::send_protected), recorded like every other datagram.
  void send_media() {
    if (server->state() != TransportState::kConnected || !server->remote_address()) return;
    Bytes p = make_rtp(media_seq_, 0x5eed, std::string(1000, 'v'));
    const size_t plain = p.size();
    p.resize(plain + kSrtpMaxTrailer);
    size_t n = 0;
    ASSERT_TRUE(server->protect_rtp(p.data(), plain, p.size(), &n));
    ++media_seq_;
    out.send_datagram(p.data(), n, *server->remote_address(), server->local_address());
  }
  std::vector<SocketAddress> media_destinations() {
    std::vector<SocketAddress> to;
    for (auto& s : out.take_srtp()) to.push_back(s.to);
    return to;
  }

  // The attacker's datagrams with the victim's source address: checks with and without
  // USE-CANDIDATE, a ClientHello of its own, an SRTP-looking packet.
  void spoof_round() {
    deliver(binding_request(), victim);
    CheckOptions plain;
    plain.use_candidate = false;
    deliver(binding_request(plain), victim);
    if (attacker_dtls_.state() == dtls::State::kNew) attacker_dtls_.start(now);
    for (auto& d : attacker_dtls_.take_outgoing()) deliver(d, victim);
    deliver(make_rtp(1, 0xbad, "not media"), victim);
  }
  void tick(Duration d) {
    now += d;
    server->handle_tick(now);
    send_media();
  }

  void expect_no_amplification() {
    ASSERT_FALSE(ledger.empty());
    for (const auto& s : ledger) {
      EXPECT_LE(s.first_byte, 3) << "only STUN to unverified " << s.to.to_string();
      EXPECT_LE(s.out, s.in) << "to unverified " << s.to.to_string();
    }
  }

 private:
  dtls::DtlsTransport attacker_dtls_{client_cert(), dtls::Role::kClient, "sha-256", sha256_of(server_cert())};
  uint16_t media_seq_ = 1;
};

// The one-role cases (the anonymous-namespace TransportTest of the other file is another class).
class HoldAndRouteTest : public TransportTest {};

INSTANTIATE_TEST_SUITE_P(DtlsRoles, AmplificationTest, testing::Values(dtls::Role::kServer, dtls::Role::kClient),
                         [](const auto& info) { return info.param == dtls::Role::kServer ? "dtls_server" : "dtls_client"; });

TEST_P(AmplificationTest, SpoofedAddressGetsOnlyStunNoLargerThanItsChecks) {
  // Before DTLS: the victim's address is nominated, but never answers our request.
  for (int i = 0; i < 5; ++i) {
    spoof_round();
    tick(milliseconds(200));
  }
  EXPECT_FALSE(server->remote_address());
  EXPECT_TRUE(out.selected.empty());
  EXPECT_TRUE(out.take_dtls().empty()) << "no DTLS flight to an unverified address, in either role";
  EXPECT_EQ(server->counters().paths_verified, 0u);
  const auto requests = server->counters().verification_requests;
  EXPECT_EQ(requests, 10u) << "one per check, no timer";

  // The real browser connects: a verified path gets media.
  out.sent.clear();  // (recorded in the ledger)
  connect();
  for (int i = 0; i < 10; ++i) send_media();
  EXPECT_EQ(media_destinations(), std::vector<SocketAddress>(10, browser_addr));

  // After DTLS: a renomination of the victim gets STUN answers only; media stays, also
  // once the browser's own checks are 8+ s old (rule 2 needs a verified path too).
  for (int i = 0; i < 5; ++i) {
    spoof_round();
    tick(seconds(2));
  }
  EXPECT_EQ(server->remote_address(), browser_addr);
  auto to = media_destinations();
  EXPECT_EQ(to, std::vector<SocketAddress>(to.size(), browser_addr));
  EXPECT_EQ(to.size(), 5u);

  // A real new path (it answers our request) takes over.
  check_from(moved);
  EXPECT_EQ(server->remote_address(), moved);
  send_media();
  EXPECT_EQ(media_destinations(), std::vector<SocketAddress>{moved});
  EXPECT_EQ(server->counters().paths_verified, 2u);
  expect_no_amplification();
}

// The client's ClientHello often arrives before its answer to our request (it starts DTLS
// on our success response): it is held, bounded, and handled once the path verifies.
TEST_F(HoldAndRouteTest, ClientHelloBeforeTheAnswerIsHeldUntilThePathVerifies) {
  deliver(binding_request(), browser_addr);
  EXPECT_EQ(out.take_responses().size(), 1u);
  browser_dtls->start(now);
  auto hello = browser_dtls->take_outgoing();
  ASSERT_FALSE(hello.empty());
  for (size_t i = 0; i < WebRtcTransport::kMaxHeldDtls + 2; ++i) deliver(hello[i % hello.size()], browser_addr);
  EXPECT_TRUE(out.take_dtls().empty()) << "nothing but STUN before the answer";
  EXPECT_EQ(server->counters().dtls_held, WebRtcTransport::kMaxHeldDtls);
  EXPECT_EQ(server->counters().dtls_held_dropped, 2u) << "beyond the bound";
  // Its answer arrives: the held flight is handled at once, no retransmission needed.
  answer_requests(browser_addr);
  auto flight = out.take_dtls();
  EXPECT_FALSE(flight.empty()) << "the server flight answers the held ClientHello";
  for (auto& f : flight) {
    EXPECT_EQ(f.to, browser_addr);
    browser_dtls->handle_datagram(f.data, now);
  }
  pump_dtls();
  EXPECT_EQ(server->state(), TransportState::kConnected) << server->failure_reason();
  EXPECT_EQ(browser_dtls->state(), dtls::State::kConnected);
}

// A handshake on a path that never answers is held, never handled, and goes when another
// path verifies; a real client there then connects.
TEST_F(HoldAndRouteTest, HeldDtlsOfAnotherPathIsDroppedWhenOnePathVerifies) {
  deliver(binding_request(), other_addr);  // never answers
  dtls::DtlsTransport attacker(client_cert(), dtls::Role::kClient, "sha-256", sha256_of(server_cert()));
  attacker.start(now);
  for (auto& d : attacker.take_outgoing()) deliver(d, other_addr);
  EXPECT_GE(server->counters().dtls_held, 1u);
  out.sent.clear();
  nominate();
  EXPECT_EQ(server->counters().dtls_held_dropped, server->counters().dtls_held);
  browser_dtls->start(now);
  pump_dtls();
  EXPECT_EQ(server->state(), TransportState::kConnected) << server->failure_reason();
}

TEST_F(HoldAndRouteTest, DtlsClientRoleSendsItsClientHelloOnlyOnceThePathVerifies) {
  make_server(seconds(30), dtls::Role::kClient);
  deliver(binding_request(), browser_addr);
  EXPECT_TRUE(out.take_dtls().empty());
  now += seconds(3);
  server->handle_tick(now);
  EXPECT_TRUE(out.take_dtls().empty()) << "no timer starts it either";
  answer_requests(browser_addr);
  auto hello = out.take_dtls();
  ASSERT_FALSE(hello.empty());
  for (auto& h : hello) EXPECT_EQ(h.to, browser_addr);
}

// Each new client address is routed to the session while it verifies (its answer has no
// USERNAME to route by), and given back when the path table forgets it.
TEST_F(HoldAndRouteTest, PendingAddressesAreRoutedAndForgotten) {
  std::vector<SocketAddress> spoofed;
  for (size_t i = 0; i <= ice::IceLiteAgent::kMaxPaths; ++i) {
    spoofed.push_back(*SocketAddress::from_ip_port("203.0.113.50", uint16_t(1000 + i)));
    now += milliseconds(10);
    deliver(binding_request(), spoofed.back());
  }
  EXPECT_EQ(out.pending, spoofed);
  EXPECT_EQ(out.forgotten, std::vector<SocketAddress>{spoofed.front()}) << "the least recently checked";
  EXPECT_TRUE(out.selected.empty());
}

TEST_F(HoldAndRouteTest, WithoutTheClientsIcePasswordTheTransportFailsAtOnce) {
  TransportConfig c;
  c.local_ufrag = kServerUfrag;
  c.local_pwd = kServerPwd;
  c.remote_ufrag = kClientUfrag;
  c.remote_fingerprint = sha256_of(client_cert());
  c.certificate = server_cert();
  server = std::make_unique<WebRtcTransport>(std::move(c), out);
  EXPECT_EQ(server->state(), TransportState::kFailed);
  EXPECT_NE(server->failure_reason().find("ice-pwd"), std::string::npos) << server->failure_reason();
}

}  // namespace
}  // namespace strata::transport
