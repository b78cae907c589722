// One truth for "alive" (issue 10): the broker never places on a node that the registry no
// longer lists or whose record ran out, whatever its cache or its recent-placement
// bookkeeping hold, and its node list shows exactly what placements choose from. Runs the
// broker on the real MemoryRegistry behind the real CachedRegistry, on fake time.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "broker/broker.hpp"
#include "registry/cached_registry.hpp"
#include "registry/memory_registry.hpp"

namespace strata::broker {
namespace {

using namespace std::chrono_literals;

constexpr Duration kNodeTtl = 3s;  // what nodes write (SessionManagerOptions::node_ttl)

registry::NodeRecord edge(std::string id, uint32_t sessions = 0) {
  registry::NodeRecord n;
  n.id = id;
  n.role = "edge";
  n.region = "eu";
  n.http_url = "http://" + id + ":8080";
  n.sessions = sessions;
  n.capacity = 100;
  return n;
}

// A MemoryRegistry whose reads can be made to fail (a Redis that is away).
class FlakyRegistry final : public registry::Registry {
 public:
  explicit FlakyRegistry(const Clock& clock) : mem(clock) {}
  bool put_node(const registry::NodeRecord& n, Duration ttl) override { return mem.put_node(n, ttl); }
  bool remove_node(const registry::NodeRecord& n) override { return mem.remove_node(n); }
  registry::Read<std::vector<registry::NodeRecord>> read_nodes(std::string_view r) override {
    return down ? registry::Read<std::vector<registry::NodeRecord>>{} : mem.read_nodes(r);
  }
  registry::ClaimResult claim_stream(const registry::StreamClaim& c, Duration ttl) override {
    return mem.claim_stream(c, ttl);
  }
  bool refresh_claim(const registry::StreamClaim& c, Duration ttl) override { return mem.refresh_claim(c, ttl); }
  bool release_claim(const registry::StreamClaim& c) override { return mem.release_claim(c); }
  registry::Read<std::optional<registry::StreamClaim>> read_stream(std::string_view n) override {
    return down ? registry::Read<std::optional<registry::StreamClaim>>{} : mem.read_stream(n);
  }
  registry::Read<std::vector<registry::StreamClaim>> read_streams() override {
    return down ? registry::Read<std::vector<registry::StreamClaim>>{} : mem.read_streams();
  }
  registry::Read<std::vector<registry::StreamClaim>> read_live(std::string_view l) override {
    return down ? registry::Read<std::vector<registry::StreamClaim>>{} : mem.read_live(l);
  }
  bool put_relay(std::string_view r, std::string_view s, std::string_view e, Duration ttl) override {
    return mem.put_relay(r, s, e, ttl);
  }
  bool remove_relay(std::string_view r, std::string_view s, std::string_view e) override {
    return mem.remove_relay(r, s, e);
  }
  registry::Read<std::vector<std::string>> read_relays(std::string_view r, std::string_view s) override {
    return down ? registry::Read<std::vector<std::string>>{} : mem.read_relays(r, s);
  }
  bool publish(const registry::Event& e) override { return mem.publish(e); }
  void subscribe(std::function<void(const registry::Event&)> h) override { mem.subscribe(std::move(h)); }
  bool healthy() override { return !down; }

  registry::MemoryRegistry mem;
  bool down = false;
};

class BrokerLivenessTest : public ::testing::Test {
 protected:
  BrokerLivenessTest() {
    auto backend = std::make_unique<FlakyRegistry>(clock_);
    backend_ = backend.get();
    registry::CachedRegistry::Options o;  // what `strata broker` runs with
    o.background_refresh = false;         // refreshes inline, on the fake clock
    cache_ = std::make_unique<registry::CachedRegistry>(std::move(backend), clock_, o);
    BrokerOptions opts;
    opts.region = "eu";
    opts.recent_placement_window = 3s;  // as `strata broker`
    broker_ = std::make_unique<Broker>(*cache_, opts, [this] { return coin_++; });
    backend_->claim_stream({"cam/host", "o1", "eu", "http://o1:8080"}, 3600s);
  }

  http::Request whep_request() {
    http::Request req;
    req.method = "POST";
    req.target = "/whep/cam";
    req.path_params["stream"] = "cam";
    return req;
  }
  // The edge a WHEP is sent to ("" for a refusal).
  std::string place() {
    auto r = broker_->handle_whep(whep_request());
    if (r.status != 307) return "";
    std::string loc = r.header("Location").value_or("");
    return loc.substr(7, loc.find(':', 7) - 7);  // http://<id>:8080/...
  }
  std::set<std::string> listed() {
    http::Request req;
    req.method = "GET";
    auto j = nlohmann::json::parse(broker_->handle_nodes(req).body, nullptr, false);
    std::set<std::string> ids;
    if (j.is_object()) {
      for (auto& n : j["nodes"]) ids.insert(n.value("id", ""));
    }
    return ids;
  }
  void heartbeat(const std::vector<std::string>& ids) {
    for (auto& id : ids) backend_->put_node(edge(id), kNodeTtl);
  }

  FakeClock clock_;
  FlakyRegistry* backend_ = nullptr;
  std::unique_ptr<registry::CachedRegistry> cache_;
  std::unique_ptr<Broker> broker_;
  uint64_t coin_ = 0;
};

// e3 is killed right after taking viewers: placements made on it just before (recent
// placements count for 3 s) and a cache entry younger than max_stale must not bring it back
// once its record has run out — neither in placements nor in the list.
TEST_F(BrokerLivenessTest, KilledNodeIsNeverChosenAfterItsRecordRunsOut) {
  heartbeat({"e1", "e2", "e3"});
  std::map<std::string, int> before;
  for (int i = 0; i < 6; ++i) ++before[place()];
  ASSERT_GT(before["e3"], 0) << "e3 took no viewer before the kill: the test shows nothing";
  // e3 dies; e1 and e2 keep writing every second. Every 100 ms: the list and placements.
  for (int ms = 0; ms <= 5000; ms += 100) {
    if (ms % 1000 == 0) heartbeat({"e1", "e2"});
    clock_.advance(100ms);
    std::set<std::string> ids = listed();
    std::string chosen = place();
    ASSERT_FALSE(chosen.empty()) << "at " << ms << " ms";
    EXPECT_TRUE(ids.count(chosen)) << chosen << " was chosen at " << ms << " ms but is not listed";
    if (ms >= int(to_millis(kNodeTtl))) {
      EXPECT_FALSE(ids.count("e3")) << "e3 still listed " << ms << " ms after its last heartbeat";
      EXPECT_NE(chosen, "e3") << "e3 chosen " << ms << " ms after its last heartbeat";
    }
  }
}

// The backend goes away right after a read: the cached answer is served (nothing refused),
// but its records keep ageing, so a node that stopped writing drops out on time.
TEST_F(BrokerLivenessTest, CachedAnswerDuringAnOutageStillAgesItsRecords) {
  heartbeat({"e1"});
  clock_.advance(1s);
  heartbeat({"e2"});  // e2's record outlives e1's by a second
  EXPECT_EQ(listed(), (std::set<std::string>{"e1", "e2"}));
  EXPECT_FALSE(place().empty());  // the stream's claim is read (and cached) too
  backend_->down = true;
  clock_.advance(1500ms);  // e1: 2.5 s since it wrote, e2: 1.5 s
  EXPECT_EQ(listed(), (std::set<std::string>{"e1", "e2"}));
  EXPECT_FALSE(place().empty());
  clock_.advance(700ms);  // e1's record (3 s) has run out; the entry is 2.2 s old
  EXPECT_EQ(listed(), (std::set<std::string>{"e2"}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(place(), "e2");
}

// A node whose record vanished from the registry (removed, or expired there) is gone at the
// cache's next read of that key, even right after placements on it.
TEST_F(BrokerLivenessTest, RemovedNodeIsNotChosenAfterTheNextRead) {
  heartbeat({"e1", "e2"});
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(place().empty());
  backend_->remove_node(edge("e1"));
  clock_.advance(600ms);  // past refresh_after: the next read goes to the registry
  heartbeat({"e2"});
  EXPECT_EQ(listed(), (std::set<std::string>{"e2"}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(place(), "e2");
}

// One failed read (a lost packet across a backbone) refuses nothing while the last good
// answer is within max_stale; only a registry gone longer than that is 503.
TEST_F(BrokerLivenessTest, FailedReadsServeTheLastGoodAnswerUntilMaxStale) {
  for (int i = 0; i < 4; ++i) heartbeat({"e1"});
  backend_->put_node(edge("e1"), 3600s);  // a record that lives through the outage
  EXPECT_EQ(place(), "e1");
  backend_->down = true;
  for (int ms = 400; ms <= 2800; ms += 400) {
    clock_.advance(400ms);
    EXPECT_EQ(place(), "e1") << "refused " << ms << " ms into the outage";
  }
  clock_.advance(1s);  // more than max_stale (3 s) since the last answer
  auto r = broker_->handle_whep(whep_request());
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("registry-unavailable"), std::string::npos) << r.body;
  backend_->down = false;
  EXPECT_EQ(place(), "e1");
}

}  // namespace
}  // namespace strata::broker
