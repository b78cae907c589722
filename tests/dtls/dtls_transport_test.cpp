#include "dtls/dtls_transport.hpp"
#include "dtls/ssl_context.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

namespace strata::dtls {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<const Certificate> client_cert() {
  static auto cert = Certificate::generate();
  return cert;
}
std::shared_ptr<const Certificate> server_cert() {
  static auto cert = Certificate::generate();
  return cert;
}

Bytes sha256_of(const std::shared_ptr<const Certificate>& cert) { return *digest_of(cert->x509(), "sha-256"); }

TransportOptions fast_timers(TransportOptions o = {}) {
  o.initial_retransmit_timeout = milliseconds(20);
  o.max_retransmit_timeout = milliseconds(80);
  return o;
}

// A client and a server, each with its own certificate, wired through an in-memory
// datagram exchange that can drop whole flights (one take_outgoing() batch = one flight).
struct Link {
  std::unique_ptr<DtlsTransport> client, server;
  Timestamp now = FakeClock().now();
  size_t largest_datagram = 0;
  int batches = 0;
  std::set<int> drop_batches;  // 1-based batch numbers to lose

  explicit Link(TransportOptions client_options = {}, TransportOptions server_options = {},
                Bytes client_expects = sha256_of(server_cert()), Bytes server_expects = sha256_of(client_cert())) {
    client = std::make_unique<DtlsTransport>(client_cert(), Role::kClient, "sha-256", std::move(client_expects),
                                             std::move(client_options));
    server = std::make_unique<DtlsTransport>(server_cert(), Role::kServer, "sha-256", std::move(server_expects),
                                             std::move(server_options));
  }

  // Moves one side's pending datagrams to the other; false when nothing was pending.
  bool deliver(DtlsTransport& from, DtlsTransport& to) {
    std::vector<Bytes> out = from.take_outgoing();
    if (out.empty()) return false;
    bool drop = drop_batches.count(++batches) > 0;
    for (const Bytes& d : out) {
      largest_datagram = std::max(largest_datagram, d.size());
      if (!drop) to.handle_datagram(d, now);
    }
    return true;
  }

  void pump() {
    for (int i = 0; i < 50; ++i) {
      bool moved = deliver(*client, *server);
      moved |= deliver(*server, *client);
      if (!moved) return;
    }
  }

  bool done() const {
    auto settled = [](State s) { return s != State::kNew && s != State::kConnecting; };
    return settled(client->state()) && settled(server->state());
  }

  // Runs the handshake, firing retransmission timers (with real sleeps: OpenSSL's DTLS
  // timer reads its own clock) when traffic stops before both sides settle.
  void run() {
    client->start(now);
    server->start(now);
    for (int round = 0; round < 20 && !done(); ++round) {
      pump();
      if (done()) break;
      Timestamp next = std::min(client->next_timeout(), server->next_timeout());
      if (next == kNever) break;
      if (next > now) std::this_thread::sleep_for(next - now + milliseconds(2));
      now = std::max(now, next);
      client->handle_timeout(now);
      server->handle_timeout(now);
    }
    pump();
  }
};

void expect_mirrored(const SrtpKeys& client, const SrtpKeys& server, SrtpProfile profile) {
  EXPECT_EQ(client.profile, profile);
  EXPECT_EQ(server.profile, profile);
  EXPECT_EQ(client.local_key, server.remote_key);
  EXPECT_EQ(client.local_salt, server.remote_salt);
  EXPECT_EQ(client.remote_key, server.local_key);
  EXPECT_EQ(client.remote_salt, server.local_salt);
  EXPECT_NE(client.local_key, client.remote_key);
  EXPECT_EQ(client.local_key.size(), srtp_key_length(profile));
  EXPECT_EQ(client.local_salt.size(), srtp_salt_length(profile));
  EXPECT_EQ(client.remote_salt.size(), srtp_salt_length(profile));
}

class HandshakeMtu : public testing::TestWithParam<size_t> {};

TEST_P(HandshakeMtu, ConnectsWithMirroredGcmKeysAndDatagramsWithinMtu) {
  TransportOptions options;
  options.mtu = GetParam();
  Link link(options, options);
  link.run();
  ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  ASSERT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
  EXPECT_LE(link.largest_datagram, GetParam());
  ASSERT_TRUE(link.client->srtp_keys());
  ASSERT_TRUE(link.server->srtp_keys());
  expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(link.client->next_timeout(), kNever);
  EXPECT_EQ(link.server->next_timeout(), kNever);
  EXPECT_TRUE(link.client->failure_reason().empty());
  EXPECT_EQ(link.client->counters().retransmit_timeouts, 0u);
}

INSTANTIATE_TEST_SUITE_P(All, HandshakeMtu, testing::Values(1200, 576, 300));

struct ProfileCase {
  const char* name;
  const char* client_profiles;
  const char* server_profiles;
  SrtpProfile expected;
};

class ProfileNegotiation : public testing::TestWithParam<ProfileCase> {};

TEST_P(ProfileNegotiation, PicksTheCommonProfile) {
  TransportOptions client_options, server_options;
  client_options.srtp_profiles = GetParam().client_profiles;
  server_options.srtp_profiles = GetParam().server_profiles;
  Link link(client_options, server_options);
  link.run();
  ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  ASSERT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
  expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    All, ProfileNegotiation,
    testing::Values(
        ProfileCase{"default", kDefaultSrtpProfiles, kDefaultSrtpProfiles, SrtpProfile::kAeadAes128Gcm},
        ProfileCase{"client_cm_only", "SRTP_AES128_CM_SHA1_80", kDefaultSrtpProfiles, SrtpProfile::kAes128CmHmacSha1_80},
        ProfileCase{"server_cm_only", kDefaultSrtpProfiles, "SRTP_AES128_CM_SHA1_80", SrtpProfile::kAes128CmHmacSha1_80},
        ProfileCase{"client_prefers_cm", "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", "SRTP_AEAD_AES_128_GCM",
                    SrtpProfile::kAeadAes128Gcm}),
    [](const testing::TestParamInfo<ProfileCase>& info) { return std::string(info.param.name); });

TEST(DtlsTransport, NoCommonSrtpProfileFails) {
  TransportOptions client_options, server_options;
  client_options.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
  server_options.srtp_profiles = "SRTP_AEAD_AES_128_GCM";
  Link link(client_options, server_options);
  link.run();
  EXPECT_EQ(link.client->state(), State::kFailed);
  EXPECT_FALSE(link.client->srtp_keys());
  EXPECT_NE(link.server->state(), State::kConnected);
}

Bytes corrupted(Bytes fp) {
  fp[5] ^= 0x01;
  return fp;
}

TEST(DtlsTransport, ClientRejectsServerWithWrongFingerprint) {
  Link link({}, {}, corrupted(sha256_of(server_cert())));
  link.run();
  EXPECT_EQ(link.client->state(), State::kFailed);
  EXPECT_NE(link.client->failure_reason().find("fingerprint"), std::string::npos) << link.client->failure_reason();
  EXPECT_FALSE(link.client->srtp_keys());
  // The fatal bad_certificate alert reaches the server.
  EXPECT_EQ(link.server->state(), State::kFailed);
  EXPECT_FALSE(link.server->srtp_keys());
}

TEST(DtlsTransport, ServerRejectsClientWithWrongFingerprint) {
  Link link({}, {}, sha256_of(server_cert()), corrupted(sha256_of(client_cert())));
  link.run();
  EXPECT_EQ(link.server->state(), State::kFailed);
  EXPECT_NE(link.server->failure_reason().find("fingerprint"), std::string::npos) << link.server->failure_reason();
  EXPECT_FALSE(link.server->srtp_keys());
  EXPECT_EQ(link.client->state(), State::kFailed);
}

class FingerprintAlgorithms : public testing::TestWithParam<const char*> {};

TEST_P(FingerprintAlgorithms, HandshakeVerifiesWithEachHash) {
  DtlsTransport client(client_cert(), Role::kClient, GetParam(), *digest_of(server_cert()->x509(), GetParam()));
  DtlsTransport server(server_cert(), Role::kServer, GetParam(), *digest_of(client_cert()->x509(), GetParam()));
  Timestamp now{};
  client.start(now);
  for (int i = 0; i < 10; ++i) {
    for (const Bytes& d : client.take_outgoing()) server.handle_datagram(d, now);
    for (const Bytes& d : server.take_outgoing()) client.handle_datagram(d, now);
  }
  EXPECT_EQ(client.state(), State::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), State::kConnected) << server.failure_reason();
}

INSTANTIATE_TEST_SUITE_P(All, FingerprintAlgorithms, testing::Values("sha-1", "sha-256", "SHA-384", "sha-512"));

struct BadArgumentsCase {
  const char* name;
  bool null_cert;
  const char* algorithm;
  size_t fingerprint_size;
};

class BadArguments : public testing::TestWithParam<BadArgumentsCase> {};

TEST_P(BadArguments, FailImmediatelyWithoutThrowing) {
  const BadArgumentsCase& c = GetParam();
  DtlsTransport t(c.null_cert ? nullptr : client_cert(), Role::kClient, c.algorithm, Bytes(c.fingerprint_size, 1));
  EXPECT_EQ(t.state(), State::kFailed);
  EXPECT_FALSE(t.failure_reason().empty());
  Timestamp now{};
  t.start(now);
  t.handle_datagram(Bytes(20, 22), now);
  t.handle_timeout(now);
  t.close(now);
  EXPECT_FALSE(t.send_application_data(Bytes(4, 1), now));
  EXPECT_TRUE(t.take_outgoing().empty());
  EXPECT_EQ(t.state(), State::kFailed);
  EXPECT_EQ(t.next_timeout(), kNever);
}

INSTANTIATE_TEST_SUITE_P(All, BadArguments,
                         testing::Values(BadArgumentsCase{"null_cert", true, "sha-256", 32},
                                         BadArgumentsCase{"unknown_algorithm", false, "md5", 16},
                                         BadArgumentsCase{"empty_fingerprint", false, "sha-256", 0},
                                         BadArgumentsCase{"wrong_length", false, "sha-256", 20}),
                         [](const testing::TestParamInfo<BadArgumentsCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(DtlsTransport, StateBeforeStart) {
  Link link;
  EXPECT_EQ(link.client->state(), State::kNew);
  EXPECT_EQ(link.client->next_timeout(), kNever);
  EXPECT_TRUE(link.client->take_outgoing().empty());
  link.server->start(link.now);
  EXPECT_EQ(link.server->state(), State::kConnecting);
  EXPECT_TRUE(link.server->take_outgoing().empty());  // the server only waits
  EXPECT_EQ(link.server->next_timeout(), kNever);
  link.client->start(link.now);
  EXPECT_EQ(link.client->state(), State::kConnecting);
  EXPECT_FALSE(link.client->take_outgoing().empty());  // ClientHello
  EXPECT_GT(link.client->next_timeout(), link.now);
  EXPECT_LE(link.client->next_timeout(), link.now + std::chrono::seconds(1));
}

TEST(DtlsTransport, ServerStartsImplicitlyOnFirstDatagram) {
  Link link;
  link.client->start(link.now);
  link.pump();
  EXPECT_EQ(link.client->state(), State::kConnected);
  EXPECT_EQ(link.server->state(), State::kConnected);
}

TEST(DtlsTransport, CloseNotifyReachesPeer) {
  Link link;
  link.run();
  ASSERT_EQ(link.server->state(), State::kConnected);
  link.client->close(link.now);
  EXPECT_EQ(link.client->state(), State::kClosed);
  EXPECT_FALSE(link.client->peer_closed());
  link.pump();
  EXPECT_TRUE(link.server->peer_closed());
  EXPECT_EQ(link.server->state(), State::kClosed);
  EXPECT_TRUE(link.server->srtp_keys());  // keys stay readable after close
  EXPECT_FALSE(link.server->send_application_data(Bytes(3, 1), link.now));
}

TEST(DtlsTransport, CloseDuringHandshakeStopsTimers) {
  Link link;
  link.client->start(link.now);
  link.client->close(link.now);
  EXPECT_EQ(link.client->state(), State::kClosed);
  EXPECT_EQ(link.client->next_timeout(), kNever);
}

TEST(DtlsTransport, ApplicationDataBothWays) {
  Link link;
  link.run();
  ASSERT_EQ(link.client->state(), State::kConnected);
  size_t max = link.client->max_application_data_size();
  EXPECT_GT(max, 1000u);
  EXPECT_LT(max, 1200u);
  Bytes ping = {1, 2, 3, 4, 5};
  Bytes big(max, 0x5a);
  EXPECT_TRUE(link.client->send_application_data(ping, link.now));
  EXPECT_TRUE(link.client->send_application_data(big, link.now));
  EXPECT_TRUE(link.server->send_application_data(big, link.now));
  EXPECT_FALSE(link.server->send_application_data({}, link.now));
  EXPECT_FALSE(link.server->send_application_data(Bytes(20000, 1), link.now));
  link.pump();
  EXPECT_LE(link.largest_datagram, 1200u);
  EXPECT_EQ(link.server->take_application_data(), (std::vector<Bytes>{ping, big}));
  EXPECT_EQ(link.client->take_application_data(), (std::vector<Bytes>{big}));
  EXPECT_TRUE(link.client->take_application_data().empty());
}

// Batches: 1 ClientHello, 2 server flight, 3 client key exchange + Finished, 4 server Finished.
class LostFlight : public testing::TestWithParam<int> {};

TEST_P(LostFlight, RetransmissionCompletesHandshake) {
  Link link(fast_timers(), fast_timers());
  link.drop_batches = {GetParam()};
  auto started = std::chrono::steady_clock::now();
  link.run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  ASSERT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
  EXPECT_GE(link.client->counters().retransmit_timeouts + link.server->counters().retransmit_timeouts, 1u);
  expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), SrtpProfile::kAeadAes128Gcm);
}

INSTANTIATE_TEST_SUITE_P(All, LostFlight, testing::Values(1, 2, 3, 4));

TEST(DtlsTransport, EarlyHandleTimeoutIsHarmless) {
  Link link(fast_timers());
  link.client->start(link.now);
  link.client->take_outgoing();
  link.client->handle_timeout(link.now);  // before next_timeout: ignored
  link.client->handle_timeout(link.client->next_timeout());  // OpenSSL's clock: not yet
  EXPECT_EQ(link.client->state(), State::kConnecting);
  EXPECT_NE(link.client->next_timeout(), kNever);
}

Bytes random_datagram(std::mt19937& rng, bool dtls_looking) {
  Bytes d(rng() % 200);
  for (auto& b : d) b = uint8_t(rng());
  if (dtls_looking && !d.empty()) d[0] = uint8_t(20 + rng() % 4);
  if (dtls_looking && d.size() > 2) d[1] = 0xfe, d[2] = 0xfd;
  return d;
}

TEST(DtlsTransport, NonDtlsGarbageIsIgnoredAndHandshakeStillCompletes) {
  Link link;
  std::mt19937 rng(1);
  for (int i = 0; i < 200; ++i) {
    Bytes d = random_datagram(rng, false);
    if (!d.empty()) d[0] = uint8_t(64 + rng() % 192);
    link.server->handle_datagram(d, link.now);
    link.client->handle_datagram(d, link.now);
  }
  EXPECT_EQ(link.server->counters().datagrams_in, 0u);
  EXPECT_EQ(link.server->counters().datagrams_ignored, 200u);
  link.run();
  EXPECT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  EXPECT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
}

TEST(DtlsTransport, TruncatedClientHellosDoNotBreakTheServer) {
  Link link;
  link.client->start(link.now);
  std::vector<Bytes> hello = link.client->take_outgoing();
  ASSERT_EQ(hello.size(), 1u);
  for (size_t n = 0; n < hello[0].size(); ++n) {
    link.server->handle_datagram(ByteSpan(hello[0].data(), n), link.now);
    ASSERT_NE(link.server->state(), State::kConnected);
  }
  link.server->take_outgoing();
  link.server->handle_datagram(hello[0], link.now);
  link.pump();
  EXPECT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  EXPECT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
}

// Settled (connected with keys, failed with a reason) or progressing (handshaking with a
// retransmission timer armed, so it either completes or times out): never stuck, never
// closed or back to new by garbage.
void expect_settled_or_progressing(const DtlsTransport& t, const char* side) {
  SCOPED_TRACE(side);
  switch (t.state()) {
    case State::kConnected:
      EXPECT_TRUE(t.srtp_keys());
      break;
    case State::kFailed:
      EXPECT_FALSE(t.failure_reason().empty());
      EXPECT_EQ(t.next_timeout(), kNever);
      break;
    case State::kConnecting:
      EXPECT_NE(t.next_timeout(), kNever) << "handshaking with no timer: stuck for good";
      break;
    case State::kNew:
    case State::kClosed:
      ADD_FAILURE() << "garbage left the transport " << to_string(t.state());
      break;
  }
}

// Record-layer garbage (DTLS content types and version, random rest) before and during a
// handshake. RFC 6347 §4.1.2.7: invalid records are discarded silently, so whatever comes
// before the real flights, both sides must end connected with matching keys.
TEST(DtlsTransport, DtlsLookingGarbageNeverCrashes) {
  std::mt19937 rng(2);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(round);
    Link link;
    link.client->start(link.now);
    for (int i = 0; i < 30; ++i) link.server->handle_datagram(random_datagram(rng, true), link.now);
    for (int i = 0; i < 30; ++i) link.client->handle_datagram(random_datagram(rng, true), link.now);
    EXPECT_EQ(link.server->counters().datagrams_in + link.server->counters().datagrams_ignored, 30u);
    link.pump();
    expect_settled_or_progressing(*link.client, "client after garbage");
    expect_settled_or_progressing(*link.server, "server after garbage");
    link.run();  // the real flights, with retransmissions when garbage cost one
    ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
    ASSERT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
    expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), SrtpProfile::kAeadAes128Gcm);
  }
  // Nothing shared (context, certificates) was damaged: a clean link still connects.
  Link clean;
  clean.run();
  EXPECT_EQ(clean.client->state(), State::kConnected) << clean.client->failure_reason();
  EXPECT_EQ(clean.server->state(), State::kConnected) << clean.server->failure_reason();
}

TEST(DtlsTransport, GarbageAfterConnectKeepsSessionUp) {
  Link link;
  link.run();
  ASSERT_EQ(link.server->state(), State::kConnected);
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    link.server->handle_datagram(random_datagram(rng, true), link.now);
    link.client->handle_datagram(random_datagram(rng, true), link.now);
  }
  EXPECT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
  EXPECT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  EXPECT_TRUE(link.client->send_application_data(Bytes{9, 9}, link.now));
  link.pump();
  EXPECT_EQ(link.server->take_application_data(), (std::vector<Bytes>{Bytes{9, 9}}));
}

// Retirement (TransportOptions::retire_after_handshake, dtls/retired_dtls.hpp): once
// connected, a media transport drops its OpenSSL connection; alerts stay authenticated both
// ways against OpenSSL on the other side, and a lost final flight is still answered.
TransportOptions retiring(TransportOptions o = {}) {
  o.retire_after_handshake = true;
  return o;
}

struct RetireCase {
  bool client, server;
};
class Retired : public testing::TestWithParam<RetireCase> {};

TEST_P(Retired, KeysStayAndCloseNotifyIsAuthenticatedBothWays) {
  const auto [retire_client, retire_server] = GetParam();
  for (bool client_closes : {true, false}) {
    Link link(retire_client ? retiring() : TransportOptions{}, retire_server ? retiring() : TransportOptions{});
    link.run();
    ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
    ASSERT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
    EXPECT_EQ(link.client->retired(), retire_client);
    EXPECT_EQ(link.server->retired(), retire_server);
    expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), SrtpProfile::kAeadAes128Gcm);
    DtlsTransport& closer = client_closes ? *link.client : *link.server;
    DtlsTransport& other = client_closes ? *link.server : *link.client;
    closer.close(link.now);
    EXPECT_EQ(closer.state(), State::kClosed);
    link.pump();
    EXPECT_TRUE(other.peer_closed()) << "client closes: " << client_closes;
    EXPECT_EQ(other.state(), State::kClosed) << other.failure_reason();
    EXPECT_TRUE(other.srtp_keys());
  }
}

INSTANTIATE_TEST_SUITE_P(All, Retired,
                         testing::Values(RetireCase{false, true}, RetireCase{true, false}, RetireCase{true, true}));

// Batch 4 is the server's final flight (ChangeCipherSpec, Finished): the server is connected
// and retired when it is lost, and must answer the client's retransmitted flight with it.
TEST(DtlsTransport, ARetiredServerResendsItsLostFinalFlight) {
  Link link(fast_timers(), fast_timers(retiring()));
  link.drop_batches = {4};
  link.run();
  ASSERT_TRUE(link.server->retired());
  ASSERT_EQ(link.client->state(), State::kConnected) << link.client->failure_reason();
  EXPECT_GE(link.client->counters().retransmit_timeouts, 1u);
  expect_mirrored(*link.client->srtp_keys(), *link.server->srtp_keys(), SrtpProfile::kAeadAes128Gcm);
  link.client->close(link.now);  // and the connection still closes cleanly
  link.pump();
  EXPECT_TRUE(link.server->peer_closed());
}

Bytes alert_record(uint16_t epoch, Bytes fragment) {
  Bytes r = {21, 0xFE, 0xFD, uint8_t(epoch >> 8), uint8_t(epoch), 0, 0, 0, 0, 0x10, 0x00,
             uint8_t(fragment.size() >> 8), uint8_t(fragment.size())};
  r.insert(r.end(), fragment.begin(), fragment.end());
  return r;
}

TEST(DtlsTransport, ARetiredTransportIgnoresForgedAndPlaintextAlerts) {
  Link link({}, retiring());
  link.run();
  ASSERT_TRUE(link.server->retired());
  std::mt19937 rng(7);
  Bytes forged(26);
  for (auto& b : forged) b = uint8_t(rng());
  const std::vector<Bytes> attacks = {
      alert_record(1, forged),                  // epoch 1, tag does not verify
      alert_record(0, {1, 0}),                  // a close_notify in the clear
      alert_record(0, {2, 40}),                 // a fatal alert in the clear
      alert_record(1, Bytes(5, 0)),             // too short to hold nonce and tag
      Bytes{21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0x40, 0},  // length past the datagram
      Bytes{23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0},     // application data
  };
  for (const Bytes& a : attacks) link.server->handle_datagram(a, link.now);
  EXPECT_EQ(link.server->state(), State::kConnected) << link.server->failure_reason();
  EXPECT_FALSE(link.server->peer_closed());
  EXPECT_TRUE(link.server->take_outgoing().empty());  // nothing answers them
  EXPECT_FALSE(link.server->send_application_data(Bytes(3, 1), link.now));
  EXPECT_EQ(link.server->max_application_data_size(), 0u);
  link.client->close(link.now);  // the genuine one still works
  link.pump();
  EXPECT_TRUE(link.server->peer_closed());
}

TEST(DtlsTransport, StateNames) {
  EXPECT_STREQ(to_string(State::kNew), "new");
  EXPECT_STREQ(to_string(State::kConnected), "connected");
  EXPECT_STREQ(to_string(State::kFailed), "failed");
}

}  // namespace
}  // namespace strata::dtls
