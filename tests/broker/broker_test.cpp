#include "broker/broker.hpp"

#include <map>

#include <gtest/gtest.h>

#include "fake_registry.hpp"

namespace strata::broker {
namespace {

using registry::NodeRecord;
using registry::StreamClaim;
using testing::FakeRegistry;

constexpr Duration kTtl = std::chrono::seconds(5);

NodeRecord node(std::string id, std::string role, std::string region, uint32_t sessions,
                uint32_t capacity, double cpu = 0.1, bool draining = false) {
  NodeRecord n;
  n.id = std::move(id);
  n.role = std::move(role);
  n.region = std::move(region);
  n.http_url = "http://" + n.id + ".test:8080";
  n.sessions = sessions;
  n.capacity = capacity;
  n.cpu = cpu;
  n.draining = draining;
  return n;
}

std::string url_of(std::string_view id) { return "http://" + std::string(id) + ".test:8080"; }

class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest() { make_broker(); }

  void make_broker() {
    broker_ = std::make_unique<Broker>(registry_, BrokerOptions{.region = "eu"},
                                       [this] { return next_random_++; });
    router_ = http::Router{};
    broker_->add_routes(router_);
  }

  http::Response request(std::string method, std::string target, std::string query = "") {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.query = query;
    req.query_params = http::parse_query(query);
    req.headers = {{"Content-Type", "application/sdp"}};
    req.body = "v=0\r\n";
    return router_.dispatch(req);
  }
  http::Response whip(std::string stream, std::string query = "") {
    return request("POST", "/whip/" + stream, std::move(query));
  }
  http::Response whep(std::string stream, std::string query = "") {
    return request("POST", "/whep/" + stream, std::move(query));
  }
  // Host `host` of `live` is live on `origin` (its claim, "{live}/{host}").
  void claim(std::string live, std::string origin, std::string region = "eu", std::string host = "host") {
    registry_.claim_stream({registry::host_stream(live, host), origin, region, url_of(origin)}, kTtl);
  }
  void put(NodeRecord n) { registry_.put_node(n, kTtl); }

  FakeRegistry registry_;
  uint64_t next_random_ = 0;
  std::unique_ptr<Broker> broker_;
  http::Router router_;
};

std::string location(const http::Response& r) { return r.header("Location").value_or(""); }

nlohmann::json body_json(const http::Response& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

void expect_json_error(const http::Response& r, int status, std::string_view error) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.content_type, "application/json");
  auto j = body_json(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("error", ""), error) << r.body;
  EXPECT_FALSE(j.value("detail", "").empty()) << r.body;
}

void expect_retry_after(const http::Response& r) {
  EXPECT_EQ(r.header("Retry-After").value_or(""), "2");
}

// --- WHIP -----------------------------------------------------------------------------

TEST_F(BrokerTest, WhipRedirectsToLeastLoadedOriginOfTheRegion) {
  put(node("o1", "origin", "eu", 8, 10));
  put(node("o2", "origin", "eu", 2, 10));
  put(node("o3", "origin", "eu", 5, 10));
  put(node("us1", "origin", "us", 0, 10));
  put(node("e1", "edge", "eu", 0, 10));
  for (int i = 0; i < 4; ++i) {  // o2 is clearly least loaded: random draws do not matter
    auto r = whip("cam");
    EXPECT_EQ(r.status, 307);
    EXPECT_EQ(location(r), url_of("o2") + "/whip/cam");
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(BrokerTest, WhipSkipsDrainingAndFullOrigins) {
  struct Case {
    const char* name;
    std::vector<NodeRecord> nodes;
    std::string expected;  // empty = 503
  } cases[] = {
      {"draining skipped",
       {node("a", "origin", "eu", 0, 10, 0.1, true), node("b", "origin", "eu", 9, 10)}, "b"},
      {"full by sessions skipped",
       {node("a", "origin", "eu", 10, 10), node("b", "origin", "eu", 9, 10)}, "b"},
      {"full by cpu skipped",
       {node("a", "origin", "eu", 0, 10, 0.95), node("b", "origin", "eu", 9, 10)}, "b"},
      {"all unusable",
       {node("a", "origin", "eu", 10, 10), node("b", "origin", "eu", 0, 10, 0.1, true),
        node("c", "origin", "eu", 0, 0, 0.9)},
       ""},
      {"only edges", {node("e", "edge", "eu", 0, 10)}, ""},
      {"dev node is an origin", {node("d", "dev", "eu", 3, 0)}, "d"},
  };
  for (auto& c : cases) {
    registry_ = FakeRegistry{};
    for (auto& n : c.nodes) put(n);
    auto r = whip("cam");
    if (c.expected.empty()) {
      expect_json_error(r, 503, "no-capacity");
      expect_retry_after(r);
    } else {
      EXPECT_EQ(r.status, 307) << c.name;
      EXPECT_EQ(location(r), url_of(c.expected) + "/whip/cam") << c.name;
    }
  }
}

// Two equal origins, each placement reported back as the origin's next load record: the
// hosts spread evenly whatever the random source says.
TEST_F(BrokerTest, SixWhipsSpreadOverTwoEqualOrigins) {
  for (uint32_t capacity : {0u, 10u}) {
    for (int pattern = 0; pattern < 3; ++pattern) {
      registry_ = FakeRegistry{};
      put(node("o1", "origin", "eu", 0, capacity));
      put(node("o2", "origin", "eu", 0, capacity));
      std::map<std::string, int> placed;
      for (int i = 0; i < 6; ++i) {
        next_random_ = pattern == 0 ? 0 : pattern == 1 ? 1 : uint64_t(i * 7 + 3);
        auto r = whip("cam" + std::to_string(i));
        ASSERT_EQ(r.status, 307);
        std::string id = location(r) == url_of("o1") + "/whip/cam" + std::to_string(i) ? "o1" : "o2";
        ++placed[id];
        registry_.add_session(id);
      }
      EXPECT_LE(placed["o1"], 4) << "capacity " << capacity << " pattern " << pattern;
      EXPECT_LE(placed["o2"], 4) << "capacity " << capacity << " pattern " << pattern;
    }
  }
}

TEST_F(BrokerTest, EqualOriginsBothGetChosenWithoutLoadUpdates) {
  put(node("o1", "origin", "eu", 3, 10));
  put(node("o2", "origin", "eu", 3, 10));
  put(node("o3", "origin", "eu", 4, 10));
  std::map<std::string, int> placed;
  for (int i = 0; i < 10; ++i) ++placed[location(whip("cam"))];
  EXPECT_EQ(placed[url_of("o1") + "/whip/cam"], 5);
  EXPECT_EQ(placed[url_of("o2") + "/whip/cam"], 5);
  EXPECT_EQ(placed.size(), 2u);  // o3 is never among the two least loaded
}

// With recent-placement counting (as `strata broker` runs), a burst of hosts against
// records that do not change yet still spreads evenly: each placement counts as a session.
TEST_F(BrokerTest, BurstAgainstStaleRecordsSpreadsWithRecentPlacements) {
  put(node("o1", "origin", "eu", 0, 10));
  put(node("o2", "origin", "eu", 0, 10));
  BrokerOptions opts;
  opts.region = "eu";
  opts.recent_placement_window = std::chrono::seconds(3);
  for (uint64_t seed : {0ull, 1ull, 0xffffffffull}) {
    Broker broker(registry_, opts, [seed]() { return seed; });  // worst case: always the same coin
    http::Router router;
    broker.add_routes(router);
    std::map<std::string, int> placed;
    for (int i = 0; i < 6; ++i) {
      http::Request r;
      r.method = "POST";
      r.target = "/whip/cam" + std::to_string(i);
      ++placed[router.dispatch(r).header("Location").value_or("")];
    }
    int o1 = 0, o2 = 0;
    for (auto& [loc, n] : placed) (loc.rfind(url_of("o1"), 0) == 0 ? o1 : o2) += n;
    EXPECT_EQ(o1, 3) << "seed " << seed;
    EXPECT_EQ(o2, 3) << "seed " << seed;
  }
}

// Large capacities (the default is 5000) must not hide a difference of a few sessions.
TEST_F(BrokerTest, LargeCapacitySessionDifferencesStillCount) {
  put(node("o1", "origin", "eu", 4, 5000));
  put(node("o2", "origin", "eu", 0, 5000));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(location(whip("cam" + std::to_string(i))), url_of("o2") + "/whip/cam" + std::to_string(i));
}

TEST_F(BrokerTest, ClaimedStreamGoesToItsOrigin) {
  put(node("o1", "origin", "eu", 9, 10));
  put(node("o2", "origin", "eu", 0, 10));
  put(node("us-origin", "origin", "us", 0, 10));
  claim("cam", "o1");
  claim("far", "us-origin", "us");
  EXPECT_EQ(location(whip("cam")), url_of("o1") + "/whip/cam");
  EXPECT_EQ(location(whip("far")), url_of("us-origin") + "/whip/far");
  EXPECT_EQ(location(whip("other")), url_of("o2") + "/whip/other");
  // The same host name again: to the origin that has it (which answers 409 host-taken).
  claim("duo", "o1", "eu", "ann");
  EXPECT_EQ(location(whip("duo", "host=ann")), url_of("o1") + "/whip/duo?host=ann");
}

// A host whose origin died keeps its claim until the claim's TTL runs out: no redirect to
// the dead origin, 409 + Retry-After until the host can publish again elsewhere.
TEST_F(BrokerTest, HostClaimedByADeadOriginIs409UntilTheClaimLapses) {
  put(node("o2", "origin", "eu", 0, 10));
  claim("cam", "gone");
  auto r = whip("cam");
  expect_json_error(r, 409, "host-taken");
  expect_retry_after(r);
  registry_.release_claim({registry::host_stream("cam", "host"), "gone", "eu", url_of("gone")});
  EXPECT_EQ(location(whip("cam")), url_of("o2") + "/whip/cam");
}

// Guest mode: a second host of a live goes to the origin of the live's host in this region
// while that origin has headroom, else to the least loaded; battle mode: a live whose hosts
// are all in another region places its new host in the broker's own region.
TEST_F(BrokerTest, GuestGoesToTheLivesOriginWhileItHasHeadroom) {
  struct Case {
    const char* name;
    uint32_t o1_sessions;  // o1 holds the host "ann"
    const char* host_region;
    std::string expected;
  } cases[] = {
      {"guest joins the host's origin though it is busier", 6, "eu", "o1"},
      {"the host's origin is full: the least loaded", 10, "eu", "o2"},
      {"battle: the live's host is in us, the guest stays in eu", 6, "us", "o2"},
  };
  for (auto& c : cases) {
    registry_ = FakeRegistry{};
    put(node("o1", "origin", c.host_region, c.o1_sessions, 10));
    put(node("o2", "origin", "eu", 1, 10));
    put(node("o3", "origin", "eu", 2, 10));
    claim("duo", "o1", c.host_region, "ann");
    for (uint64_t draw : {0ull, 1ull}) {
      next_random_ = draw;
      auto r = whip("duo", "host=bob");
      EXPECT_EQ(r.status, 307) << c.name;
      EXPECT_EQ(location(r), url_of(c.expected) + "/whip/duo?host=bob") << c.name;
    }
  }
  expect_json_error(whip("duo", "host=a%2Fb"), 400, "bad-host-name");
}

// A host watching its co-hosts (?exclude=<its name>) goes to its own origin, which pulls
// the co-hosts once for all its hosts; other viewers go to edges.
TEST_F(BrokerTest, HostWatchingCoHostsGoesToItsOrigin) {
  put(node("o1", "origin", "eu", 0, 10));
  put(node("e1", "edge", "eu", 0, 10));
  claim("duo", "o1", "eu", "ann");
  claim("duo", "o-us", "us", "bob");
  EXPECT_EQ(location(whep("duo", "exclude=ann")), url_of("o1") + "/whep/duo?exclude=ann");
  EXPECT_EQ(location(whep("duo", "exclude=bob")), url_of("o-us") + "/whep/duo?exclude=bob");
  EXPECT_EQ(location(whep("duo", "exclude=carl")), url_of("e1") + "/whep/duo?exclude=carl");
  EXPECT_EQ(location(whep("duo")), url_of("e1") + "/whep/duo");
}

TEST_F(BrokerTest, LocationKeepsTheQueryString) {
  put(node("o1", "origin", "eu", 0, 10));
  put(node("e1", "edge", "eu", 0, 10));
  claim("cam", "o1");
  EXPECT_EQ(location(whip("new", "token=a%20b&x=1")), url_of("o1") + "/whip/new?token=a%20b&x=1");
  EXPECT_EQ(location(whep("cam", "region=eu&layer=h")),
            url_of("e1") + "/whep/cam?region=eu&layer=h");
  EXPECT_EQ(location(whip("new")), url_of("o1") + "/whip/new");  // no dangling '?'
}

TEST(RedirectLocation, Table) {
  struct Case {
    const char* base;
    const char* kind;
    const char* query;
    const char* expected;
  } cases[] = {
      {"http://a:1", "whip", "", "http://a:1/whip/s"},
      {"http://a:1/", "whep", "", "http://a:1/whep/s"},
      {"http://a:1//", "whep", "q=1", "http://a:1/whep/s?q=1"},
      {"", "whip", "", "/whip/s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(redirect_location(c.base, c.kind, "s", c.query), c.expected) << c.base;
  }
}

TEST(ValidName, Table) {
  struct Case {
    std::string name;
    bool valid;
  } cases[] = {{"cam", true},           {"a.b-c_D9", true},         {std::string(64, 'x'), true},
               {"", false},             {std::string(65, 'x'), false}, {"a b", false},
               {"a/b", false},          {"caf\xc3\xa9", false},     {std::string("a\0b", 3), false},
               {"..", true}};
  for (const auto& c : cases) EXPECT_EQ(valid_name(c.name), c.valid) << c.name;
}

TEST_F(BrokerTest, BadStreamNameIs400) {
  put(node("o1", "origin", "eu", 0, 10));
  const std::vector<std::string> targets = {"/whip/a%20b", "/whep/a%20b", "/whip/" + std::string(65, 'x'),
                                              "/whep/%2e%2e%2fadmin", "/whip/%C3%A9"};
  for (const std::string& target : targets) {
    auto r = request("POST", target);
    expect_json_error(r, 400, "bad-stream-name");
    EXPECT_FALSE(r.header("Location")) << target;
  }
}

TEST_F(BrokerTest, RegistryDownIs503WithRetryAfter) {
  put(node("o1", "origin", "eu", 0, 10));
  put(node("e1", "edge", "eu", 0, 10));
  claim("cam", "o1");
  registry_.is_healthy = false;
  for (auto r : {whip("cam"), whep("cam"), request("GET", "/api/v1/nodes"),
                 request("GET", "/api/v1/streams")}) {
    expect_json_error(r, 503, "registry-unavailable");
    expect_retry_after(r);
    EXPECT_NE(body_json(r).value("detail", "").find("registry"), std::string::npos);
  }
  auto health = request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(body_json(health).value("registry", ""), "unreachable");
}

// --- WHEP -----------------------------------------------------------------------------

TEST_F(BrokerTest, WhepUnknownStreamIs409WithRetryAfter) {
  put(node("e1", "edge", "eu", 0, 10));
  auto r = whep("nobody");
  expect_json_error(r, 409, "stream-not-live");
  expect_retry_after(r);
  EXPECT_FALSE(r.header("Location"));
}

TEST_F(BrokerTest, WhepEdgeChoice) {
  struct Case {
    const char* name;
    std::vector<NodeRecord> edges;
    std::vector<std::string> relaying;
    std::string query;
    std::string expected;  // empty = 503
  } cases[] = {
      {"prefers relaying edge with headroom",
       {node("e1", "edge", "eu", 1, 10), node("e2", "edge", "eu", 6, 10)}, {"e2"}, "", "e2"},
      {"least loaded relaying edge",
       {node("e1", "edge", "eu", 0, 10), node("e2", "edge", "eu", 7, 10),
        node("e3", "edge", "eu", 5, 10)},
       {"e2", "e3"}, "", "e3"},
      {"relaying edge full: least loaded instead",
       {node("e1", "edge", "eu", 2, 10), node("e2", "edge", "eu", 10, 10),
        node("e3", "edge", "eu", 6, 10)},
       {"e2"}, "", "e1"},
      {"relaying edge draining: least loaded instead",
       {node("e1", "edge", "eu", 2, 10), node("e2", "edge", "eu", 0, 10, 0.1, true)}, {"e2"}, "",
       "e1"},
      {"relaying edge over cpu: least loaded instead",
       {node("e1", "edge", "eu", 2, 10), node("e2", "edge", "eu", 0, 10, 0.92)}, {"e2"}, "",
       "e1"},
      {"relay record of a dead edge ignored", {node("e1", "edge", "eu", 4, 10)}, {"gone"}, "",
       "e1"},
      {"origins are not edges", {node("o9", "origin", "eu", 0, 10)}, {}, "", ""},
      {"every edge full", {node("e1", "edge", "eu", 10, 10)}, {"e1"}, "", ""},
      {"region from query",
       {node("e1", "edge", "eu", 0, 10), node("u1", "edge", "us", 5, 10)}, {}, "region=us",
       "u1"},
      {"unknown region has no edges", {node("e1", "edge", "eu", 0, 10)}, {}, "region=ap", ""},
  };
  for (auto& c : cases) {
    registry_ = FakeRegistry{};
    claim("cam", "o1");
    for (auto& n : c.edges) put(n);
    std::string region = c.query.empty() ? "eu" : c.query.substr(7);
    for (auto& id : c.relaying) registry_.put_relay(region, "cam", id, kTtl);
    for (uint64_t draw : {0ull, 1ull}) {
      next_random_ = draw;
      auto r = whep("cam", c.query);
      if (c.expected.empty()) {
        expect_json_error(r, 503, "no-capacity");
        expect_retry_after(r);
        EXPECT_NE(body_json(r).value("detail", "").find(region), std::string::npos) << c.name;
      } else {
        EXPECT_EQ(r.status, 307) << c.name;
        std::string suffix = c.query.empty() ? "" : "?" + c.query;
        EXPECT_EQ(location(r), url_of(c.expected) + "/whep/cam" + suffix) << c.name;
      }
    }
  }
}

// Regions (docs/ARCHITECTURE.md, "Cluster"): the stream directory is global, placement is regional. A viewer of
// a stream whose origin is in another region goes to an edge of the viewer's region, which
// relays from that origin; another region's relay records and edges never count.
TEST_F(BrokerTest, CrossRegionViewerStaysInItsRegion) {
  struct Case {
    const char* name;
    std::string query;
    std::vector<std::string> relays_us;  // relay records in region "us"
    std::vector<std::string> relays_eu;
    std::string expected;
  } cases[] = {
      {"origin in us, viewer of eu: eu edge", "", {}, {}, "e1"},
      {"us relays do not pull eu viewers to us", "", {"u1"}, {}, "e1"},
      {"eu relaying edge preferred over a lighter eu edge", "", {"u1"}, {"e2"}, "e2"},
      {"viewer naming us goes to a us edge", "region=us", {}, {}, "u1"},
      {"viewer naming us reuses the us relay", "region=us", {"u2"}, {"e1"}, "u2"},
  };
  for (auto& c : cases) {
    registry_ = FakeRegistry{};
    claim("cam", "o-us", "us");
    put(node("o-us", "origin", "us", 0, 10));
    put(node("e1", "edge", "eu", 1, 10));
    put(node("e2", "edge", "eu", 5, 10));
    put(node("u1", "edge", "us", 0, 10));
    put(node("u2", "edge", "us", 4, 10));
    for (auto& id : c.relays_us) registry_.put_relay("us", "cam", id, kTtl);
    for (auto& id : c.relays_eu) registry_.put_relay("eu", "cam", id, kTtl);
    next_random_ = 0;
    auto r = whep("cam", c.query);
    EXPECT_EQ(r.status, 307) << c.name;
    std::string suffix = c.query.empty() ? "" : "?" + c.query;
    EXPECT_EQ(location(r), url_of(c.expected) + "/whep/cam" + suffix) << c.name;
  }
}

TEST_F(BrokerTest, WhipNeverPlacesANewStreamInAnotherRegion) {
  put(node("o-us", "origin", "us", 0, 10));
  put(node("o-eu", "origin", "eu", 9, 10));
  auto r = whip("cam");
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(location(r), url_of("o-eu") + "/whip/cam");
  // A stream already claimed in us goes to its origin there (its WHIP answers 409).
  claim("live", "o-us", "us");
  EXPECT_EQ(location(whip("live")), url_of("o-us") + "/whip/live");
  // Only us origins: the eu broker has no capacity for a new stream.
  registry_.remove_node(node("o-eu", "origin", "eu", 0, 10));
  expect_json_error(whip("other"), 503, "no-capacity");
}

TEST_F(BrokerTest, WhepBadRegionIs400) {
  claim("cam", "o1");
  expect_json_error(whep("cam", "region=a%2Fb"), 400, "bad-region-name");
}

TEST_F(BrokerTest, WhepTwoChoiceAmongEqualEdges) {
  claim("cam", "o1");
  put(node("e1", "edge", "eu", 3, 10));
  put(node("e2", "edge", "eu", 3, 10));
  put(node("e3", "edge", "eu", 9, 10));
  next_random_ = 0;
  EXPECT_EQ(location(whep("cam")), url_of("e1") + "/whep/cam");
  EXPECT_EQ(location(whep("cam")), url_of("e2") + "/whep/cam");
}

// --- JSON state ------------------------------------------------------------------------

TEST_F(BrokerTest, NodesListsTheRegion) {
  put(node("o1", "origin", "eu", 1, 10));
  put(node("e1", "edge", "eu", 2, 0, 0.5, true));
  put(node("u1", "edge", "us", 0, 10));
  auto r = request("GET", "/api/v1/nodes");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto j = body_json(r);
  EXPECT_EQ(j["region"], "eu");
  ASSERT_EQ(j["nodes"].size(), 2u);
  EXPECT_EQ(j["nodes"][1]["id"], "e1");
  EXPECT_EQ(j["nodes"][1]["role"], "edge");
  EXPECT_EQ(j["nodes"][1]["http_url"], url_of("e1"));
  EXPECT_EQ(j["nodes"][1]["sessions"], 2);
  EXPECT_EQ(j["nodes"][1]["capacity"], 0);
  EXPECT_EQ(j["nodes"][1]["cpu"], 0.5);
  EXPECT_EQ(j["nodes"][1]["draining"], true);
  EXPECT_TRUE(j["nodes"][1].contains("egress_bps"));

  auto us = body_json(request("GET", "/api/v1/nodes", "region=us"));
  EXPECT_EQ(us["region"], "us");
  ASSERT_EQ(us["nodes"].size(), 1u);
  EXPECT_EQ(us["nodes"][0]["id"], "u1");
}

TEST_F(BrokerTest, NodesAllCoversRegionsWithOrigins) {
  put(node("o1", "origin", "eu", 1, 10));
  put(node("u1", "origin", "us", 0, 10));
  put(node("a1", "edge", "ap", 0, 10));  // no origin of a stream there: not listed
  claim("cam", "u1", "us");
  auto j = body_json(request("GET", "/api/v1/nodes", "region=all"));
  EXPECT_EQ(j["region"], "all");
  std::vector<std::string> ids;
  for (auto& n : j["nodes"]) ids.push_back(n["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"o1", "u1"}));
}

TEST_F(BrokerTest, StreamsListsClaimsWithLocalRelays) {
  claim("cam", "o1");
  claim("alpha", "u1", "us");
  registry_.put_relay("eu", "cam", "e1", kTtl);
  registry_.put_relay("eu", "cam", "e2", kTtl);
  registry_.put_relay("us", "cam", "u9", kTtl);
  auto r = request("GET", "/api/v1/streams");
  ASSERT_EQ(r.status, 200);
  auto j = body_json(r);
  ASSERT_EQ(j["streams"].size(), 2u);
  EXPECT_EQ(j["streams"][0]["name"], "alpha/host");
  EXPECT_EQ(j["streams"][0]["live"], "alpha");
  EXPECT_EQ(j["streams"][0]["host"], "host");
  EXPECT_EQ(j["streams"][0]["origin_region"], "us");
  EXPECT_TRUE(j["streams"][0]["relays"].empty());
  EXPECT_EQ(j["streams"][1]["name"], "cam/host");
  EXPECT_EQ(j["streams"][1]["origin_id"], "o1");
  EXPECT_EQ(j["streams"][1]["origin_url"], url_of("o1"));
  EXPECT_EQ(j["streams"][1]["relays"], (nlohmann::json{"e1", "e2"}));

  auto us = body_json(request("GET", "/api/v1/streams", "region=us"));
  EXPECT_EQ(us["streams"][1]["relays"], (nlohmann::json{"u9"}));
}

TEST_F(BrokerTest, HealthzAndRouting) {
  auto health = request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(body_json(health).value("registry", ""), "ok");
  EXPECT_EQ(request("GET", "/whip/cam").status, 405);
  EXPECT_EQ(request("POST", "/whip").status, 404);
  EXPECT_EQ(request("POST", "/whip/cam/extra").status, 404);
}

TEST_F(BrokerTest, NeverReadsTheBodyAndNeedsNoContentType) {
  put(node("o1", "origin", "eu", 0, 10));
  http::Request req;
  req.method = "POST";
  req.target = "/whip/cam";
  req.body = std::string("\xff\x00garbage", 9);
  auto r = router_.dispatch(req);
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(location(r), url_of("o1") + "/whip/cam");
}

TEST_F(BrokerTest, DefaultRandomSourceWorks) {
  Broker broker(registry_, BrokerOptions{.region = "eu"});
  put(node("o1", "origin", "eu", 0, 10));
  put(node("o2", "origin", "eu", 0, 10));
  http::Request req;
  req.method = "POST";
  req.target = "/whip/cam";
  req.path_params["stream"] = "cam";
  for (int i = 0; i < 20; ++i) {
    auto l = location(broker.handle_whip(req));
    EXPECT_TRUE(l == url_of("o1") + "/whip/cam" || l == url_of("o2") + "/whip/cam") << l;
  }
}

}  // namespace
}  // namespace strata::broker
