// The in-memory test "browser" for WebRtcTransport tests (webrtc_transport_test.cpp,
// amplification_test.cpp): it drives the server transport through ICE-lite (RFC 8445 §7.3),
// answers the server's path verification requests as a full agent must (§7.3), and runs
// the DTLS-SRTP handshake (RFC 5764) and SRTP media (RFC 3711 / RFC 7714) without sockets,
// with the real stun::MessageBuilder, dtls::DtlsTransport (its own certificate) and
// srtp::SrtpSession.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "stun/builder.hpp"
#include "stun/message.hpp"
#include "transport/webrtc_transport.hpp"

namespace strata::transport::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kServerUfrag = "srvU";
constexpr const char* kServerPwd = "server-password-0123456789";
constexpr const char* kClientUfrag = "cliU";
constexpr const char* kClientPwd = "client-password-abcdefghij";
// The browser's credentials after an ICE restart.
constexpr const char* kClientUfrag2 = "cli2";
constexpr const char* kClientPwd2 = "client-password-2-abcdefgh";

std::shared_ptr<const dtls::Certificate> server_cert() {
  static auto cert = dtls::Certificate::generate();
  return cert;
}
std::shared_ptr<const dtls::Certificate> client_cert() {
  static auto cert = dtls::Certificate::generate();
  return cert;
}
Bytes sha256_of(const std::shared_ptr<const dtls::Certificate>& c) { return *dtls::digest_of(c->x509(), "sha-256"); }

SocketAddress addr(const char* text) { return *SocketAddress::parse(text); }

// Records what the transport sends and which addresses ICE selected.
struct RecordingOutput : WebRtcTransport::Output {
  struct Sent {
    Bytes data;
    SocketAddress to;
    SocketAddress from;  // empty: the socket's own address
  };
  std::vector<Sent> sent;
  std::vector<SocketAddress> selected, pending, forgotten;
  std::function<void(const Sent&)> on_send;  // sees every datagram as it is sent

  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress& from) override {
    sent.push_back({Bytes(data, data + len), to, from});
    if (on_send) on_send(sent.back());
  }
  void on_address_selected(const SocketAddress& a) override { selected.push_back(a); }
  void on_address_pending(const SocketAddress& a) override { pending.push_back(a); }
  void on_address_forgotten(const SocketAddress& a) override { forgotten.push_back(a); }

  // Removes and returns the sent datagrams whose first byte satisfies `keep`.
  std::vector<Sent> take(const std::function<bool(uint8_t)>& keep) {
    std::vector<Sent> out, rest;
    for (auto& s : sent) (!s.data.empty() && keep(s.data[0]) ? out : rest).push_back(std::move(s));
    sent = std::move(rest);
    return out;
  }
  std::vector<Sent> take_stun() { return take([](uint8_t b) { return b <= 3; }); }
  std::vector<Sent> take_dtls() { return take([](uint8_t b) { return b >= 20 && b <= 63; }); }
  std::vector<Sent> take_srtp() { return take([](uint8_t b) { return b >= 128 && b <= 191; }); }
  // STUN of one class only (our verification requests, or answers to the client's checks).
  std::vector<Sent> take_stun(stun::MessageClass cls) {
    std::vector<Sent> out, rest;
    for (auto& s : sent) {
      auto m = !s.data.empty() && s.data[0] <= 3 ? stun::Message::parse(s.data) : std::nullopt;
      (m && m->message_class() == cls ? out : rest).push_back(std::move(s));
    }
    sent = std::move(rest);
    return out;
  }
  std::vector<Sent> take_requests() { return take_stun(stun::MessageClass::kRequest); }
  std::vector<Sent> take_responses() {
    auto out = take_stun(stun::MessageClass::kSuccessResponse);
    for (auto& e : take_stun(stun::MessageClass::kErrorResponse)) out.push_back(std::move(e));
    return out;
  }
};

// What a full agent answers to the server's verification request (RFC 8445 §7.3.1.3): keyed
// with the browser's password of the ufrag the request names (RFC 8445 §7.2.2).
Bytes browser_answer(const Bytes& request, const SocketAddress& mapped) {
  auto m = stun::Message::parse(request);
  EXPECT_TRUE(m && m->is_binding_request());
  if (!m) return {};
  const std::string user(m->username().value_or(""));
  const bool second = user.rfind(std::string(kClientUfrag2) + ":", 0) == 0;
  return stun::MessageBuilder::binding_success(m->transaction_id())
      .add_xor_mapped_address(mapped)
      .finish(std::string_view(second ? kClientPwd2 : kClientPwd));
}

struct CheckOptions {
  std::string username = std::string(kServerUfrag) + ":" + kClientUfrag;
  std::optional<std::string> password = std::string(kServerPwd);  // nullopt: no MESSAGE-INTEGRITY
  bool use_candidate = true;
  bool controlling = true;  // false: ICE-CONTROLLED (role conflict for a lite server)
  bool fingerprint = true;
};

// The browser's side of a connectivity check (RFC 8445 §7.1.1).
Bytes binding_request(const CheckOptions& o = {}) {
  auto b = stun::MessageBuilder::binding_request(stun::random_transaction_id());
  b.add_username(o.username).add_priority(0x6e001eff);
  if (o.controlling) {
    b.add_ice_controlling(0x1122334455667788ull);
  } else {
    b.add_ice_controlled(0x1122334455667788ull);
  }
  if (o.use_candidate) b.add_use_candidate();
  if (o.password) return b.finish(std::string_view(*o.password), o.fingerprint);
  return b.finish(std::nullopt, o.fingerprint);
}

// RTP header (RFC 3550 §5.1) + payload; callers add room for the SRTP tag.
Bytes make_rtp(uint16_t seq, uint32_t ssrc, std::string_view payload) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x80);
  w.u8(96);
  w.u16(seq);
  w.u32(1000u * seq);
  w.u32(ssrc);
  w.str(payload);
  return p;
}

// RTCP receiver report with no report blocks (RFC 3550 §6.4.2), PT 201.
Bytes make_rtcp_rr(uint32_t ssrc) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x80);
  w.u8(201);
  w.u16(1);
  w.u32(ssrc);
  return p;
}

class TransportTest : public testing::Test {
 protected:
  const SocketAddress browser_addr = addr("192.0.2.10:50000");
  const SocketAddress other_addr = addr("198.51.100.7:40000");
  Timestamp now = FakeClock().now();
  RecordingOutput out;
  std::unique_ptr<WebRtcTransport> server;
  std::unique_ptr<dtls::DtlsTransport> browser_dtls;
  std::unique_ptr<srtp::SrtpSession> browser_out, browser_in;
  SocketAddress delivering_from;  // while deliver() runs
  size_t delivering_size = 0;
  std::vector<SocketAddress> answered;  // where the browser answered our verification requests

  void SetUp() override { make_server(seconds(2), dtls::Role::kServer); }

  void make_server(Duration consent_timeout, dtls::Role server_role) {
    TransportConfig c;
    c.local_ufrag = kServerUfrag;
    c.local_pwd = kServerPwd;
    c.remote_ufrag = kClientUfrag;
    c.remote_pwd = kClientPwd;
    c.dtls_role = server_role;
    c.remote_fingerprint = sha256_of(client_cert());
    c.certificate = server_cert();
    c.consent_timeout = consent_timeout;
    server = std::make_unique<WebRtcTransport>(std::move(c), out);
    auto browser_role = server_role == dtls::Role::kServer ? dtls::Role::kClient : dtls::Role::kServer;
    browser_dtls = std::make_unique<dtls::DtlsTransport>(client_cert(), browser_role, "sha-256",
                                                         sha256_of(server_cert()));
  }

  WebRtcTransport::Received deliver(Bytes& d, const SocketAddress& from, const SocketAddress& local = {}) {
    size_t len = d.size();
    delivering_from = from;  // what the server sends meanwhile answers this datagram
    delivering_size = len;
    d.resize(len + kSrtpMaxTrailer);
    auto r = server->handle_datagram(d.data(), &len, from, now, local);
    d.resize(len);
    delivering_from = SocketAddress{};
    delivering_size = 0;
    return r;
  }
  WebRtcTransport::Received deliver(Bytes&& d, const SocketAddress& from, const SocketAddress& local = {}) {
    return deliver(d, from, local);
  }

  // The browser at `at` answers the server's verification requests sent there (from
  // `local`); how many it answered.
  size_t answer_requests(const SocketAddress& at, const SocketAddress& local = {}) {
    std::vector<RecordingOutput::Sent> requests, keep;
    for (auto& r : out.take_requests()) (r.to == at && r.from == local ? requests : keep).push_back(std::move(r));
    for (auto& k : keep) out.sent.push_back(std::move(k));
    for (auto& r : requests) {
      answered.push_back(at);
      deliver(browser_answer(r.data, local), at, local);
    }
    return requests.size();
  }

  // The browser's check from `at` (to `local`) and its answer to our verification request.
  void check_from(const SocketAddress& at, const CheckOptions& o = {}, const SocketAddress& local = {}) {
    Bytes check = binding_request(o);
    ASSERT_EQ(deliver(check, at, local), WebRtcTransport::Received::kNothing);
    answer_requests(at, local);
  }

  void nominate() {
    Bytes check = binding_request();
    ASSERT_EQ(deliver(check, browser_addr), WebRtcTransport::Received::kNothing);
    ASSERT_EQ(out.take_responses().size(), 1u);
    answer_requests(browser_addr);
    ASSERT_EQ(server->remote_address(), browser_addr) << "selected once it answered our request";
  }

  // Moves DTLS flights both ways until nothing is pending.
  void pump_dtls() {
    for (int i = 0; i < 50; ++i) {
      bool moved = false;
      for (auto& d : browser_dtls->take_outgoing()) {
        moved = true;
        deliver(d, browser_addr);
      }
      for (auto& s : out.take_dtls()) {
        moved = true;
        EXPECT_EQ(s.to, browser_addr);
        browser_dtls->handle_datagram(s.data, now);
      }
      if (!moved) return;
    }
  }

  void connect() {
    nominate();
    browser_dtls->start(now);
    pump_dtls();
    ASSERT_EQ(browser_dtls->state(), dtls::State::kConnected) << browser_dtls->failure_reason();
    ASSERT_EQ(server->state(), TransportState::kConnected) << server->failure_reason();
    auto keys = browser_dtls->srtp_keys();
    ASSERT_TRUE(keys);
    browser_out = srtp::SrtpSession::create(keys->profile, keys->local_key, keys->local_salt);
    browser_in = srtp::SrtpSession::create(keys->profile, keys->remote_key, keys->remote_salt);
    ASSERT_TRUE(browser_out && browser_in);
  }

  Bytes browser_protect_rtp(const Bytes& plain) {
    Bytes b = plain;
    b.resize(plain.size() + kSrtpMaxTrailer);
    size_t n = 0;
    EXPECT_EQ(browser_out->protect_rtp(b.data(), plain.size(), b.size(), &n), srtp::Status::kOk);
    b.resize(n);
    return b;
  }
  Bytes browser_protect_rtcp(const Bytes& plain) {
    Bytes b = plain;
    b.resize(plain.size() + kSrtpMaxTrailer);
    size_t n = 0;
    EXPECT_EQ(browser_out->protect_rtcp(b.data(), plain.size(), b.size(), &n), srtp::Status::kOk);
    b.resize(n);
    return b;
  }
};

}  // namespace
}  // namespace strata::transport::testing_support
