#include "ice/ice_lite_agent.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ice_lite_test_client.hpp"

namespace strata::ice {
namespace {

TEST_F(IceLiteAgentTest, AnswersAuthenticatedCheckWithVerifiableSuccess) {
  for (const char* from_text : {"198.51.100.7:50000", "[2001:db8::5]:6000"}) {
    Check c;
    SocketAddress from = addr(from_text);
    auto r = send(c, from);
    ASSERT_TRUE(r.response) << from_text;
    EXPECT_TRUE(r.authenticated);
    EXPECT_FALSE(r.nominated_changed);
    auto m = stun::Message::parse(*r.response);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->message_class(), stun::MessageClass::kSuccessResponse);
    EXPECT_EQ(m->method(), stun::kMethodBinding);
    EXPECT_EQ(m->transaction_id(), c.tid);
    EXPECT_EQ(m->xor_mapped_address(), from);
    EXPECT_TRUE(m->verify_message_integrity(kLocalPwd));
    EXPECT_TRUE(m->verify_fingerprint());
  }
  EXPECT_EQ(agent_.counters().success_responses, 2u);
  // Checks without USE-CANDIDATE do not select anything.
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kNew);
  EXPECT_FALSE(agent_.selected_address());
}

TEST_F(IceLiteAgentTest, AcceptsCheckWithoutFingerprint) {
  Check c;
  c.fingerprint = false;
  EXPECT_TRUE(send(c, client_).response);
}

struct RejectCase {
  const char* name;
  void (*mutate)(Check&);
  uint64_t IceLiteAgent::Counters::*counter;
};

const RejectCase kRejectCases[] = {
    {"wrong_password", [](Check& c) { c.key = "not-the-password"; }, &IceLiteAgent::Counters::bad_integrity},
    {"no_integrity", [](Check& c) { c.key.reset(); }, &IceLiteAgent::Counters::bad_integrity},
    {"wrong_local_ufrag", [](Check& c) { c.username = std::string("xxxx:") + kRemoteUfrag; },
     &IceLiteAgent::Counters::bad_username},
    {"wrong_remote_ufrag", [](Check& c) { c.username = std::string(kLocalUfrag) + ":other"; },
     &IceLiteAgent::Counters::bad_username},
    {"empty_remote_ufrag", [](Check& c) { c.username = std::string(kLocalUfrag) + ":"; },
     &IceLiteAgent::Counters::bad_username},
    {"no_colon", [](Check& c) { c.username = kLocalUfrag; }, &IceLiteAgent::Counters::bad_username},
    {"swapped_ufrags", [](Check& c) { c.username = std::string(kRemoteUfrag) + ":" + kLocalUfrag; },
     &IceLiteAgent::Counters::bad_username},
};

class IceLiteRejects : public IceLiteAgentTest, public ::testing::WithParamInterface<RejectCase> {};

TEST_P(IceLiteRejects, NoReplyAndCounted) {
  Check c;
  c.use_candidate = true;
  GetParam().mutate(c);
  auto r = send(c, client_);
  EXPECT_FALSE(r.response);
  EXPECT_FALSE(r.authenticated);
  EXPECT_FALSE(r.nominated_changed);
  EXPECT_EQ(agent_.counters().*GetParam().counter, 1u);
  EXPECT_EQ(agent_.counters().success_responses, 0u);
  EXPECT_FALSE(agent_.selected_address());
}

INSTANTIATE_TEST_SUITE_P(Cases, IceLiteRejects, ::testing::ValuesIn(kRejectCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(IceLiteAgentTest, RejectsGarbageAndNonRequests) {
  struct Case { const char* name; Bytes bytes; uint64_t IceLiteAgent::Counters::*counter; };
  Bytes bad_fp = build(Check{});
  bad_fp.back() ^= 0xFF;
  const stun::TransactionId tid{};
  const Case cases[] = {
      {"empty", {}, &IceLiteAgent::Counters::malformed},
      {"rtp", from_hex("80 60 00 01 00 00 00 00 00 00 00 01"), &IceLiteAgent::Counters::malformed},
      {"truncated", Bytes(bad_fp.begin(), bad_fp.begin() + 30), &IceLiteAgent::Counters::malformed},
      {"bad_fingerprint", bad_fp, &IceLiteAgent::Counters::bad_fingerprint},
      {"unsolicited_success_response", stun::MessageBuilder::binding_success(tid).finish(kRemotePwd),
       &IceLiteAgent::Counters::bad_responses},
      {"unsolicited_error_response",
       stun::MessageBuilder::binding_error(tid).add_error_code(487, "Role Conflict").finish(kRemotePwd),
       &IceLiteAgent::Counters::bad_responses},
      {"indication",
       stun::MessageBuilder(stun::MessageClass::kIndication, stun::kMethodBinding, tid).finish(std::nullopt),
       &IceLiteAgent::Counters::not_binding_request},
      {"other_method",
       stun::MessageBuilder(stun::MessageClass::kRequest, 0x003, tid).add_username("srvU:brwU").finish(kLocalPwd),
       &IceLiteAgent::Counters::not_binding_request},
  };
  for (const auto& c : cases) {
    IceLiteAgent agent(kLocalUfrag, kLocalPwd, std::string(kRemoteUfrag), kRemotePwd);
    auto r = agent.handle_binding(c.bytes, client_, clock_.now());
    EXPECT_FALSE(r.response) << c.name;
    EXPECT_EQ(agent.counters().*c.counter, 1u) << c.name;
  }
}

TEST_F(IceLiteAgentTest, RandomBytesNeverAnswered) {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    Bytes raw(rng() % 200);
    for (auto& b : raw) b = uint8_t(rng());
    EXPECT_FALSE(agent_.handle_binding(raw, client_, clock_.now()).response);
  }
  EXPECT_EQ(agent_.counters().success_responses, 0u);
}

TEST_F(IceLiteAgentTest, RemoteUfragUncheckedWhenUnknown) {
  IceLiteAgent agent(kLocalUfrag, kLocalPwd, std::nullopt, kRemotePwd);
  Check c;
  c.username = std::string(kLocalUfrag) + ":anything";
  EXPECT_TRUE(agent.handle_binding(build(c), client_, clock_.now()).response);
  agent.set_remote_ufrag(kRemoteUfrag);
  EXPECT_FALSE(agent.handle_binding(build(c), client_, clock_.now()).response);
}

TEST_F(IceLiteAgentTest, UseCandidateNominatesAndSwitches) {
  auto r = nominate(client_);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(r.nominated_changed);
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kConnected);
  EXPECT_EQ(agent_.selected_address(), client_);

  // Renominating the same address is not a change.
  EXPECT_FALSE(nominate(client_).nominated_changed);

  // Client moved (new NAT binding) and nominates again from there: follow as soon as the
  // new path answers our request (nominate() answers it).
  const SocketAddress moved = addr("198.51.100.7:50001");
  clock_.advance(1s);
  EXPECT_TRUE(nominate(moved).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), moved);
  EXPECT_EQ(agent_.counters().nominations, 3u);
  EXPECT_EQ(agent_.counters().address_switches, 1u);
}

// Several host candidates on one wildcard socket: a path is (source, the candidate checked).
TEST_F(IceLiteAgentTest, SelectedPathKeepsTheCheckedLocalAddress) {
  const SocketAddress lan = addr("192.0.2.10:40000"), loopback = addr("127.0.0.1:40000");
  EXPECT_FALSE(agent_.selected_local_address().valid());
  // The client checks both of our candidates from one address; only the nomination selects.
  EXPECT_TRUE(send(Check{}, client_, loopback).response);
  EXPECT_FALSE(agent_.selected_address());
  EXPECT_TRUE(nominate(client_, lan).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), client_);
  EXPECT_EQ(agent_.selected_local_address(), lan);

  // A check on the other pair is answered but neither selects it nor refreshes consent.
  clock_.advance(5s);
  auto r = send(Check{}, client_, loopback);
  EXPECT_TRUE(r.response);
  EXPECT_FALSE(r.nominated_changed);
  EXPECT_EQ(agent_.selected_local_address(), lan);
  clock_.advance(25s);
  agent_.handle_timeout(clock_.now());
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kDisconnected) << "consent is per pair (RFC 7675 §5.1)";

  // Renominating the other pair moves media there: same remote address, new local one.
  EXPECT_TRUE(nominate(client_, loopback).nominated_changed);
  EXPECT_EQ(agent_.selected_local_address(), loopback);
  clock_.advance(1s);
  EXPECT_FALSE(nominate(client_, loopback).nominated_changed);
  EXPECT_TRUE(nominate(client_, lan).nominated_changed);
  EXPECT_EQ(agent_.selected_local_address(), lan);
  // The selected pair falls silent while the other keeps passing checks: follow it (rule 2).
  clock_.advance(8s);
  EXPECT_TRUE(send(Check{}, client_, loopback).nominated_changed);
  EXPECT_EQ(agent_.selected_local_address(), loopback);
  EXPECT_EQ(agent_.counters().address_switches, 3u);  // to loopback, to lan, to loopback
}

// Rule 4: a client nominating two of our candidates at once (aggressive nomination) uses
// the pair whose success it got first; its handshake on that path moves us there, even
// though the other nomination reached us last. Never to a path nobody nominated.
TEST_F(IceLiteAgentTest, MediaOnAnotherNominatedPathMovesTheSelection) {
  const SocketAddress via_lan = addr("192.0.2.2:50000"), via_loopback = addr("127.0.0.1:50000");
  const SocketAddress lan = addr("192.0.2.2:40000"), loopback = addr("127.0.0.1:40000");
  EXPECT_FALSE(agent_.follow_media(via_lan, clock_.now())) << "nothing nominated yet";
  nominate(via_lan, lan);
  nominate(via_loopback, loopback);  // processed last: selected
  EXPECT_EQ(agent_.selected_address(), via_loopback);
  EXPECT_FALSE(agent_.follow_media(via_loopback, clock_.now())) << "already selected";
  EXPECT_FALSE(agent_.follow_media(addr("203.0.113.9:1234"), clock_.now())) << "never nominated";
  EXPECT_EQ(agent_.selected_address(), via_loopback);
  EXPECT_TRUE(agent_.follow_media(via_lan, clock_.now()));
  EXPECT_EQ(agent_.selected_address(), via_lan);
  EXPECT_EQ(agent_.selected_local_address(), lan) << "and media leaves from the candidate it checked";
  EXPECT_EQ(agent_.counters().address_switches, 2u);
  // A check that only validated a path (no USE-CANDIDATE) does not make it followable.
  const SocketAddress checked_only = addr("198.51.100.20:6000");
  EXPECT_TRUE(check_and_answer(Check{}, checked_only).response);
  EXPECT_FALSE(agent_.follow_media(checked_only, clock_.now()));
  // Nor does a nomination whose path never answered our request (a spoofed source).
  const SocketAddress spoofed = addr("198.51.100.21:6000");
  nominate_unanswered(spoofed);
  EXPECT_TRUE(agent_.awaits_verification(spoofed));
  EXPECT_FALSE(agent_.follow_media(spoofed, clock_.now()));
  EXPECT_EQ(agent_.selected_address(), via_lan);
}

TEST_F(IceLiteAgentTest, OnlyTheLastKMaxPathsPathsAreRemembered) {
  const auto at = [](size_t i) { return addr(("198.51.100.7:" + std::to_string(50000 + i)).c_str()); };
  std::vector<SocketAddress> forgotten;
  for (size_t i = 0; i < IceLiteAgent::kMaxPaths + 2; ++i) {
    clock_.advance(10ms);
    auto r = nominate(at(i));
    EXPECT_TRUE(r.new_address);
    if (r.forgotten) forgotten.push_back(*r.forgotten);
  }
  EXPECT_EQ(forgotten, (std::vector<SocketAddress>{at(0), at(1)})) << "least recently checked first";
  EXPECT_EQ(agent_.counters().paths_forgotten, 2u);
  EXPECT_FALSE(agent_.follow_media(at(1), clock_.now())) << "forgotten";
  EXPECT_FALSE(agent_.is_verified(at(1))) << "and must verify again";
  EXPECT_TRUE(agent_.follow_media(at(2), clock_.now()));
  // The selected path is never the one forgotten, however long ago it was checked.
  for (size_t i = 100; i < 100 + 2 * IceLiteAgent::kMaxPaths; ++i) {
    clock_.advance(10ms);
    nominate_unanswered(at(i));
  }
  EXPECT_EQ(agent_.selected_address(), at(2));
  EXPECT_TRUE(agent_.is_verified(at(2)));
}

TEST_F(IceLiteAgentTest, UnauthenticatedUseCandidateCannotHijack) {
  nominate(client_);
  Check c;
  c.use_candidate = true;
  c.key = "attacker-guess";
  EXPECT_FALSE(send(c, addr("203.0.113.9:1234")).response);
  EXPECT_EQ(agent_.selected_address(), client_);
}

TEST_F(IceLiteAgentTest, FollowsOtherAddressOnlyAfterSelectedGoesSilent) {
  nominate(client_);
  const SocketAddress other = addr("203.0.113.5:40000");
  // Selected address is alive: checks from another address are answered, not followed.
  clock_.advance(5s);
  auto r = check_and_answer(Check{}, other);
  EXPECT_TRUE(r.response);
  EXPECT_FALSE(r.nominated_changed);
  EXPECT_EQ(agent_.selected_address(), client_);
  EXPECT_TRUE(agent_.is_verified(other)) << "it answered our request";
  // The selected address refreshes itself.
  clock_.advance(5s);
  send(Check{}, client_);
  clock_.advance(7s);
  EXPECT_FALSE(send(Check{}, other).nominated_changed);
  // Silent for 8 s now: follow the live path.
  clock_.advance(1s);
  r = send(Check{}, other);
  EXPECT_TRUE(r.nominated_changed);
  EXPECT_FALSE(r.request) << "verified paths get no more requests";
  EXPECT_EQ(agent_.selected_address(), other);
  EXPECT_EQ(agent_.counters().address_switches, 1u);
}

// Rule 2 with a path that verifies only after the selected one fell silent: it takes over
// when its answer arrives. One that never answers (a spoofed source) never does.
TEST_F(IceLiteAgentTest, SilentSelectedPathGivesWayOnlyToAVerifiedOne) {
  nominate(client_);
  const SocketAddress spoofed = addr("203.0.113.5:40000"), rebound = addr("198.51.100.7:50123");
  clock_.advance(9s);
  for (int i = 0; i < 5; ++i) {
    auto r = send(Check{}, spoofed);
    EXPECT_TRUE(r.response);
    EXPECT_TRUE(r.request);
    EXPECT_FALSE(r.nominated_changed);
    clock_.advance(1s);
  }
  EXPECT_EQ(agent_.selected_address(), client_);
  auto r = send(Check{}, rebound);
  EXPECT_FALSE(r.nominated_changed) << "not before it answers";
  EXPECT_TRUE(answer(r, rebound).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), rebound);
}

TEST_F(IceLiteAgentTest, ConsentExpiresAfter30sAndChecksRefreshIt) {
  EXPECT_EQ(agent_.next_timeout(), kNever);
  EXPECT_FALSE(agent_.consent_expired(clock_.now() + 1h));
  nominate(client_);
  const Timestamp start = clock_.now();
  EXPECT_EQ(agent_.next_timeout(), start + 30s);

  // Refresh every 5 s for a minute: never expires.
  for (int i = 0; i < 12; ++i) {
    clock_.advance(5s);
    agent_.handle_timeout(clock_.now());
    EXPECT_FALSE(agent_.consent_expired(clock_.now()));
    send(Check{}, client_);
  }
  EXPECT_EQ(agent_.next_timeout(), clock_.now() + 30s);

  // Silence: still connected at 29 s, expired at 30 s.
  clock_.advance(29s);
  agent_.handle_timeout(clock_.now());
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kConnected);
  clock_.advance(1s);
  EXPECT_TRUE(agent_.consent_expired(clock_.now()));
  agent_.handle_timeout(clock_.now());
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kDisconnected);
  EXPECT_FALSE(agent_.selected_address());
  EXPECT_EQ(agent_.next_timeout(), kNever);
  EXPECT_EQ(agent_.counters().consent_expirations, 1u);

  // A plain check does not revive the session; a renomination does.
  auto r = send(Check{}, client_);
  EXPECT_TRUE(r.response);
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kDisconnected);
  r = nominate(client_);
  EXPECT_TRUE(r.nominated_changed);
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kConnected);
  EXPECT_EQ(agent_.selected_address(), client_);
}

TEST_F(IceLiteAgentTest, ExpiryAppliedOnNextPacketWithoutTimer) {
  nominate(client_);
  clock_.advance(31s);
  send(Check{}, client_);  // arrives too late: consent already lost
  EXPECT_EQ(agent_.state(), IceLiteAgent::State::kDisconnected);
}

TEST_F(IceLiteAgentTest, ConfigurableConsentTimeout) {
  IceLiteAgent::Config config;
  config.consent_timeout = 10s;
  IceLiteAgent agent(kLocalUfrag, kLocalPwd, std::string(kRemoteUfrag), kRemotePwd, config);
  Check c;
  c.use_candidate = true;
  auto r = agent.handle_binding(build(c), client_, clock_.now());
  ASSERT_TRUE(r.request);
  agent.handle_binding(answer_to(*r.request, client_), client_, clock_.now());
  EXPECT_EQ(agent.next_timeout(), clock_.now() + 10s);
  EXPECT_FALSE(agent.consent_expired(clock_.now() + 9s));
  EXPECT_TRUE(agent.consent_expired(clock_.now() + 10s));
}

TEST_F(IceLiteAgentTest, RoleConflictAnswered487) {
  Check c;
  c.controlled = true;
  c.use_candidate = true;
  auto r = send(c, client_);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(r.authenticated);
  EXPECT_FALSE(r.nominated_changed);
  auto m = stun::Message::parse(*r.response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), stun::MessageClass::kErrorResponse);
  EXPECT_EQ(m->transaction_id(), c.tid);
  ASSERT_TRUE(m->error_code());
  EXPECT_EQ(m->error_code()->code, 487);
  EXPECT_TRUE(m->verify_message_integrity(kLocalPwd));
  EXPECT_TRUE(m->verify_fingerprint());
  EXPECT_EQ(agent_.counters().role_conflicts, 1u);
  EXPECT_FALSE(agent_.selected_address());

  // Unauthenticated role conflicts get nothing.
  c.key = "wrong";
  EXPECT_FALSE(send(c, client_).response);
  EXPECT_EQ(agent_.counters().role_conflicts, 1u);
}

// RFC 8445 §9: until the browser checks with the new credentials, its consent checks of the
// previous generation (sent before it has our PATCH answer) are still answered, with the
// previous password; from the first new-generation check on, the old ones are answered for
// the grace period (a check sent or retransmitted just before the switch arrives late), then
// rejected.
constexpr const char* kRemotePwd2 = "browser-password-2-abcdefgh";

TEST_F(IceLiteAgentTest, RestartAnswersThePreviousGenerationUntilTheNewOneIsUsed) {
  nominate(client_);
  agent_.restart("newU", "new-password-abcdefghij", std::string("brw2"), kRemotePwd2);
  EXPECT_EQ(agent_.local_ufrag(), "newU");
  EXPECT_EQ(agent_.previous_local_ufrag(), kLocalUfrag);

  // Old credentials, before the new generation is in use: answered with the old password,
  // however long the browser takes to switch.
  clock_.advance(std::chrono::seconds(10));
  auto old_gen = send(Check{}, client_);
  ASSERT_TRUE(old_gen.response);
  EXPECT_TRUE(stun::verify_message_integrity(*old_gen.response, kLocalPwd));
  // Mixed credentials never pass.
  Check old_pwd_new_user;
  old_pwd_new_user.username = "newU:brw2";
  EXPECT_FALSE(send(old_pwd_new_user, client_).response);
  EXPECT_EQ(agent_.counters().bad_integrity, 1u);
  EXPECT_EQ(agent_.previous_local_ufrag(), kLocalUfrag) << "a failed check does not end the old generation";

  // Media keeps flowing to the old selection until the browser nominates again.
  EXPECT_EQ(agent_.selected_address(), client_);

  Check fresh;
  fresh.username = "newU:brw2";
  fresh.key = "new-password-abcdefghij";
  fresh.use_candidate = true;
  const SocketAddress new_path = addr("192.0.2.44:3478");
  auto r = send(fresh, new_path);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(stun::verify_message_integrity(*r.response, "new-password-abcdefghij"));
  // Our request on the new path uses the browser's new credentials.
  ASSERT_TRUE(r.request);
  auto req = stun::Message::parse(*r.request);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->username(), "brw2:newU");
  EXPECT_TRUE(req->verify_message_integrity(kRemotePwd2));
  EXPECT_FALSE(r.nominated_changed);
  EXPECT_EQ(agent_.selected_address(), client_) << "not before the new path answers";
  EXPECT_FALSE(answer(r, new_path, {}, kRemotePwd).nominated_changed) << "answer keyed with the old password";
  EXPECT_TRUE(answer(r, new_path, {}, kRemotePwd2).nominated_changed);
  EXPECT_EQ(agent_.selected_address(), new_path);

  // The new generation is in use: a late old check within the grace is still answered...
  const auto grace = IceLiteAgent::Config{}.previous_generation_grace;
  EXPECT_EQ(agent_.next_timeout(), clock_.now() + grace);
  clock_.advance(grace - std::chrono::milliseconds(1));
  EXPECT_TRUE(send(Check{}, client_).response);
  EXPECT_EQ(agent_.selected_address(), new_path) << "a late old check does not move the selection back";
  // ...and from the end of the grace on, the old credentials are rejected.
  clock_.advance(std::chrono::milliseconds(1));
  agent_.handle_timeout(clock_.now());
  EXPECT_TRUE(agent_.previous_local_ufrag().empty());
  EXPECT_FALSE(send(Check{}, client_).response);
  EXPECT_EQ(agent_.counters().bad_username, 1u);
}

// While a restart completes, Chromium mixes generations in USERNAME: once it applied our
// answer, its old connections check with our new ufrag and its old one; before, its new
// connections check with our old ufrag and its new one. Each is answered while the previous
// generation lasts, authenticated by the password of our ufrag's generation only.
TEST_F(IceLiteAgentTest, RestartAnswersChecksThatMixGenerations) {
  nominate(client_);
  agent_.restart("newU", "new-password-abcdefghij", std::string("brw2"), kRemotePwd2);
  Check mixed;
  mixed.username = std::string("newU:") + kRemoteUfrag;
  mixed.key = "new-password-abcdefghij";
  auto r = send(mixed, client_);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(stun::verify_message_integrity(*r.response, "new-password-abcdefghij"));
  EXPECT_FALSE(r.request) << "the path verified before the restart still is";
  // On a new path, our request names the browser's ufrag of the check, keyed with its
  // password of that generation.
  r = send(mixed, addr("192.0.2.45:3478"));
  ASSERT_TRUE(r.request);
  auto req = stun::Message::parse(*r.request);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->username(), std::string(kRemoteUfrag) + ":newU");
  EXPECT_TRUE(req->verify_message_integrity(kRemotePwd));
  EXPECT_EQ(agent_.next_timeout(), clock_.now() + IceLiteAgent::Config{}.consent_timeout)
      << "a mixed check does not start the previous generation's grace";
  mixed.key = kLocalPwd;
  EXPECT_FALSE(send(mixed, client_).response) << "the old password never authenticates the new ufrag";
  EXPECT_EQ(agent_.counters().bad_integrity, 1u);
  // Before it applied our answer, its new connections check with our old ufrag: the old
  // password authenticates them.
  Check early;
  early.username = std::string(kLocalUfrag) + ":brw2";
  early.key = kLocalPwd;
  r = send(early, client_);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(stun::verify_message_integrity(*r.response, kLocalPwd));
  early.key = "new-password-abcdefghij";
  EXPECT_FALSE(send(early, client_).response);
  EXPECT_EQ(agent_.counters().bad_integrity, 2u);

  // Once the previous generation is over, the old remote ufrag is unknown.
  Check fresh;
  fresh.username = "newU:brw2";
  fresh.key = "new-password-abcdefghij";
  ASSERT_TRUE(send(fresh, client_).response);
  clock_.advance(IceLiteAgent::Config{}.previous_generation_grace);
  mixed.key = "new-password-abcdefghij";
  EXPECT_FALSE(send(mixed, client_).response);
  EXPECT_EQ(agent_.counters().bad_username, 1u);
}

// A second restart before the first completed forgets the oldest generation.
TEST_F(IceLiteAgentTest, SecondRestartKeepsOnlyOnePreviousGeneration) {
  nominate(client_);
  agent_.restart("gen2", "password-generation-two", std::string("brw2"), "remote-password-gen-2xx");
  agent_.restart("gen3", "password-generation-333", std::string("brw3"), "remote-password-gen-3xx");
  EXPECT_EQ(agent_.previous_local_ufrag(), "gen2");
  EXPECT_FALSE(send(Check{}, client_).response) << "generation 1 is gone";
  Check gen2;
  gen2.username = "gen2:brw2";
  gen2.key = "password-generation-two";
  EXPECT_TRUE(send(gen2, client_).response);
}

}  // namespace
}  // namespace strata::ice
