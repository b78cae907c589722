#include "ice/ice_controlling_agent.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <random>

#include "ice/ice_lite_agent.hpp"
#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::ice {
namespace {

using namespace std::chrono_literals;
using State = IceControllingAgent::State;
using Outgoing = IceControllingAgent::Outgoing;

constexpr const char* kEdgeUfrag = "edgU";
constexpr const char* kEdgePwd = "edge-password-0123456789ab";
constexpr const char* kOriginUfrag = "orgU";
constexpr const char* kOriginPwd = "origin-password-0123456789";
constexpr uint64_t kTieBreaker = 0x1122334455667788ull;

SocketAddress addr(const char* text) { return *SocketAddress::parse(text); }

// The edge (controlling agent) on one socket, talking in memory to ICE-lite origins, one
// per remote candidate address. Datagrams are delivered instantly; `drop` decides loss.
class Network {
 public:
  explicit Network(IceControllingAgent::Config config = {}, std::string remote_pwd = kOriginPwd)
      : edge_(kEdgeUfrag, kEdgePwd, kOriginUfrag, std::move(remote_pwd), kTieBreaker, config) {}

  IceLiteAgent& add_origin(const SocketAddress& at, uint32_t priority, bool reachable = true) {
    auto& lite = origins_[at];
    lite = std::make_unique<IceLiteAgent>(kOriginUfrag, kOriginPwd, std::string(kEdgeUfrag), kEdgePwd);
    if (!reachable) unreachable_.push_back(at);
    edge_.add_remote_candidate(at, priority);
    return *lite;
  }

  // Runs the edge's timers and delivers datagrams until `until` (fake time).
  void run_until(Timestamp until) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      Timestamp next = std::max(clock_.now(), std::min(edge_.next_timeout(), until));
      clock_.set(next);
      std::vector<Outgoing> out;
      edge_.handle_timeout(next, out);
      deliver(out);
      if (on_tick) on_tick();
      if (next >= until) return;
      ASSERT_GT(edge_.next_timeout(), next) << "timer did not advance";
    }
    FAIL() << "run_until did not terminate";
  }
  void run_for(Duration d) { run_until(clock_.now() + d); }

  void deliver(std::vector<Outgoing>& out) {
    for (auto& o : out) {
      sent.push_back(o);
      if (drop && drop(o)) continue;
      auto it = origins_.find(o.to);
      if (it == origins_.end() || is_unreachable(o.to)) continue;
      auto result = it->second->handle_binding(o.data, local_, clock_.now());
      std::vector<Outgoing> replies;
      // The origin verifies our address (its request goes first): we answer, as a full
      // agent must (RFC 8445 §7.3), and that answer lets it select us.
      if (result.request) {
        edge_.handle_stun(*result.request, o.to, clock_.now(), replies);
        for (auto& reply : replies) {
          EXPECT_EQ(reply.to, o.to);
          it->second->handle_binding(reply.data, local_, clock_.now());
        }
        replies.clear();
      }
      if (!result.response) continue;
      edge_.handle_stun(*result.response, o.to, clock_.now(), replies);
      EXPECT_TRUE(replies.empty());
    }
  }

  bool is_unreachable(const SocketAddress& a) const {
    return std::find(unreachable_.begin(), unreachable_.end(), a) != unreachable_.end();
  }

  IceLiteAgent& origin(const SocketAddress& a) { return *origins_.at(a); }

  FakeClock clock_;
  IceControllingAgent edge_;
  const SocketAddress local_ = addr("192.0.2.10:40000");
  std::vector<Outgoing> sent;
  std::function<bool(const Outgoing&)> drop;
  std::function<void()> on_tick;

 private:
  struct AddrLess {
    bool operator()(const SocketAddress& a, const SocketAddress& b) const {
      return a.to_string() < b.to_string();
    }
  };
  std::map<SocketAddress, std::unique_ptr<IceLiteAgent>, AddrLess> origins_;
  std::vector<SocketAddress> unreachable_;
};

const SocketAddress kOriginA = addr("203.0.113.1:3478");
const SocketAddress kOriginB = addr("203.0.113.2:3478");

TEST(IceControllingAgentTest, ConnectsToLitePeerAndPeerNominatesUs) {
  Network net;
  auto& lite = net.add_origin(kOriginA, 2130706431);
  EXPECT_EQ(net.edge_.state(), State::kNew);
  EXPECT_EQ(net.edge_.next_timeout(), Timestamp{});  // due immediately
  net.run_for(1ms);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
  EXPECT_EQ(net.edge_.selected_address(), kOriginA);
  EXPECT_EQ(lite.state(), IceLiteAgent::State::kConnected);
  EXPECT_EQ(lite.selected_address(), net.local_);
  EXPECT_EQ(lite.counters().nominations, 1u);
  EXPECT_EQ(lite.counters().verification_requests, 1u);
  EXPECT_EQ(lite.counters().paths_verified, 1u) << "we answered the origin's verification request";
  EXPECT_EQ(net.edge_.counters().requests_answered, 1u);
  EXPECT_EQ(net.edge_.counters().requests_sent, 1u);
  EXPECT_EQ(net.edge_.counters().responses_ok, 1u);
  EXPECT_EQ(net.edge_.outstanding_transactions(), 0u);
}

TEST(IceControllingAgentTest, CheckCarriesTheRfc8445Attributes) {
  Network net;
  net.add_origin(kOriginA, 100);
  net.run_for(1ms);
  ASSERT_FALSE(net.sent.empty());
  auto msg = stun::Message::parse(net.sent.front().data);
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->is_binding_request());
  EXPECT_EQ(msg->username(), std::string(kOriginUfrag) + ":" + kEdgeUfrag);
  EXPECT_EQ(msg->priority(), (110u << 24) | (65535u << 8) | 255u);
  EXPECT_EQ(msg->ice_controlling(), kTieBreaker);
  EXPECT_FALSE(msg->ice_controlled());
  EXPECT_TRUE(msg->use_candidate());
  EXPECT_TRUE(msg->verify_message_integrity(kOriginPwd));
  EXPECT_FALSE(msg->verify_message_integrity(kEdgePwd));
  EXPECT_TRUE(msg->verify_fingerprint());
}

TEST(IceControllingAgentTest, WrongRemotePasswordNeverConnectsAndFailsAtConnectTimeout) {
  Network net({}, "not-the-origin-password-xx");
  auto& lite = net.add_origin(kOriginA, 100);
  const Timestamp start = net.clock_.now();
  net.run_until(start + 10s - 1ms);
  EXPECT_EQ(net.edge_.state(), State::kChecking);
  EXPECT_GT(lite.counters().bad_integrity, 0u);
  EXPECT_EQ(lite.state(), IceLiteAgent::State::kNew);
  net.run_until(start + 10s);
  EXPECT_EQ(net.edge_.state(), State::kFailed);
  EXPECT_FALSE(net.edge_.selected_address());
  EXPECT_EQ(net.edge_.next_timeout(), kNever);
  EXPECT_EQ(net.edge_.counters().responses_ok, 0u);
  EXPECT_EQ(net.edge_.outstanding_transactions(), 0u);
}

TEST(IceControllingAgentTest, RetransmissionConnectsAfterLostChecks) {
  struct Case {
    int lost;
  };
  for (Case c : {Case{1}, Case{2}, Case{4}}) {
    SCOPED_TRACE(c.lost);
    Network net;
    net.add_origin(kOriginA, 100);
    int dropped = 0;
    net.drop = [&](const Outgoing&) { return dropped++ < c.lost; };
    net.run_for(9s);
    EXPECT_EQ(net.edge_.state(), State::kConnected);
    EXPECT_EQ(net.edge_.counters().retransmissions, uint64_t(c.lost));
    EXPECT_EQ(net.edge_.counters().requests_sent - net.edge_.counters().consent_checks_sent, uint64_t(c.lost + 1));
    // All sends are the same transaction (RFC 8489 §6.2.1).
    auto first = stun::Message::parse(net.sent[0].data);
    auto last = stun::Message::parse(net.sent[size_t(c.lost)].data);
    EXPECT_EQ(first->transaction_id(), last->transaction_id());
  }
}

TEST(IceControllingAgentTest, RetransmissionsBackOff) {
  Network net;
  net.add_origin(kOriginA, 100);
  std::vector<Timestamp> send_times;
  net.drop = [&](const Outgoing&) {
    send_times.push_back(net.clock_.now());
    return true;
  };
  net.run_for(8s);
  ASSERT_GE(send_times.size(), 4u);
  EXPECT_EQ(send_times[1] - send_times[0], 500ms);
  EXPECT_EQ(send_times[2] - send_times[1], 1000ms);
  EXPECT_EQ(send_times[3] - send_times[2], 2000ms);
  EXPECT_EQ(send_times[4] - send_times[3], 3000ms);  // capped at max_rto
}

TEST(IceControllingAgentTest, ConsentKeepsConnectionAliveForTwoMinutes) {
  Network net;
  auto& lite = net.add_origin(kOriginA, 100);
  net.run_for(1ms);
  ASSERT_EQ(net.edge_.state(), State::kConnected);
  bool stayed = true;
  net.on_tick = [&] {
    stayed = stayed && net.edge_.state() == State::kConnected &&
             lite.state() == IceLiteAgent::State::kConnected;
    lite.handle_timeout(net.clock_.now());
  };
  std::vector<Timestamp> consent_times;
  net.drop = [&](const Outgoing& o) {
    auto msg = stun::Message::parse(o.data);
    if (msg && !msg->use_candidate()) consent_times.push_back(net.clock_.now());
    return false;
  };
  net.run_for(120s);
  EXPECT_TRUE(stayed);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
  EXPECT_EQ(lite.state(), IceLiteAgent::State::kConnected);
  // RFC 7675 §5.1: every 5 s ±20%.
  ASSERT_GE(consent_times.size(), 20u);
  ASSERT_LE(consent_times.size(), 30u);
  EXPECT_EQ(net.edge_.counters().consent_checks_sent, consent_times.size());
  bool all_same = true;
  for (size_t i = 1; i < consent_times.size(); ++i) {
    auto gap = consent_times[i] - consent_times[i - 1];
    EXPECT_GE(gap, 4s);
    EXPECT_LE(gap, 6s);
    if (i > 1 && gap != consent_times[1] - consent_times[0]) all_same = false;
  }
  EXPECT_FALSE(all_same) << "consent interval is not randomized";
  EXPECT_EQ(net.edge_.counters().responses_ok, 1 + consent_times.size());
}

TEST(IceControllingAgentTest, SilentPeerDisconnectsAfterConsentTimeout) {
  Network net;
  net.add_origin(kOriginA, 100);
  const Timestamp connected_at = net.clock_.now();  // the first check is answered at once
  net.run_for(1ms);
  ASSERT_EQ(net.edge_.state(), State::kConnected);
  net.drop = [](const Outgoing&) { return true; };
  net.run_until(connected_at + 30s - 1ms);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
  EXPECT_GE(net.edge_.counters().consent_checks_sent, 5u);
  net.run_until(connected_at + 30s);
  EXPECT_EQ(net.edge_.state(), State::kDisconnected);
  EXPECT_FALSE(net.edge_.selected_address());
  EXPECT_EQ(net.edge_.next_timeout(), kNever);
  // Nothing more is sent once consent is lost.
  const size_t sent = net.sent.size();
  net.run_for(60s);
  EXPECT_EQ(net.sent.size(), sent);
}

TEST(IceControllingAgentTest, ConnectsViaSecondCandidateWhenFirstUnreachable) {
  Network net;
  net.add_origin(kOriginB, 100);
  net.add_origin(kOriginA, 2000, /*reachable=*/false);
  net.run_for(1s);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
  EXPECT_EQ(net.edge_.selected_address(), kOriginB);
  ASSERT_GE(net.sent.size(), 2u);
  EXPECT_EQ(net.sent[0].to, kOriginA);  // highest priority first
  EXPECT_EQ(net.sent[1].to, kOriginB);
  EXPECT_EQ(net.origin(kOriginB).selected_address(), net.local_);
  EXPECT_EQ(net.origin(kOriginA).state(), IceLiteAgent::State::kNew);
  EXPECT_EQ(net.edge_.outstanding_transactions(), 0u);  // the check to A was abandoned
}

TEST(IceControllingAgentTest, TrickledCandidateConnectsLater) {
  Network net;
  net.run_for(2s);
  EXPECT_EQ(net.edge_.state(), State::kChecking);
  EXPECT_TRUE(net.sent.empty());
  net.add_origin(kOriginA, 100);
  net.run_for(100ms);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
}

TEST(IceControllingAgentTest, NoCandidatesFailsAtConnectTimeout) {
  Network net;
  net.run_for(10s);
  EXPECT_EQ(net.edge_.state(), State::kFailed);
}

TEST(IceControllingAgentTest, RestartWithNewCredentialsReconnects) {
  Network net;
  auto& lite = net.add_origin(kOriginA, 100);
  net.run_for(1ms);
  ASSERT_EQ(net.edge_.state(), State::kConnected);
  const uint64_t ok_before = lite.counters().success_responses;

  lite.restart("orgU2", "origin-password-2-abcdefghij", std::string("edgU2"), "edge-password-2-abcdefghijk");
  net.edge_.restart("edgU2", "edge-password-2-abcdefghijk", "orgU2", "origin-password-2-abcdefghij");
  EXPECT_EQ(net.edge_.state(), State::kNew);
  EXPECT_FALSE(net.edge_.selected_address());
  EXPECT_EQ(net.edge_.local_ufrag(), "edgU2");
  const size_t sent_before = net.sent.size();
  net.run_for(1ms);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
  EXPECT_EQ(net.edge_.selected_address(), kOriginA);
  EXPECT_EQ(lite.counters().success_responses, ok_before + 1);
  auto msg = stun::Message::parse(net.sent[sent_before].data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->username(), "orgU2:edgU2");
}

TEST(IceControllingAgentTest, RestartAfterFailureReconnects) {
  Network net({}, "wrong-password-0123456789");
  net.add_origin(kOriginA, 100);
  net.run_for(10s);
  ASSERT_EQ(net.edge_.state(), State::kFailed);
  net.edge_.restart(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd);
  net.run_for(1ms);
  EXPECT_EQ(net.edge_.state(), State::kConnected);
}

TEST(IceControllingAgentTest, BoundsOutstandingTransactions) {
  Network net;
  for (int i = 0; i < 40; ++i) {
    std::string a = "198.51.100." + std::to_string(i + 1) + ":5000";
    net.edge_.add_remote_candidate(addr(a.c_str()), uint32_t(1000 - i));
  }
  size_t max_outstanding = 0;
  net.on_tick = [&] { max_outstanding = std::max(max_outstanding, net.edge_.outstanding_transactions()); };
  net.run_for(9s);
  EXPECT_EQ(max_outstanding, IceControllingAgent::kMaxOutstanding);
  EXPECT_EQ(net.edge_.state(), State::kChecking);
  // Round-robin in priority order for the first wave.
  for (size_t i = 0; i < IceControllingAgent::kMaxOutstanding; ++i) {
    std::string a = "198.51.100." + std::to_string(i + 1) + ":5000";
    EXPECT_EQ(net.sent[i].to, addr(a.c_str()));
  }
}

// ---------------------------------------------------------------------------------------
// Responses that must be ignored

struct BadResponse {
  const char* name;
  bool right_tid;
  std::string key;
  bool from_elsewhere;
  bool with_mapped;
  bool success;  // false: error response
  uint16_t error_code;
};

class IgnoredResponseTest : public ::testing::TestWithParam<BadResponse> {};

TEST_P(IgnoredResponseTest, DoesNotConnect) {
  const BadResponse& p = GetParam();
  IceControllingAgent edge(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd, kTieBreaker);
  edge.add_remote_candidate(kOriginA, 100);
  FakeClock clock;
  std::vector<Outgoing> out;
  edge.handle_timeout(clock.now(), out);
  ASSERT_EQ(out.size(), 1u);
  auto request = stun::Message::parse(out[0].data);
  ASSERT_TRUE(request);
  auto tid = p.right_tid ? request->transaction_id() : stun::random_transaction_id();
  auto builder = p.success ? stun::MessageBuilder::binding_success(tid) : stun::MessageBuilder::binding_error(tid);
  if (p.with_mapped) builder.add_xor_mapped_address(addr("192.0.2.10:40000"));
  if (!p.success) builder.add_error_code(p.error_code, "x");
  Bytes response = builder.finish(p.key);
  std::vector<Outgoing> replies;
  edge.handle_stun(response, p.from_elsewhere ? kOriginB : kOriginA, clock.now(), replies);
  EXPECT_TRUE(replies.empty());
  EXPECT_EQ(edge.state(), State::kChecking);
  EXPECT_FALSE(edge.selected_address());
  EXPECT_EQ(edge.counters().responses_ok, 0u);
  const auto& c = edge.counters();
  EXPECT_EQ(c.responses_bad + c.unknown_transaction + c.role_conflicts + c.error_responses, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IgnoredResponseTest,
    ::testing::Values(BadResponse{"unknown_tid", false, kOriginPwd, false, true, true, 0},
                      BadResponse{"wrong_key", true, "forged-key-0123456789", false, true, true, 0},
                      BadResponse{"local_key", true, kEdgePwd, false, true, true, 0},
                      BadResponse{"wrong_source", true, kOriginPwd, true, true, true, 0},
                      BadResponse{"no_xor_mapped", true, kOriginPwd, false, false, true, 0},
                      BadResponse{"role_conflict", true, kOriginPwd, false, false, false, 487},
                      BadResponse{"bad_request", true, kOriginPwd, false, false, false, 400},
                      BadResponse{"unauth_error", true, "forged-key-0123456789", false, false, false, 487}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(IceControllingAgentTest, RoleConflictIsCountedAndCandidateRetried) {
  IceControllingAgent edge(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd, kTieBreaker);
  edge.add_remote_candidate(kOriginA, 100);
  FakeClock clock;
  std::vector<Outgoing> out;
  edge.handle_timeout(clock.now(), out);
  auto request = stun::Message::parse(out[0].data);
  Bytes error = stun::MessageBuilder::binding_error(request->transaction_id())
                    .add_error_code(487, "Role Conflict")
                    .finish(kOriginPwd);
  edge.handle_stun(error, kOriginA, clock.now(), out);
  EXPECT_EQ(edge.counters().role_conflicts, 1u);
  EXPECT_EQ(edge.outstanding_transactions(), 0u);
  out.clear();
  clock.advance(50ms);
  edge.handle_timeout(clock.now(), out);
  ASSERT_EQ(out.size(), 1u);  // a fresh check on the next Ta
  EXPECT_NE(stun::Message::parse(out[0].data)->transaction_id(), request->transaction_id());
}

TEST(IceControllingAgentTest, ForgedResponseDoesNotCancelRealTransaction) {
  IceControllingAgent edge(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd, kTieBreaker);
  edge.add_remote_candidate(kOriginA, 100);
  FakeClock clock;
  std::vector<Outgoing> out;
  edge.handle_timeout(clock.now(), out);
  auto tid = stun::Message::parse(out[0].data)->transaction_id();
  Bytes forged = stun::MessageBuilder::binding_error(tid).add_error_code(487, "x").finish("guess");
  edge.handle_stun(forged, kOriginA, clock.now(), out);
  Bytes real = stun::MessageBuilder::binding_success(tid).add_xor_mapped_address(addr("192.0.2.1:1")).finish(kOriginPwd);
  edge.handle_stun(real, kOriginA, clock.now(), out);
  EXPECT_EQ(edge.state(), State::kConnected);
  // A duplicate of the same response is an unknown transaction now.
  edge.handle_stun(real, kOriginA, clock.now(), out);
  EXPECT_EQ(edge.counters().unknown_transaction, 1u);
}

TEST(IceControllingAgentTest, GarbageAndTruncatedDatagramsAreIgnored) {
  Network net;
  net.add_origin(kOriginA, 100);
  net.drop = [](const Outgoing&) { return true; };
  net.run_for(1ms);
  Bytes valid = stun::MessageBuilder::binding_success(stun::random_transaction_id())
                    .add_xor_mapped_address(net.local_)
                    .finish(kOriginPwd);
  std::mt19937 rng(7);
  std::vector<Outgoing> out;
  for (size_t len = 0; len <= valid.size(); ++len) {
    net.edge_.handle_stun(ByteSpan(valid.data(), len), kOriginA, net.clock_.now(), out);
  }
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(rng() % 120);
    for (auto& b : junk) b = uint8_t(rng());
    if (junk.size() >= 8 && i % 2 == 0) {  // make some pass the header checks
      junk[0] &= 0x3f;
      store_be16(&junk[2], uint16_t((junk.size() - 20) & ~3u));
      store_be32(&junk[4], stun::kMagicCookie);
    }
    net.edge_.handle_stun(junk, kOriginA, net.clock_.now(), out);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(net.edge_.state(), State::kChecking);
  EXPECT_GT(net.edge_.counters().responses_bad, 0u);
}

// ---------------------------------------------------------------------------------------
// Requests from the peer (a lite peer never sends them; a full agent answers anyway)

struct PeerRequest {
  const char* name;
  std::string username;
  std::string key;
  bool controlling;
  enum { kNone, kSuccess, kRoleConflict } expect;
};

class PeerRequestTest : public ::testing::TestWithParam<PeerRequest> {};

TEST_P(PeerRequestTest, AnswersOnlyAuthenticatedRequests) {
  const PeerRequest& p = GetParam();
  IceControllingAgent edge(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd, kTieBreaker);
  auto tid = stun::random_transaction_id();
  auto builder = stun::MessageBuilder::binding_request(tid);
  builder.add_username(p.username).add_priority(1);
  if (p.controlling) {
    builder.add_ice_controlling(7);
  } else {
    builder.add_ice_controlled(7);
  }
  Bytes request = builder.finish(p.key);
  std::vector<Outgoing> out;
  edge.handle_stun(request, kOriginA, FakeClock().now(), out);
  if (p.expect == PeerRequest::kNone) {
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(edge.counters().requests_rejected, 1u);
    return;
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, kOriginA);
  auto response = stun::Message::parse(out[0].data);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->transaction_id(), tid);
  EXPECT_TRUE(response->verify_message_integrity(kEdgePwd));
  EXPECT_TRUE(response->verify_fingerprint());
  if (p.expect == PeerRequest::kSuccess) {
    EXPECT_EQ(response->message_class(), stun::MessageClass::kSuccessResponse);
    EXPECT_EQ(response->xor_mapped_address(), kOriginA);
    EXPECT_EQ(edge.counters().requests_answered, 1u);
  } else {
    EXPECT_EQ(response->message_class(), stun::MessageClass::kErrorResponse);
    EXPECT_EQ(response->error_code()->code, 487);
  }
  EXPECT_EQ(edge.state(), State::kNew);  // requests never change our state
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PeerRequestTest,
    ::testing::Values(PeerRequest{"valid", "edgU:orgU", kEdgePwd, false, PeerRequest::kSuccess},
                      PeerRequest{"both_controlling", "edgU:orgU", kEdgePwd, true, PeerRequest::kRoleConflict},
                      PeerRequest{"wrong_key", "edgU:orgU", kOriginPwd, false, PeerRequest::kNone},
                      PeerRequest{"reversed_username", "orgU:edgU", kEdgePwd, false, PeerRequest::kNone},
                      PeerRequest{"wrong_remote_ufrag", "edgU:other", kEdgePwd, false, PeerRequest::kNone},
                      PeerRequest{"no_colon", "edgU", kEdgePwd, false, PeerRequest::kNone}),
    [](const auto& info) { return std::string(info.param.name); });

// The origin's verification request as IceLiteAgent builds it, answered by our agent and
// accepted by the origin: what lets an origin send an edge its relay.
TEST(IceControllingAgentTest, AnswersTheLitePeersVerificationRequest) {
  IceLiteAgent origin(kOriginUfrag, kOriginPwd, std::string(kEdgeUfrag), kEdgePwd);
  IceControllingAgent edge(kEdgeUfrag, kEdgePwd, kOriginUfrag, kOriginPwd, kTieBreaker);
  const SocketAddress edge_addr = addr("192.0.2.10:40000");
  std::vector<Outgoing> out;
  edge.add_remote_candidate(kOriginA, 100);
  edge.handle_timeout(FakeClock().now(), out);
  ASSERT_EQ(out.size(), 1u);
  auto r = origin.handle_binding(out[0].data, edge_addr, FakeClock().now());
  ASSERT_TRUE(r.request);
  EXPECT_LE(r.request->size(), out[0].data.size()) << "no larger than our check";
  std::vector<Outgoing> replies;
  edge.handle_stun(*r.request, kOriginA, FakeClock().now(), replies);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].to, kOriginA);
  EXPECT_EQ(edge.counters().requests_answered, 1u);
  auto v = origin.handle_binding(replies[0].data, edge_addr, FakeClock().now());
  EXPECT_TRUE(v.verified);
  EXPECT_EQ(origin.selected_address(), edge_addr);
}

}  // namespace
}  // namespace strata::ice
