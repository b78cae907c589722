// WebRtcTransport end to end, in memory, against the test browser of transport_fixture.hpp:
// ICE-lite, the DTLS-SRTP handshake and SRTP media without sockets.
#include "transport/webrtc_transport.hpp"

#include <gtest/gtest.h>

#include "transport_fixture.hpp"

namespace strata::transport {
namespace {

using namespace testing_support;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- ICE ----------------------------------------------------------------------------------

TEST_F(TransportTest, NominationSelectsAddressAndAnswersWithAuthenticatedSuccess) {
  Bytes check = binding_request();
  EXPECT_EQ(deliver(check, browser_addr), WebRtcTransport::Received::kNothing);
  // Not selected before the browser answers our verification request (ice_lite_agent.hpp).
  EXPECT_TRUE(out.selected.empty());
  EXPECT_FALSE(server->remote_address());
  EXPECT_EQ(out.pending, std::vector<SocketAddress>{browser_addr}) << "its answer is routed here meanwhile";
  ASSERT_EQ(out.sent.size(), 2u);
  EXPECT_EQ(stun::Message::parse(out.sent[0].data)->message_class(), stun::MessageClass::kRequest)
      << "our request goes first";
  EXPECT_EQ(answer_requests(browser_addr), 1u);
  ASSERT_EQ(out.selected.size(), 1u);
  EXPECT_EQ(out.selected[0], browser_addr);
  EXPECT_EQ(server->remote_address(), browser_addr);
  EXPECT_EQ(server->state(), TransportState::kConnecting);
  EXPECT_EQ(server->counters().paths_verified, 1u);

  auto responses = out.take_stun();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].to, browser_addr);
  auto msg = stun::Message::parse(responses[0].data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), stun::MessageClass::kSuccessResponse);
  EXPECT_TRUE(msg->verify_message_integrity(kServerPwd));
  EXPECT_TRUE(msg->verify_fingerprint());
  EXPECT_EQ(msg->xor_mapped_address(), browser_addr);
  EXPECT_EQ(server->counters().stun_unauthenticated, 0u);
}

TEST_F(TransportTest, RepeatedNominationFromSameAddressSelectsOnce) {
  nominate();
  nominate();
  EXPECT_EQ(out.selected.size(), 1u);
}

TEST_F(TransportTest, CheckWithoutUseCandidateIsAnsweredButSelectsNothing) {
  CheckOptions o;
  o.use_candidate = false;
  check_from(browser_addr, o);
  EXPECT_EQ(out.take_stun().size(), 1u);
  EXPECT_TRUE(out.selected.empty());
  EXPECT_EQ(server->state(), TransportState::kNew);
  EXPECT_FALSE(server->remote_address());
  EXPECT_EQ(server->counters().paths_verified, 1u) << "verified, but not nominated";
}

TEST_F(TransportTest, IceControlledPeerGets487AndNoSelection) {
  CheckOptions o;
  o.controlling = false;
  deliver(binding_request(o), browser_addr);
  auto responses = out.take_stun();
  ASSERT_EQ(responses.size(), 1u);
  auto msg = stun::Message::parse(responses[0].data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), stun::MessageClass::kErrorResponse);
  ASSERT_TRUE(msg->error_code());
  EXPECT_EQ(msg->error_code()->code, 487);
  EXPECT_TRUE(out.selected.empty());
}

struct BadCheck {
  const char* name;
  std::function<Bytes()> make;
};

class UnauthenticatedStun : public TransportTest, public testing::WithParamInterface<BadCheck> {};

TEST_P(UnauthenticatedStun, GetsNoResponseAndIsCounted) {
  Bytes d = GetParam().make();
  EXPECT_EQ(deliver(d, browser_addr), WebRtcTransport::Received::kNothing);
  EXPECT_TRUE(out.sent.empty()) << "no reflection of unauthenticated requests";
  EXPECT_TRUE(out.selected.empty());
  EXPECT_EQ(server->counters().stun_unauthenticated, 1u);
  EXPECT_EQ(server->state(), TransportState::kNew);
}

CheckOptions with(std::function<void(CheckOptions&)> f) {
  CheckOptions o;
  f(o);
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Checks, UnauthenticatedStun,
    testing::Values(
        BadCheck{"WrongPassword", [] { return binding_request(with([](auto& o) { o.password = "not-the-password"; })); }},
        BadCheck{"ClientUfragAsPassword", [] { return binding_request(with([](auto& o) { o.password = kClientUfrag; })); }},
        BadCheck{"NoMessageIntegrity", [] { return binding_request(with([](auto& o) { o.password = std::nullopt; })); }},
        BadCheck{"WrongServerUfrag", [] { return binding_request(with([](auto& o) { o.username = "nope:cliU"; })); }},
        BadCheck{"WrongClientUfrag", [] { return binding_request(with([](auto& o) { o.username = "srvU:other"; })); }},
        BadCheck{"UsernameReversed", [] { return binding_request(with([](auto& o) { o.username = "cliU:srvU"; })); }},
        BadCheck{"NoColon", [] { return binding_request(with([](auto& o) { o.username = "srvU"; })); }},
        BadCheck{"CorruptFingerprint",
                 [] {
                   Bytes b = binding_request();
                   b.back() ^= 0xff;
                   return b;
                 }},
        BadCheck{"CorruptIntegrity",
                 [] {
                   Bytes b = binding_request(with([](auto& o) { o.fingerprint = false; }));
                   b.back() ^= 0x01;  // last byte of the HMAC
                   return b;
                 }},
        BadCheck{"Truncated",
                 [] {
                   Bytes b = binding_request();
                   b.resize(b.size() - 3);
                   return b;
                 }},
        BadCheck{"HeaderOnlyGarbage", [] { return Bytes{0x00, 0x01, 0x00, 0x00}; }},
        BadCheck{"BindingResponseNotRequest",
                 [] {
                   return stun::MessageBuilder::binding_success(stun::random_transaction_id())
                       .finish(std::string_view(kServerPwd));
                 }}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- DTLS ---------------------------------------------------------------------------------

TEST_F(TransportTest, DtlsBeforeNominationIsDropped) {
  browser_dtls->start(now);
  for (auto& d : browser_dtls->take_outgoing()) deliver(d, browser_addr);
  EXPECT_TRUE(out.sent.empty());
  EXPECT_EQ(server->state(), TransportState::kNew);
  EXPECT_GE(server->counters().malformed, 1u);
}

TEST_F(TransportTest, DtlsHandshakeCompletesAndConnects) {
  connect();
  EXPECT_TRUE(out.sent.empty());
  EXPECT_EQ(server->failure_reason(), "");
}

TEST_F(TransportTest, DtlsFromAnotherAddressIsIgnored) {
  nominate();
  browser_dtls->start(now);
  for (auto& d : browser_dtls->take_outgoing()) deliver(d, other_addr);
  EXPECT_TRUE(out.take_dtls().empty());
  EXPECT_EQ(server->state(), TransportState::kConnecting);
}

// A client that nominated two of our candidates at once (aggressive nomination: our edge
// relays and bench viewers) uses the pair whose success it got first; here the other
// nomination reached us last. Its handshake on the first path moves us there (ice
// rule 4); once connected, packets from the other path are dropped again.
TEST_F(TransportTest, HandshakeOnAnotherNominatedPathMovesThere) {
  check_from(browser_addr);
  check_from(other_addr);  // processed last: selected
  ASSERT_EQ(out.take_stun().size(), 2u);
  ASSERT_EQ(out.selected.back(), other_addr);
  browser_dtls->start(now);
  pump_dtls();  // from browser_addr; expects every answer to go there
  ASSERT_EQ(server->state(), TransportState::kConnected) << server->failure_reason();
  EXPECT_EQ(out.selected.back(), browser_addr);
  auto keys = browser_dtls->srtp_keys();
  ASSERT_TRUE(keys);
  browser_out = srtp::SrtpSession::create(keys->profile, keys->local_key, keys->local_salt);
  Bytes plain = make_rtp(1, 77, "on the path in use");
  Bytes wire = browser_protect_rtp(plain);
  Bytes copy = wire;
  EXPECT_EQ(deliver(copy, other_addr), WebRtcTransport::Received::kNothing) << "connected: no more following";
  EXPECT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtp);
}

TEST_F(TransportTest, ServerAsDtlsClientStartsHandshakeOnNomination) {
  make_server(seconds(30), dtls::Role::kClient);
  browser_dtls->start(now);
  nominate();
  auto hello = out.take_dtls();
  ASSERT_FALSE(hello.empty()) << "ClientHello goes out as soon as ICE has a path";
  for (auto& s : hello) browser_dtls->handle_datagram(s.data, now);
  pump_dtls();
  EXPECT_EQ(browser_dtls->state(), dtls::State::kConnected) << browser_dtls->failure_reason();
  EXPECT_EQ(server->state(), TransportState::kConnected) << server->failure_reason();
}

TEST_F(TransportTest, WrongClientFingerprintFailsTheTransport) {
  TransportConfig c;
  c.local_ufrag = kServerUfrag;
  c.local_pwd = kServerPwd;
  c.remote_ufrag = kClientUfrag;
  c.remote_pwd = kClientPwd;
  c.remote_fingerprint = sha256_of(server_cert());  // not the browser's certificate
  c.certificate = server_cert();
  server = std::make_unique<WebRtcTransport>(std::move(c), out);
  nominate();
  browser_dtls->start(now);
  pump_dtls();
  EXPECT_EQ(server->state(), TransportState::kFailed);
  EXPECT_NE(server->failure_reason().find("dtls"), std::string::npos) << server->failure_reason();
}

TEST_F(TransportTest, CloseNotifyFromBrowserClosesTransport) {
  connect();
  browser_dtls->close(now);
  for (auto& d : browser_dtls->take_outgoing()) deliver(d, browser_addr);
  EXPECT_EQ(server->state(), TransportState::kClosed);
  Bytes rtp = make_rtp(1, 0xabcdef01, "late");
  size_t n = 0;
  rtp.resize(rtp.size() + kSrtpMaxTrailer);
  EXPECT_FALSE(server->protect_rtp(rtp.data(), rtp.size() - kSrtpMaxTrailer, rtp.size(), &n));
}

TEST_F(TransportTest, LocalCloseSendsCloseNotifyToBrowser) {
  connect();
  server->close(now);
  EXPECT_EQ(server->state(), TransportState::kClosed);
  auto sent = out.take_dtls();
  ASSERT_FALSE(sent.empty());
  for (auto& s : sent) browser_dtls->handle_datagram(s.data, now);
  EXPECT_TRUE(browser_dtls->peer_closed());
}

// ---- SRTP ---------------------------------------------------------------------------------

TEST_F(TransportTest, MediaBeforeDtlsIsCountedNotReady) {
  nominate();
  Bytes rtp = make_rtp(1, 1234, "early");
  EXPECT_EQ(deliver(rtp, browser_addr), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(server->counters().not_ready, 1u);
  size_t n = 0;
  Bytes buf = make_rtp(1, 1, "x");
  buf.resize(buf.size() + kSrtpMaxTrailer);
  EXPECT_FALSE(server->protect_rtp(buf.data(), buf.size() - kSrtpMaxTrailer, buf.size(), &n));
}

TEST_F(TransportTest, BrowserRtpArrivesDecrypted) {
  connect();
  for (uint16_t seq = 100; seq < 110; ++seq) {
    Bytes plain = make_rtp(seq, 0x11223344, "payload-" + std::to_string(seq));
    Bytes wire = browser_protect_rtp(plain);
    ASSERT_NE(wire, plain);
    ASSERT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtp) << seq;
    EXPECT_EQ(wire, plain);
  }
  EXPECT_EQ(server->counters().srtp_auth_failed, 0u);
}

TEST_F(TransportTest, BrowserRtcpArrivesDecrypted) {
  connect();
  Bytes plain = make_rtcp_rr(0x55667788);
  Bytes wire = browser_protect_rtcp(plain);
  ASSERT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtcp);
  EXPECT_EQ(wire, plain);
}

TEST_F(TransportTest, ReplayedAndTamperedRtpIsCountedAuthFailure) {
  connect();
  Bytes wire = browser_protect_rtp(make_rtp(7, 42, "once"));
  Bytes replay = wire;
  Bytes tampered = browser_protect_rtp(make_rtp(8, 42, "twice"));
  tampered[14] ^= 0x40;
  ASSERT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtp);
  EXPECT_EQ(deliver(replay, browser_addr), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(deliver(tampered, browser_addr), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(server->counters().srtp_auth_failed, 2u);
}

TEST_F(TransportTest, ServerRtpIsDecryptedByBrowser) {
  connect();
  Bytes plain = make_rtp(500, 0xdeadbeef, "to-the-viewer");
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t n = 0;
  ASSERT_TRUE(server->protect_rtp(buf.data(), plain.size(), buf.size(), &n));
  EXPECT_GT(n, plain.size());
  size_t plain_len = 0;
  ASSERT_EQ(browser_in->unprotect_rtp(buf.data(), n, &plain_len), srtp::Status::kOk);
  buf.resize(plain_len);
  EXPECT_EQ(buf, plain);
}

TEST_F(TransportTest, ServerRtcpIsDecryptedByBrowser) {
  connect();
  Bytes plain = make_rtcp_rr(0xcafef00d);
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t n = 0;
  ASSERT_TRUE(server->protect_rtcp(buf.data(), plain.size(), buf.size(), &n));
  size_t plain_len = 0;
  ASSERT_EQ(browser_in->unprotect_rtcp(buf.data(), n, &plain_len), srtp::Status::kOk);
  buf.resize(plain_len);
  EXPECT_EQ(buf, plain);
}

TEST_F(TransportTest, ProtectWithoutRoomForTagFails) {
  connect();
  Bytes buf = make_rtp(1, 9, "tight");
  size_t n = 0;
  EXPECT_FALSE(server->protect_rtp(buf.data(), buf.size(), buf.size(), &n));
}

TEST_F(TransportTest, MediaFromUnselectedAddressIsDropped) {
  connect();
  Bytes plain = make_rtp(1, 77, "spoofed?");
  Bytes wire = browser_protect_rtp(plain);
  Bytes copy = wire;
  auto malformed_before = server->counters().malformed;
  EXPECT_EQ(deliver(copy, other_addr), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(server->counters().malformed, malformed_before + 1);
  EXPECT_EQ(server->counters().srtp_auth_failed, 0u) << "dropped before decryption";
  // The same packet from the selected address is still accepted (not burnt in the replay window).
  EXPECT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtp);
  EXPECT_EQ(wire, plain);
}

TEST_F(TransportTest, RenominationMovesMediaToNewAddress) {
  connect();
  deliver(binding_request(), other_addr);
  EXPECT_EQ(out.selected.size(), 1u) << "media stays until the new path answers our request";
  answer_requests(other_addr);
  ASSERT_EQ(out.selected.size(), 2u);
  EXPECT_EQ(out.selected[1], other_addr);
  Bytes plain = make_rtp(3, 77, "moved");
  Bytes wire = browser_protect_rtp(plain);
  Bytes copy = wire;
  EXPECT_EQ(deliver(copy, browser_addr), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(deliver(wire, other_addr), WebRtcTransport::Received::kRtp);
}

// One wildcard socket advertised as several addresses: every STUN answer leaves from the address
// its check was sent to, DTLS (and so media) from the nominated pair's (RFC 8445 §7.2.5.2.1).
TEST_F(TransportTest, AnswersFromTheCheckedAddressAndSendsFromTheNominatedOne) {
  make_server(seconds(30), dtls::Role::kClient);
  const SocketAddress lan = addr("192.0.2.1:40000"), loopback = addr("127.0.0.1:40000");
  CheckOptions plain;
  plain.use_candidate = false;
  deliver(binding_request(plain), browser_addr, loopback);
  auto answers = out.take_stun();
  ASSERT_EQ(answers.size(), 2u) << "answer and verification request";
  for (auto& a : answers) EXPECT_EQ(a.from, loopback);
  EXPECT_FALSE(server->local_address().valid()) << "nothing nominated yet";

  deliver(binding_request(), browser_addr, lan);
  EXPECT_TRUE(out.take_dtls().empty()) << "no ClientHello before the path answers our request";
  ASSERT_EQ(out.take_responses().size(), 1u);
  auto requests = out.take_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].from, lan) << "our request leaves from the candidate checked";
  deliver(browser_answer(requests[0].data, lan), browser_addr, lan);
  EXPECT_EQ(server->local_address(), lan);
  auto hello = out.take_dtls();
  ASSERT_FALSE(hello.empty()) << "ClientHello goes out as soon as ICE has a verified path";
  for (auto& d : hello) EXPECT_EQ(d.from, lan);

  // A check on the other pair is still answered from its own address; the path stays.
  deliver(binding_request(plain), browser_addr, loopback);
  answers = out.take_stun();
  ASSERT_EQ(answers.size(), 2u);
  for (auto& a : answers) EXPECT_EQ(a.from, loopback);
  EXPECT_EQ(server->local_address(), lan);
}

TEST_F(TransportTest, SocketWithOneAddressLeavesTheSourceToTheSocket) {
  connect();
  EXPECT_FALSE(server->local_address().valid());
  deliver(binding_request(), browser_addr);
  auto answers = out.take_stun();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].from.valid());
  server->close(now);
  auto close_notify = out.take_dtls();
  ASSERT_FALSE(close_notify.empty());
  for (auto& d : close_notify) EXPECT_FALSE(d.from.valid());
}

// Random bytes in every demux class must neither crash nor produce media.
TEST_F(TransportTest, GarbageDatagramsNeverYieldMedia) {
  connect();
  uint32_t x = 12345;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 2000; ++i) {
    Bytes d(next() % 300);
    for (auto& b : d) b = uint8_t(next() >> 24);
    auto r = deliver(d, browser_addr);
    EXPECT_EQ(r, WebRtcTransport::Received::kNothing);
  }
  size_t empty_len = 0;
  uint8_t dummy[1] = {0};
  EXPECT_EQ(server->handle_datagram(dummy, &empty_len, browser_addr, now), WebRtcTransport::Received::kNothing);
  EXPECT_EQ(server->state(), TransportState::kConnected);
}

// ---- ICE restart (RFC 8445 §9) -------------------------------------------------------------

TEST_F(TransportTest, IceRestartSwitchesCredentialsAndKeepsMedia) {
  connect();
  server->restart_ice("newU", "new-server-password-0123", kClientUfrag2, kClientPwd2);
  EXPECT_EQ(server->local_ufrag(), "newU");

  // Until the browser uses the new credentials, its consent checks of the previous
  // generation are still answered (RFC 8445 §9).
  deliver(binding_request(), browser_addr);
  EXPECT_EQ(out.take_stun().size(), 1u);
  EXPECT_EQ(server->previous_local_ufrag(), kServerUfrag);

  // DTLS/SRTP are untouched: media keeps flowing on the selected address meanwhile.
  Bytes plain = make_rtp(9, 1, "during-restart");
  Bytes wire = browser_protect_rtp(plain);
  EXPECT_EQ(deliver(wire, browser_addr), WebRtcTransport::Received::kRtp);
  EXPECT_EQ(server->state(), TransportState::kConnected);

  // The browser nominates a new path with the new credentials.
  CheckOptions fresh;
  fresh.username = "newU:cli2";
  fresh.password = "new-server-password-0123";
  deliver(binding_request(fresh), other_addr);
  auto requests = out.take_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(stun::verify_message_integrity(requests[0].data, kClientPwd2)) << "the browser's new password";
  deliver(browser_answer(requests[0].data, {}), other_addr);
  auto responses = out.take_stun();
  ASSERT_EQ(responses.size(), 1u);
  auto msg = stun::Message::parse(responses[0].data);
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->verify_message_integrity("new-server-password-0123"));
  ASSERT_EQ(out.selected.size(), 2u);
  EXPECT_EQ(out.selected[1], other_addr);
  Bytes wire2 = browser_protect_rtp(make_rtp(10, 1, "after-restart"));
  EXPECT_EQ(deliver(wire2, other_addr), WebRtcTransport::Received::kRtp);

  // The new generation is in use: a late check of the old one is still answered within the
  // grace period, and refused after it.
  deliver(binding_request(), browser_addr);
  EXPECT_EQ(out.take_stun().size(), 1u) << "a late previous-generation check within the grace";
  now += TransportConfig{}.previous_ice_generation_grace;
  server->handle_tick(now);
  EXPECT_TRUE(server->previous_local_ufrag().empty());
  deliver(binding_request(), browser_addr);
  EXPECT_TRUE(out.take_stun().empty());
  EXPECT_EQ(server->counters().stun_unauthenticated, 1u);
}

TEST_F(TransportTest, IceRestartKeepsConsentTimerUntilNewChecks) {
  connect();
  const Timestamp t0 = now;
  server->restart_ice("newU", "new-server-password-0123", kClientUfrag2, kClientPwd2);
  now = t0 + milliseconds(1500);
  CheckOptions fresh;
  fresh.username = "newU:cli2";
  fresh.password = "new-server-password-0123";
  fresh.use_candidate = false;
  deliver(binding_request(fresh), browser_addr);  // consent refresh with the new credentials
  server->handle_tick(t0 + milliseconds(2500));
  EXPECT_EQ(server->state(), TransportState::kConnected);
}

// ---- regressions of bugs these tests found --------------------------------------------------

// RFC 7983 §7 reserves first bytes 64..79 for TURN channels; 80..127 and 192..255 are
// unassigned. Only 128..191 goes to SRTP, so garbage is counted as malformed, not as an
// SRTP authentication failure.
TEST_F(TransportTest, NonRtpFirstByteCountsAsMalformedNotSrtpFailure) {
  connect();
  for (uint8_t first : {uint8_t(0x40), uint8_t(0x50), uint8_t(0x7f), uint8_t(0xc0), uint8_t(0xff)}) {
    Bytes d(40, 0x00);
    d[0] = first;
    deliver(d, browser_addr);
  }
  EXPECT_EQ(server->counters().srtp_auth_failed, 0u);
  EXPECT_EQ(server->counters().malformed, 5u);
}

// The consent failure reason names the configured timeout (it is logged and surfaced).
TEST_F(TransportTest, ConsentFailureReasonNamesConfiguredTimeout) {
  connect();
  server->handle_tick(now + seconds(2));
  ASSERT_EQ(server->state(), TransportState::kClosed);
  EXPECT_EQ(server->failure_reason().find("30 s"), std::string::npos) << server->failure_reason();
  EXPECT_NE(server->failure_reason().find("2"), std::string::npos) << server->failure_reason();
}

// ---- consent (RFC 7675) -------------------------------------------------------------------

TEST_F(TransportTest, ConsentExpiresAfterConfiguredTimeout) {
  connect();  // last authenticated check at `now`; consent_timeout is 2 s
  const Timestamp t0 = now;
  server->handle_tick(t0 + milliseconds(1999));
  EXPECT_EQ(server->state(), TransportState::kConnected);
  server->handle_tick(t0 + seconds(2));
  EXPECT_EQ(server->state(), TransportState::kClosed);
  EXPECT_NE(server->failure_reason().find("consent"), std::string::npos) << server->failure_reason();
}

TEST_F(TransportTest, ConsentCheckFromSelectedAddressRefreshes) {
  connect();
  const Timestamp t0 = now;
  now = t0 + milliseconds(1500);
  CheckOptions keepalive;
  keepalive.use_candidate = false;
  deliver(binding_request(keepalive), browser_addr);
  server->handle_tick(t0 + milliseconds(2500));
  EXPECT_EQ(server->state(), TransportState::kConnected);
  server->handle_tick(t0 + milliseconds(3500));
  EXPECT_EQ(server->state(), TransportState::kClosed);
}

TEST_F(TransportTest, UnauthenticatedChecksDoNotRefreshConsent) {
  connect();
  const Timestamp t0 = now;
  now = t0 + milliseconds(1500);
  CheckOptions bad;
  bad.use_candidate = false;
  bad.password = "wrong";
  deliver(binding_request(bad), browser_addr);
  server->handle_tick(t0 + seconds(2));
  EXPECT_EQ(server->state(), TransportState::kClosed);
}

TEST_F(TransportTest, NoConsentExpiryBeforeNomination) {
  server->handle_tick(now + seconds(60));
  EXPECT_EQ(server->state(), TransportState::kNew);
}

}  // namespace
}  // namespace strata::transport
