// The test client of the IceLiteAgent tests (ice_lite_agent_test.cpp,
// ice_lite_verification_test.cpp): the browser's checks (full agent, controlling) and its
// answers to the agent's path verification requests (RFC 8445 §7.3), on fake time.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ice/ice_lite_agent.hpp"
#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::ice {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLocalUfrag = "srvU";
constexpr const char* kLocalPwd = "server-password-0123456789";
constexpr const char* kRemoteUfrag = "brwU";
constexpr const char* kRemotePwd = "browser-password-abcdefghij";
constexpr uint64_t kTieBreaker = 0x0102030405060708ull;

SocketAddress addr(const char* text) { return *SocketAddress::parse(text); }

// What the browser (controlling, full agent) would send.
struct Check {
  std::string username = std::string(kLocalUfrag) + ":" + kRemoteUfrag;
  std::optional<std::string> key = std::string(kLocalPwd);
  bool use_candidate = false;
  bool controlled = false;  // send ICE-CONTROLLED instead of ICE-CONTROLLING
  bool fingerprint = true;
  stun::TransactionId tid = stun::random_transaction_id();
};

Bytes build(const Check& c) {
  auto b = stun::MessageBuilder::binding_request(c.tid);
  b.add_username(c.username).add_priority(0x6e0001ff);
  if (c.controlled) {
    b.add_ice_controlled(42);
  } else {
    b.add_ice_controlling(42);
  }
  if (c.use_candidate) b.add_use_candidate();
  std::optional<std::string_view> key;
  if (c.key) key = *c.key;
  return b.finish(key, c.fingerprint);
}

// The browser's answer to our verification request (RFC 8445 §7.3: a full agent answers
// every valid check), keyed with its own password.
Bytes answer_to(const Bytes& request, const SocketAddress& mapped, std::string_view key = kRemotePwd) {
  auto m = stun::Message::parse(request);
  EXPECT_TRUE(m);
  return stun::MessageBuilder::binding_success(m ? m->transaction_id() : stun::TransactionId{})
      .add_xor_mapped_address(mapped)
      .finish(key);
}

IceLiteAgent::Config config_with_tie_breaker() {
  IceLiteAgent::Config c;
  c.tie_breaker = kTieBreaker;
  return c;
}

class IceLiteAgentTest : public ::testing::Test {
 protected:
  IceLiteAgent agent_{kLocalUfrag, kLocalPwd, std::string(kRemoteUfrag), kRemotePwd, config_with_tie_breaker()};
  FakeClock clock_;
  const SocketAddress client_ = addr("198.51.100.7:50000");

  IceLiteAgent::Result send(const Check& c, const SocketAddress& from, const SocketAddress& local = {}) {
    Bytes raw = build(c);
    return agent_.handle_binding(raw, from, clock_.now(), local);
  }
  // The client at `from` answers the verification request `r` carried (if any); the
  // result of handling that answer.
  IceLiteAgent::Result answer(const IceLiteAgent::Result& r, const SocketAddress& from,
                              const SocketAddress& local = {}, std::string_view key = kRemotePwd) {
    if (!r.request) return {};
    return agent_.handle_binding(answer_to(*r.request, local, key), from, clock_.now(), local);
  }
  // A check that a real client at `from` sends, and its answer to our request: the result
  // of the check, with nominated_changed also set when the answer changed the selection.
  IceLiteAgent::Result check_and_answer(const Check& c, const SocketAddress& from, const SocketAddress& local = {},
                                        std::string_view key = kRemotePwd) {
    auto r = send(c, from, local);
    if (answer(r, from, local, key).nominated_changed) r.nominated_changed = true;
    return r;
  }
  IceLiteAgent::Result nominate(const SocketAddress& from, const SocketAddress& local = {}) {
    Check c;
    c.use_candidate = true;
    return check_and_answer(c, from, local);
  }
  // A nomination whose sender does not receive at `from` (spoofed): never answered.
  IceLiteAgent::Result nominate_unanswered(const SocketAddress& from, const SocketAddress& local = {}) {
    Check c;
    c.use_candidate = true;
    return send(c, from, local);
  }
};

}  // namespace
}  // namespace strata::ice
