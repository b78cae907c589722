// One contract, two backends: every test here runs against MemoryRegistry (time moved by
// a FakeClock) and RedisRegistry (a private redis-server, time passed by sleeping).
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "redis_server.hpp"
#include "registry/memory_registry.hpp"
#include "registry/redis_registry.hpp"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;
using testing::RedisServer;

struct MemoryBackend {
  static constexpr const char* kName = "memory";
  FakeClock clock;
  std::unique_ptr<Registry> make() { return make_registry("memory", clock, nullptr); }
  bool start(std::string*) { return true; }
  void pass(Duration d) { clock.advance(d); }
};

struct RedisBackend {
  static constexpr const char* kName = "redis";
  SteadyClock clock;
  RedisServer server;
  bool start(std::string* why) {
    if (!RedisServer::available()) {
      *why = std::string(RedisServer::kBinary) + " not found; install redis-server to run Redis tests";
      return false;
    }
    if (!server.start()) {
      *why = "could not start redis-server";
      return false;
    }
    return true;
  }
  std::unique_ptr<Registry> make() {
    std::string error;
    return make_registry(server.url(), clock, &error);
  }
  void pass(Duration d) { std::this_thread::sleep_for(d); }
};

template <typename Backend>
class RegistryContract : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!backend_.start(&why)) GTEST_SKIP() << why;
    reg_ = backend_.make();
    ASSERT_NE(reg_, nullptr);
  }
  void TearDown() override { reg_.reset(); }

  Backend backend_;
  std::unique_ptr<Registry> reg_;
};

using Backends = ::testing::Types<MemoryBackend, RedisBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) { return T::kName; }
};
TYPED_TEST_SUITE(RegistryContract, Backends, BackendNames);

NodeRecord node(std::string id, std::string region, std::string role = "edge") {
  NodeRecord n;
  n.id = std::move(id);
  n.region = std::move(region);
  n.role = std::move(role);
  n.http_url = "http://" + n.id + ":8080";
  return n;
}

std::vector<std::string> ids(const std::vector<NodeRecord>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n.id);
  return out;
}

StreamClaim claim(std::string stream, std::string origin) {
  return {std::move(stream), origin, "eu", "http://" + origin + ":8080"};
}

// ---- nodes --------------------------------------------------------------------

TYPED_TEST(RegistryContract, NodesAreListedPerRegionWithAllFields) {
  NodeRecord full = node("o1", "eu", "origin");
  full.cpu = 0.25;
  full.egress_bps = 12'000'000'000ull;
  full.sessions = 42;
  full.capacity = 500;
  full.draining = true;
  ASSERT_TRUE(this->reg_->put_node(full, 5s));
  ASSERT_TRUE(this->reg_->put_node(node("e2", "eu"), 5s));
  ASSERT_TRUE(this->reg_->put_node(node("e1", "us"), 5s));

  struct Case {
    std::string region;
    std::vector<std::string> ids;
  };
  for (const Case& c : std::vector<Case>{{"eu", {"e2", "o1"}}, {"us", {"e1"}}, {"ap", {}}, {"e*", {}}}) {
    EXPECT_EQ(ids(this->reg_->nodes(c.region)), c.ids) << "region " << c.region;
  }
  auto eu = this->reg_->nodes("eu");
  ASSERT_EQ(eu.size(), 2u);
  const NodeRecord& got = eu[1];
  EXPECT_EQ(got.role, "origin");
  EXPECT_EQ(got.region, "eu");
  EXPECT_EQ(got.http_url, "http://o1:8080");
  EXPECT_DOUBLE_EQ(got.cpu, 0.25);
  EXPECT_EQ(got.egress_bps, 12'000'000'000ull);
  EXPECT_EQ(got.sessions, 42u);
  EXPECT_EQ(got.capacity, 500u);
  EXPECT_TRUE(got.draining);
}

TYPED_TEST(RegistryContract, PutNodeOverwritesAndRemoveNodeDeletes) {
  NodeRecord n = node("e1", "eu");
  ASSERT_TRUE(this->reg_->put_node(n, 5s));
  n.sessions = 7;
  ASSERT_TRUE(this->reg_->put_node(n, 5s));
  auto eu = this->reg_->nodes("eu");
  ASSERT_EQ(eu.size(), 1u);
  EXPECT_EQ(eu[0].sessions, 7u);
  EXPECT_TRUE(this->reg_->remove_node(n));
  EXPECT_TRUE(this->reg_->nodes("eu").empty());
  EXPECT_TRUE(this->reg_->remove_node(n));  // idempotent
}

TYPED_TEST(RegistryContract, InvalidArgumentsAreRejected) {
  EXPECT_FALSE(this->reg_->put_node(node("", "eu"), 5s));
  EXPECT_FALSE(this->reg_->put_node(node("e1", "eu"), 0s));
  EXPECT_EQ(this->reg_->claim_stream(claim("", "o1"), 5s), ClaimResult::kError);
  EXPECT_EQ(this->reg_->claim_stream(claim("s", ""), 5s), ClaimResult::kError);
  EXPECT_EQ(this->reg_->claim_stream(claim("s", "o1"), 500us), ClaimResult::kError);
  EXPECT_FALSE(this->reg_->put_relay("eu", "s", "", 5s));
  EXPECT_FALSE(this->reg_->put_relay("eu", "s", "e1", 0s));
}

TYPED_TEST(RegistryContract, NodeExpiresWhenNotRefreshed) {
  ASSERT_TRUE(this->reg_->put_node(node("stale", "eu"), 600ms));
  ASSERT_TRUE(this->reg_->put_node(node("fresh", "eu"), 600ms));
  this->backend_.pass(400ms);
  ASSERT_TRUE(this->reg_->put_node(node("fresh", "eu"), 600ms));  // the 1 s heartbeat
  EXPECT_EQ(ids(this->reg_->nodes("eu")), (std::vector<std::string>{"fresh", "stale"}));
  this->backend_.pass(400ms);
  EXPECT_EQ(ids(this->reg_->nodes("eu")), (std::vector<std::string>{"fresh"}));
  this->backend_.pass(400ms);
  EXPECT_TRUE(this->reg_->nodes("eu").empty());
}

// A read tells how long each record has left (Redis PTTL / the memory backend's expiry),
// and a read the backend answered is ok, also when it found nothing.
TYPED_TEST(RegistryContract, NodeReadsReportTimeLeftAndSuccess) {
  ASSERT_TRUE(this->reg_->put_node(node("e1", "eu"), 3s));
  this->backend_.pass(1s);
  auto read = this->reg_->read_nodes("eu");
  ASSERT_TRUE(read.ok);
  ASSERT_EQ(read.value.size(), 1u);
  EXPECT_GT(read.value[0].ttl_left, Duration(1500ms));
  EXPECT_LE(read.value[0].ttl_left, Duration(2s));
  auto none = this->reg_->read_nodes("ap");
  EXPECT_TRUE(none.ok);
  EXPECT_TRUE(none.value.empty());
  EXPECT_TRUE(this->reg_->read_stream("nothing").ok);
  EXPECT_FALSE(this->reg_->read_stream("nothing").value);
  EXPECT_TRUE(this->reg_->read_relays("eu", "nothing").ok);
  EXPECT_TRUE(this->reg_->read_streams().ok);
}

// ---- stream claims -------------------------------------------------------------

TYPED_TEST(RegistryContract, ClaimIsSetIfAbsentAndOnlyTheOwnerRefreshesOrReleases) {
  enum class Op { kClaim, kRefresh, kRelease };
  struct Step {
    const char* origin;
    Op op;
    int expected;  // ClaimResult for kClaim, bool otherwise
    const char* owner_after;  // "" = unclaimed
  };
  const std::vector<Step> steps = {
      {"o1", Op::kRefresh, false, ""},  // nothing to refresh
      {"o1", Op::kRelease, false, ""},
      {"o1", Op::kClaim, int(ClaimResult::kClaimed), "o1"},
      {"o2", Op::kClaim, int(ClaimResult::kTaken), "o1"},
      {"o1", Op::kClaim, int(ClaimResult::kAlreadyOurs), "o1"},
      {"o2", Op::kRefresh, false, "o1"},
      {"o2", Op::kRelease, false, "o1"},
      {"o1", Op::kRefresh, true, "o1"},
      {"o1", Op::kRelease, true, ""},
      {"o1", Op::kRelease, false, ""},
      {"o2", Op::kClaim, int(ClaimResult::kClaimed), "o2"},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    StreamClaim c = claim("live", s.origin);
    int got = 0;
    switch (s.op) {
      case Op::kClaim: got = int(this->reg_->claim_stream(c, 5s)); break;
      case Op::kRefresh: got = this->reg_->refresh_claim(c, 5s); break;
      case Op::kRelease: got = this->reg_->release_claim(c); break;
    }
    EXPECT_EQ(got, s.expected) << "step " << i;
    auto owner = this->reg_->stream("live");
    EXPECT_EQ(owner ? owner->origin_id : "", s.owner_after) << "step " << i;
  }
  auto owner = this->reg_->stream("live");
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->stream, "live");
  EXPECT_EQ(owner->origin_region, "eu");
  EXPECT_EQ(owner->origin_url, "http://o2:8080");
}

TYPED_TEST(RegistryContract, ClaimExpiresUnlessRefreshed) {
  ASSERT_EQ(this->reg_->claim_stream(claim("a", "o1"), 600ms), ClaimResult::kClaimed);
  ASSERT_EQ(this->reg_->claim_stream(claim("b", "o1"), 600ms), ClaimResult::kClaimed);
  this->backend_.pass(400ms);
  ASSERT_TRUE(this->reg_->refresh_claim(claim("a", "o1"), 600ms));
  this->backend_.pass(400ms);
  EXPECT_TRUE(this->reg_->stream("a"));
  EXPECT_FALSE(this->reg_->stream("b"));
  EXPECT_FALSE(this->reg_->refresh_claim(claim("b", "o1"), 600ms));  // lost: must re-claim
  // Once expired, another origin can take it.
  EXPECT_EQ(this->reg_->claim_stream(claim("b", "o2"), 600ms), ClaimResult::kClaimed);
}

TYPED_TEST(RegistryContract, StreamsListsLiveClaims) {
  EXPECT_TRUE(this->reg_->streams().empty());
  ASSERT_EQ(this->reg_->claim_stream(claim("s2", "o2"), 5s), ClaimResult::kClaimed);
  ASSERT_EQ(this->reg_->claim_stream(claim("s1", "o1"), 5s), ClaimResult::kClaimed);
  ASSERT_EQ(this->reg_->claim_stream(claim("short", "o1"), 300ms), ClaimResult::kClaimed);
  this->backend_.pass(500ms);
  auto all = this->reg_->streams();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].stream, "s1");
  EXPECT_EQ(all[0].origin_id, "o1");
  EXPECT_EQ(all[1].stream, "s2");
  EXPECT_EQ(all[1].origin_id, "o2");
  EXPECT_FALSE(this->reg_->stream("nope"));
}

// ---- a live's hosts -------------------------------------------------------------

std::vector<std::string> names(const Read<std::vector<StreamClaim>>& read) {
  std::vector<std::string> out;
  for (const auto& c : read.value) out.push_back(c.stream);
  return out;
}

TYPED_TEST(RegistryContract, LiveListsItsHostStreamsSortedByName) {
  EXPECT_TRUE(this->reg_->read_live("cam").ok);
  EXPECT_TRUE(this->reg_->read_live("cam").value.empty());
  for (const char* stream : {"cam/zoe", "cam/ann", "cam", "cam2/x", "other/bob", "cam/mia"}) {
    ASSERT_EQ(this->reg_->claim_stream(claim(stream, "o1"), 5s), ClaimResult::kClaimed) << stream;
  }
  ASSERT_EQ(host_stream("cam", "bob"), "cam/bob");
  ASSERT_EQ(this->reg_->claim_stream(claim(host_stream("cam", "bob"), "o2"), 5s), ClaimResult::kClaimed);
  auto live = this->reg_->read_live("cam");
  ASSERT_TRUE(live.ok);
  EXPECT_EQ(names(live), (std::vector<std::string>{"cam/ann", "cam/bob", "cam/mia", "cam/zoe"}));
  EXPECT_EQ(live.value[1].origin_id, "o2");
  EXPECT_EQ(live.value[1].origin_region, "eu");
  EXPECT_EQ(live.value[1].origin_url, "http://o2:8080");
  EXPECT_EQ(names(this->reg_->read_live("cam2")), (std::vector<std::string>{"cam2/x"}));
  EXPECT_EQ(names(this->reg_->read_live("other")), (std::vector<std::string>{"other/bob"}));
  EXPECT_TRUE(this->reg_->read_live("ca").value.empty());
  EXPECT_TRUE(this->reg_->read_live("nobody").value.empty());
}

TYPED_TEST(RegistryContract, LiveDropsReleasedAndExpiredHostsAndKeepsRefreshedOnes) {
  ASSERT_EQ(this->reg_->claim_stream(claim("cam/gone", "o1"), 600ms), ClaimResult::kClaimed);
  ASSERT_EQ(this->reg_->claim_stream(claim("cam/kept", "o1"), 600ms), ClaimResult::kClaimed);
  ASSERT_EQ(this->reg_->claim_stream(claim("cam/lapsed", "o1"), 600ms), ClaimResult::kClaimed);
  ASSERT_TRUE(this->reg_->release_claim(claim("cam/gone", "o1")));
  EXPECT_EQ(names(this->reg_->read_live("cam")), (std::vector<std::string>{"cam/kept", "cam/lapsed"}));
  this->backend_.pass(400ms);
  ASSERT_TRUE(this->reg_->refresh_claim(claim("cam/kept", "o1"), 600ms));
  this->backend_.pass(400ms);
  EXPECT_EQ(names(this->reg_->read_live("cam")), (std::vector<std::string>{"cam/kept"}));
  // A host that comes back is listed again.
  ASSERT_EQ(this->reg_->claim_stream(claim("cam/gone", "o2"), 600ms), ClaimResult::kClaimed);
  EXPECT_EQ(names(this->reg_->read_live("cam")), (std::vector<std::string>{"cam/gone", "cam/kept"}));
}

TYPED_TEST(RegistryContract, HostStreamOfAnotherOriginCannotBeTaken) {
  ASSERT_EQ(this->reg_->claim_stream(claim("cam/ann", "o1"), 5s), ClaimResult::kClaimed);
  EXPECT_EQ(this->reg_->claim_stream(claim("cam/ann", "o2"), 5s), ClaimResult::kTaken);
  EXPECT_FALSE(this->reg_->release_claim(claim("cam/ann", "o2")));
  auto live = this->reg_->read_live("cam");
  ASSERT_TRUE(live.ok);
  ASSERT_EQ(names(live), (std::vector<std::string>{"cam/ann"}));
  EXPECT_EQ(live.value[0].origin_id, "o1");
  EXPECT_EQ(live.value[0].origin_url, "http://o1:8080");
}

// ---- relays -------------------------------------------------------------------

TYPED_TEST(RegistryContract, RelaysArePerRegionAndStream) {
  struct Put {
    const char* region;
    const char* stream;
    const char* edge;
  };
  for (const Put& p : std::vector<Put>{{"eu", "s", "e2"}, {"eu", "s", "e1"}, {"us", "s", "u1"},
                                       {"eu", "t", "e3"}, {"eu", "s", "e1"}}) {
    ASSERT_TRUE(this->reg_->put_relay(p.region, p.stream, p.edge, 5s));
  }
  struct Case {
    const char* region;
    const char* stream;
    std::vector<std::string> edges;
  };
  for (const Case& c : std::vector<Case>{{"eu", "s", {"e1", "e2"}},
                                         {"us", "s", {"u1"}},
                                         {"eu", "t", {"e3"}},
                                         {"us", "t", {}},
                                         {"ap", "s", {}}}) {
    EXPECT_EQ(this->reg_->relays(c.region, c.stream), c.edges) << c.region << "/" << c.stream;
  }
  EXPECT_TRUE(this->reg_->remove_relay("eu", "s", "e2"));
  EXPECT_TRUE(this->reg_->remove_relay("eu", "s", "missing"));
  EXPECT_EQ(this->reg_->relays("eu", "s"), (std::vector<std::string>{"e1"}));
}

TYPED_TEST(RegistryContract, RelayExpiresPerEdge) {
  ASSERT_TRUE(this->reg_->put_relay("eu", "s", "long", 5s));
  ASSERT_TRUE(this->reg_->put_relay("eu", "s", "short", 300ms));
  EXPECT_EQ(this->reg_->relays("eu", "s"), (std::vector<std::string>{"long", "short"}));
  this->backend_.pass(500ms);
  EXPECT_EQ(this->reg_->relays("eu", "s"), (std::vector<std::string>{"long"}));
  // A short TTL written after a long one must not shorten the others' life.
  ASSERT_TRUE(this->reg_->put_relay("eu", "s", "short", 300ms));
  this->backend_.pass(500ms);
  EXPECT_EQ(this->reg_->relays("eu", "s"), (std::vector<std::string>{"long"}));
}

// ---- events -------------------------------------------------------------------

class EventSink {
 public:
  void operator()(const Event& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  // Waits up to 2 s for `count` events.
  std::vector<Event> wait_for(size_t count) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 2s, [&] { return events_.size() >= count; });
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

TYPED_TEST(RegistryContract, PublishedEventsReachSubscribers) {
  auto sink = std::make_shared<EventSink>();
  this->reg_->subscribe([sink](const Event& e) { (*sink)(e); });
  ASSERT_TRUE(this->reg_->publish({Event::Kind::kStreamEnded, "s1", "o1"}));
  ASSERT_TRUE(this->reg_->publish({Event::Kind::kStreamMoved, "s2", "o2"}));
  auto got = sink->wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Event::Kind::kStreamEnded);
  EXPECT_EQ(got[0].stream, "s1");
  EXPECT_EQ(got[0].origin_id, "o1");
  EXPECT_EQ(got[1].kind, Event::Kind::kStreamMoved);
  EXPECT_EQ(got[1].stream, "s2");
  EXPECT_EQ(got[1].origin_id, "o2");
}

TYPED_TEST(RegistryContract, HandlerMayCallBackIntoTheRegistry) {
  auto sink = std::make_shared<EventSink>();
  Registry* reg = this->reg_.get();
  ASSERT_EQ(reg->claim_stream(claim("s", "o1"), 5s), ClaimResult::kClaimed);
  reg->subscribe([reg, sink](const Event& e) {
    if (e.kind == Event::Kind::kStreamEnded) {
      reg->release_claim(claim(e.stream, e.origin_id));
      reg->publish({Event::Kind::kStreamMoved, e.stream, "o2"});  // re-entrant publish
    }
    (*sink)(e);
  });
  ASSERT_TRUE(reg->publish({Event::Kind::kStreamEnded, "s", "o1"}));
  auto got = sink->wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].kind, Event::Kind::kStreamMoved);
  EXPECT_FALSE(reg->stream("s"));
}

TYPED_TEST(RegistryContract, EveryHandlerReceivesEachEvent) {
  auto a = std::make_shared<EventSink>();
  auto b = std::make_shared<EventSink>();
  this->reg_->subscribe([a](const Event& e) { (*a)(e); });
  this->reg_->subscribe([b](const Event& e) { (*b)(e); });
  ASSERT_TRUE(this->reg_->publish({Event::Kind::kStreamEnded, "s", "o"}));
  EXPECT_EQ(a->wait_for(1).size(), 1u);
  EXPECT_EQ(b->wait_for(1).size(), 1u);
}

TYPED_TEST(RegistryContract, IsHealthy) { EXPECT_TRUE(this->reg_->healthy()); }

}  // namespace
}  // namespace strata::registry
