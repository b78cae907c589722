// IceLiteAgent path verification (docs/ARCHITECTURE.md "No amplification"): a path is
// selected only once it answered our own Binding request, and nothing sent toward an
// unverified path is larger than the check it answers.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

#include "ice/ice_lite_agent.hpp"
#include "ice_lite_test_client.hpp"

namespace strata::ice {
namespace {

// (A fixture of its own: the other file's IceLiteAgentTest is another class to gtest.)
class IceLiteVerificationTest : public IceLiteAgentTest {};

TEST_F(IceLiteVerificationTest, VerificationRequestCarriesTheRfc8445Attributes) {
  auto r = nominate_unanswered(client_);
  ASSERT_TRUE(r.request);
  EXPECT_TRUE(r.new_address);
  auto m = stun::Message::parse(*r.request);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_binding_request());
  EXPECT_EQ(m->username(), std::string(kRemoteUfrag) + ":" + kLocalUfrag);
  EXPECT_TRUE(m->verify_message_integrity(kRemotePwd)) << "keyed with the client's password";
  EXPECT_FALSE(m->verify_message_integrity(kLocalPwd));
  EXPECT_TRUE(m->verify_fingerprint());
  EXPECT_EQ(m->priority(), (110u << 24) | (65535u << 8) | 255u);
  EXPECT_EQ(m->ice_controlled(), kTieBreaker);
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->use_candidate());
  EXPECT_EQ(agent_.counters().verification_requests, 1u);
}

// Only an authenticated success with our transaction id, on the very path we sent it on,
// verifies the path; nothing else selects it.
struct BadAnswer {
  const char* name;
  std::function<Bytes(const Bytes& request)> make;
  SocketAddress from, local;
};

TEST_F(IceLiteVerificationTest, NominatedPathIsSelectedOnlyWhenItAnswers) {
  const SocketAddress lan = addr("192.0.2.10:40000"), other_local = addr("127.0.0.1:40000");
  const auto tid_of = [](const Bytes& req) { return stun::Message::parse(req)->transaction_id(); };
  const BadAnswer cases[] = {
      {"from_another_address", [&](const Bytes& q) { return answer_to(q, client_); }, addr("203.0.113.9:50000"), lan},
      {"to_another_local_address", [&](const Bytes& q) { return answer_to(q, client_); }, client_, other_local},
      {"other_transaction", [&](const Bytes&) { return answer_to(build(Check{}), client_); }, client_, lan},
      {"keyed_with_our_password", [&](const Bytes& q) { return answer_to(q, client_, kLocalPwd); }, client_, lan},
      {"keyed_with_nothing", [&](const Bytes& q) {
         return stun::MessageBuilder::binding_success(tid_of(q)).add_xor_mapped_address(client_).finish(std::nullopt);
       }, client_, lan},
      {"error_response", [&](const Bytes& q) {
         return stun::MessageBuilder::binding_error(tid_of(q)).add_error_code(487, "Role Conflict").finish(kRemotePwd);
       }, client_, lan},
      {"bad_fingerprint", [&](const Bytes& q) {
         Bytes b = answer_to(q, client_);
         b.back() ^= 0x01;
         return b;
       }, client_, lan},
  };
  auto r = nominate_unanswered(client_, lan);
  ASSERT_TRUE(r.request);
  ASSERT_TRUE(r.response) << "the check itself is answered";
  EXPECT_FALSE(r.nominated_changed);
  EXPECT_TRUE(agent_.awaits_verification(client_, lan));
  uint64_t bad = 0;
  for (const auto& c : cases) {
    auto a = agent_.handle_binding(c.make(*r.request), c.from, clock_.now(), c.local);
    EXPECT_FALSE(a.verified) << c.name;
    EXPECT_FALSE(a.authenticated) << c.name;
    EXPECT_FALSE(a.response || a.request) << c.name << ": an answer is never answered";
    EXPECT_EQ(agent_.counters().bad_responses, ++bad) << c.name;
    EXPECT_FALSE(agent_.selected_address()) << c.name;
  }
  auto a = answer(r, client_, lan);
  EXPECT_TRUE(a.verified);
  EXPECT_TRUE(a.nominated_changed);
  EXPECT_EQ(agent_.selected_address(), client_);
  EXPECT_EQ(agent_.selected_local_address(), lan);
  EXPECT_FALSE(agent_.awaits_verification(client_, lan));
  EXPECT_EQ(agent_.counters().paths_verified, 1u);
  // A second answer (to a retransmission of our request) changes nothing.
  a = answer(r, client_, lan);
  EXPECT_FALSE(a.verified);
  EXPECT_EQ(agent_.counters().verification_responses, 2u);
  EXPECT_EQ(agent_.counters().paths_verified, 1u);
}

// The rule: nothing we send toward a path that has not verified is larger than the datagram
// it answers. Checks of every shape from a spoofed source (nobody answers our requests).
struct CheckShape {
  const char* name;
  const char* from;
  std::function<Bytes()> make;
  uint64_t responses_withheld, requests_withheld;  // per check
};

Bytes minimal_check(bool controlled) {
  // USERNAME and MESSAGE-INTEGRITY only: the smallest request we authenticate (60 bytes).
  auto b = stun::MessageBuilder::binding_request(stun::random_transaction_id());
  b.add_username(std::string(kLocalUfrag) + ":" + kRemoteUfrag);
  if (controlled) b.add_ice_controlled(1);
  return b.finish(std::string_view(kLocalPwd), /*fingerprint=*/false);
}

const CheckShape kCheckShapes[] = {
    {"browser_ipv4", "198.51.100.7:50000", [] { return build(Check{.use_candidate = true}); }, 0, 0},
    {"browser_ipv6", "[2001:db8::5]:6000", [] { return build(Check{.use_candidate = true}); }, 0, 0},
    {"plain_check", "198.51.100.7:50000", [] { return build(Check{}); }, 0, 0},
    {"no_fingerprint", "198.51.100.7:50000", [] { return build(Check{.use_candidate = true, .fingerprint = false}); },
     0, 1},
    {"minimal_ipv4", "198.51.100.7:50000", [] { return minimal_check(false); }, 1, 1},
    {"minimal_ipv6", "[2001:db8::5]:6000", [] { return minimal_check(false); }, 1, 1},
    {"role_conflict", "198.51.100.7:50000", [] { return build(Check{.use_candidate = true, .controlled = true}); }, 0, 0},
    {"minimal_role_conflict", "198.51.100.7:50000", [] { return minimal_check(true); }, 1, 0},
};

class UnverifiedPathShapes : public IceLiteVerificationTest, public ::testing::WithParamInterface<CheckShape> {};

TEST_P(UnverifiedPathShapes, NothingSentIsLargerThanTheCheckItAnswers) {
  const CheckShape& shape = GetParam();
  const SocketAddress victim = addr(shape.from);
  constexpr int kChecks = 10;
  for (int i = 0; i < kChecks; ++i) {
    const Bytes check = shape.make();
    auto r = agent_.handle_binding(check, victim, clock_.now());
    EXPECT_TRUE(r.authenticated);
    for (const auto* out : {&r.request, &r.response}) {
      if (*out) EXPECT_LE((*out)->size(), check.size()) << shape.name;
    }
    clock_.advance(100ms);
  }
  const auto& c = agent_.counters();
  EXPECT_EQ(c.responses_withheld, kChecks * shape.responses_withheld);
  EXPECT_EQ(c.requests_withheld, kChecks * shape.requests_withheld);
  EXPECT_FALSE(agent_.selected_address()) << "never selected";
  EXPECT_FALSE(agent_.is_verified(victim));
}

INSTANTIATE_TEST_SUITE_P(Shapes, UnverifiedPathShapes, ::testing::ValuesIn(kCheckShapes),
                         [](const auto& info) { return std::string(info.param.name); });

// Once verified, the path has shown it receives what we send: its checks are answered
// whatever their size.
TEST_F(IceLiteVerificationTest, VerifiedPathIsAnsweredWhateverTheCheckSize) {
  EXPECT_FALSE(agent_.handle_binding(minimal_check(false), client_, clock_.now()).response);
  nominate(client_);
  auto r = agent_.handle_binding(minimal_check(false), client_, clock_.now());
  EXPECT_TRUE(r.response);
  EXPECT_FALSE(r.request);
}

// Our request is sent only in answer to a check (the client's retransmissions retransmit
// it, with the same transaction id), never on a timer, and not once the path verified.
TEST_F(IceLiteVerificationTest, ChecksRetransmitOurRequestWithOneTransactionIdPerPath) {
  std::optional<stun::TransactionId> tid;
  for (int i = 0; i < 4; ++i) {
    auto r = nominate_unanswered(client_);
    ASSERT_TRUE(r.request);
    EXPECT_EQ(r.new_address, i == 0);
    auto id = stun::Message::parse(*r.request)->transaction_id();
    if (tid) EXPECT_EQ(id, *tid);
    tid = id;
    clock_.advance(500ms);
    agent_.handle_timeout(clock_.now());  // nothing to send: the agent has no outgoing timer
  }
  auto other = nominate_unanswered(addr("198.51.100.7:50001"));
  ASSERT_TRUE(other.request);
  EXPECT_NE(stun::Message::parse(*other.request)->transaction_id(), *tid) << "one transaction id per path";
  EXPECT_EQ(agent_.counters().verification_requests, 5u);
  nominate(client_);
  EXPECT_FALSE(nominate(client_).request);
}

// A viewer knows its session's ICE credentials and can put any source address on a check.
// Renominating a victim's address keeps media on the verified path; a real new path (it
// answers) takes over.
TEST_F(IceLiteVerificationTest, RenominationToASpoofedAddressKeepsTheSelection) {
  nominate(client_);
  const SocketAddress victim = addr("203.0.113.77:9"), moved = addr("198.51.100.7:50002");
  for (int i = 0; i < 3; ++i) {
    clock_.advance(1s);
    EXPECT_FALSE(nominate_unanswered(victim).nominated_changed);
    EXPECT_EQ(agent_.selected_address(), client_);
  }
  EXPECT_FALSE(agent_.follow_media(victim, clock_.now())) << "rule 4 needs a verified path";
  EXPECT_TRUE(nominate(moved).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), moved);
  EXPECT_FALSE(nominate_unanswered(victim).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), moved);
  // Consent on the selected path is still refreshed by its own checks meanwhile.
  clock_.advance(20s);
  send(Check{}, moved);
  clock_.advance(20s);
  agent_.handle_timeout(clock_.now());
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kConnected);
}

// Before anything is selected, the first nominated path to verify wins: a spoofed
// nomination that reached us last cannot hold the session back.
TEST_F(IceLiteVerificationTest, FirstVerifiedNominationWinsBeforeAnySelection) {
  auto real = nominate_unanswered(client_);
  nominate_unanswered(addr("203.0.113.77:9"));  // the last nomination, never answered
  EXPECT_TRUE(answer(real, client_).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), client_);
  // Once selected, a path nominated earlier that verifies late does not take over.
  const SocketAddress early = addr("198.51.100.7:50003"), last = addr("198.51.100.7:50004");
  auto r_early = nominate_unanswered(early);
  auto r_last = nominate_unanswered(last);
  EXPECT_TRUE(answer(r_last, last).nominated_changed);
  EXPECT_FALSE(answer(r_early, early).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), last);
}

TEST_F(IceLiteVerificationTest, WithoutTheRemotePasswordNothingVerifies) {
  IceLiteAgent agent(kLocalUfrag, kLocalPwd, std::string(kRemoteUfrag), "");
  auto r = agent.handle_binding(build(Check{.use_candidate = true}), client_, clock_.now());
  EXPECT_TRUE(r.response);
  EXPECT_FALSE(r.request) << "no key to send it with";
  // An answer keyed with the empty password (which anybody can compute) does not count.
  auto forged = stun::MessageBuilder::binding_success(stun::random_transaction_id()).finish(std::string_view(""));
  EXPECT_FALSE(agent.handle_binding(forged, client_, clock_.now()).verified);
  EXPECT_FALSE(agent.selected_address());
}

}  // namespace
}  // namespace strata::ice
