// Lives whose hosts sit on several origins (docs/ARCHITECTURE.md, "Cluster", lives across
// origins): per-host claims, edges relaying every host from its own origin, hosts watching
// co-hosts on their origin, hosts joining later and hosts whose origin died.
#include "cluster_fixture.hpp"

#include <algorithm>
#include <map>

#include "slots_offer.hpp"

namespace strata::signaling {
namespace {

using namespace testing_cluster;
using testing_offers::slots_offer;
using nlohmann::json;
using namespace std::chrono_literals;

// ---- lives whose hosts sit on several origins (issue 12) ----------------------------------

class MultiOriginTest : public ClusterTest {
 protected:
  Node* o1 = nullptr;
  Node* o2 = nullptr;
  Node* edge = nullptr;
  void SetUp() override {
    o1 = &make_node(NodeRole::kOrigin, "origin-1", /*http=*/true);
    o2 = &make_node(NodeRole::kOrigin, "origin-2", /*http=*/true);
    edge = &make_node(NodeRole::kEdge, "edge-1", false, kSecret, 10s, [](SessionManagerOptions& o) {
      o.host_return_grace = 200ms;
    });
    registry.subscribe([this](const registry::Event& e) {
      edge->manager->on_registry_event(e);
      o1->manager->on_registry_event(e);
    });
    subscribe_events();
  }
  std::string publish(Node& origin, const std::string& live, const std::string& host) {
    std::string id = origin.create("/whip/" + live + "?host=" + host, read_sdp(kPublishOffer));
    origin.manager->poll();
    return id;
  }
  // The node's sources of `live`: host → {relayed, relays out}.
  std::map<std::string, std::pair<bool, int>> sources(Node& n, const std::string& live) {
    std::map<std::string, std::pair<bool, int>> out;
    for (auto& s : n.streams()) {
      if (s["name"] == live) out[s["host"]] = {s["relayed"].get<bool>(), s["relays"].get<int>()};
    }
    return out;
  }
  // Waits (bounded) for the event subscriber to have seen a stream_moved of `stream`.
  void await_moved(const std::string& stream, const std::string& origin) {
    registry::Event e;
    ASSERT_TRUE(wait_for_event(stream, &e, registry::Event::Kind::kStreamMoved, origin));
  }
};

TEST_F(MultiOriginTest, HostNamesAreUniqueAcrossOriginsAndEachHostHasItsClaim) {
  ASSERT_FALSE(publish(*o1, "duo", "ann").empty());
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  expect_json_error(o2->post_sdp("/whip/duo?host=ann", read_sdp(kPublishOffer)), 409, "host-taken");
  auto hosts = registry.read_live("duo");
  ASSERT_TRUE(hosts.ok);
  ASSERT_EQ(hosts.value.size(), 2u);
  EXPECT_EQ(hosts.value[0].stream, "duo/ann");
  EXPECT_EQ(hosts.value[0].origin_id, "origin-1");
  EXPECT_EQ(hosts.value[1].stream, "duo/bob");
  EXPECT_EQ(hosts.value[1].origin_id, "origin-2");
  EXPECT_EQ(registry.stream("duo/ann")->origin_id, "origin-1") << "the refusal must not touch ann's claim";
}

// A viewer on an edge gets every host, each pulled from its own origin: one relay per
// (edge, host), reused by later viewers.
TEST_F(MultiOriginTest, EdgeRelaysEveryHostFromItsOwnOrigin) {
  ASSERT_FALSE(publish(*o1, "duo", "ann").empty());
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  ASSERT_FALSE(edge->create("/whep/duo", read_sdp(kViewOffer)).empty());
  ASSERT_FALSE(edge->create("/whep/duo", read_sdp(kViewOffer)).empty());
  auto here = sources(*edge, "duo");
  ASSERT_EQ(here.size(), 2u);
  EXPECT_TRUE(here["ann"].first);
  EXPECT_TRUE(here["bob"].first);
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 2);
  EXPECT_EQ(sources(*o1, "duo")["ann"].second, 1);
  EXPECT_EQ(sources(*o2, "duo")["bob"].second, 1);
  edge->manager->poll();
  EXPECT_EQ(registry.relays("local", "duo"), std::vector<std::string>{"edge-1"});
}

// Hosts watch co-hosts on their own origin (?exclude=<name>): the origin pulls each co-host
// on another origin once for all its hosts; it serves no other viewer.
TEST_F(MultiOriginTest, HostsWatchCoHostsOnTheirOriginThroughOneRelayPerCoHost) {
  ASSERT_FALSE(publish(*o1, "duo", "ann").empty());
  ASSERT_FALSE(publish(*o1, "duo", "cid").empty());
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  expect_json_error(o1->post_sdp("/whep/duo", read_sdp(kViewOffer)), 403, "wrong-role");
  expect_json_error(o1->post_sdp("/whep/duo?exclude=bob", read_sdp(kViewOffer)), 403, "wrong-role");
  ASSERT_FALSE(o1->create("/whep/duo?exclude=ann", read_sdp(kViewOffer)).empty());
  ASSERT_FALSE(o1->create("/whep/duo?exclude=cid", read_sdp(kViewOffer)).empty());
  auto here = sources(*o1, "duo");
  ASSERT_EQ(here.size(), 3u);
  EXPECT_FALSE(here["ann"].first);
  EXPECT_TRUE(here["bob"].first) << "bob is pulled from origin-2";
  EXPECT_EQ(sources(*o2, "duo")["bob"].second, 1) << "one relay per (origin, co-host)";
  EXPECT_EQ(metric(o1->metrics(), "relays_in"), 1);
  // bob's origin pulls nothing: nobody watches there.
  EXPECT_EQ(metric(o2->metrics(), "relays_in"), 0);
  // A relayed co-host is not served onward: edges pull bob from bob's origin.
  expect_json_error(post_relay(*o1, "duo/bob", relay_body(*o1), "Bearer " + std::string(kSecret)), 404);
}

// A host joining later reaches the live's watchers at once (its stream_moved event), not at
// their next heartbeat.
TEST_F(MultiOriginTest, AHostJoiningLaterIsPulledAtTheNextPoll) {
  ASSERT_FALSE(publish(*o1, "duo", "ann").empty());
  ASSERT_FALSE(edge->create("/whep/duo", read_sdp(kViewOffer)).empty());
  edge->manager->poll();  // heartbeat now: the next one is a second away
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  await_moved("duo/bob", "origin-2");
  edge->manager->poll();
  EXPECT_EQ(sources(*edge, "duo").size(), 2u);
  EXPECT_EQ(sources(*o2, "duo")["bob"].second, 1);
}

// bob's origin dies (its claim lapses, no stream_ended): ann goes on, bob's slot says
// inactive and the viewer keeps its session; bob publishes again on another origin and the
// same slot shows him again, without renegotiation. Unclaimed past the grace, he leaves.
TEST_F(MultiOriginTest, AHostWhoseOriginDiedIsInactiveUntilItComesBack) {
  ASSERT_FALSE(publish(*o1, "duo", "ann").empty());
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  std::string viewer = edge->create("/whep/duo", slots_offer(2));
  ASSERT_FALSE(viewer.empty());
  auto events = edge->manager->events(viewer);
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<http::EventStream>>(events));
  auto stream = std::get<std::shared_ptr<http::EventStream>>(events);
  // The last "live" event the viewer got: the host each slot shows and whether it is live.
  auto slots_now = [&] {
    std::string text;
    stream->take(text);
    std::map<std::string, bool> out;
    size_t at = text.rfind("data: ");
    if (at == std::string::npos) return out;
    json j = json::parse(text.substr(at + 6, text.find('\n', at) - at - 6), nullptr, false);
    for (auto& slot : j["slots"])
      if (slot["host"].is_string()) out[slot["host"]] = slot["live"];
    return out;
  };
  EXPECT_EQ(slots_now(), (std::map<std::string, bool>{{"ann", true}, {"bob", true}}));
  registry.release_claim({"duo/bob", "origin-2", "local", ""});  // as if it lapsed
  for (int beat = 0; beat < 2; ++beat) {
    std::this_thread::sleep_for(1050ms);
    edge->manager->poll();  // heartbeats: bob is no longer listed; for a second that could be a registry restart
  }
  EXPECT_EQ(slots_now(), (std::map<std::string, bool>{})) << "no event yet";
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 2);
  std::this_thread::sleep_for(1050ms);
  edge->manager->poll();  // still missing two seconds after the first miss: bob's origin is gone
  auto here = sources(*edge, "duo");
  ASSERT_EQ(here.size(), 2u) << "bob stays, inactive";
  EXPECT_EQ(slots_now(), (std::map<std::string, bool>{{"ann", true}, {"bob", false}})) << "bob's slot is inactive";
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1) << "bob's dead relay is dropped";
  EXPECT_TRUE(edge->manager->has_session(viewer));

  Node& o3 = make_node(NodeRole::kOrigin, "origin-3", /*http=*/true);
  ASSERT_FALSE(publish(o3, "duo", "bob").empty());
  await_moved("duo/bob", "origin-3");
  edge->manager->poll();
  EXPECT_EQ(sources(o3, "duo")["bob"].second, 1) << "the edge pulls bob from his new origin";
  EXPECT_EQ(slots_now(), (std::map<std::string, bool>{{"ann", true}, {"bob", true}})) << "the same slot shows bob";
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 2);
  EXPECT_TRUE(edge->manager->has_session(viewer));

  // Gone for good: past the grace (200 ms here) bob leaves the live; ann stays.
  registry.release_claim({"duo/bob", "origin-3", "local", ""});
  for (int beat = 0; beat < 3; ++beat) {
    std::this_thread::sleep_for(1050ms);
    edge->manager->poll();
  }
  EXPECT_EQ(sources(*edge, "duo").size(), 2u) << "inactive for the grace (200 ms here)";
  std::this_thread::sleep_for(1050ms);
  edge->manager->poll();
  EXPECT_EQ(sources(*edge, "duo").size(), 1u);
  EXPECT_TRUE(edge->manager->has_session(viewer));
}

// --max-sessions counts hosts' and viewers' sessions: a host watching its co-hosts is not
// refused because its origin pulled them, and edges are still served relays of a full origin.
TEST_F(MultiOriginTest, RelaysDoNotCountAgainstMaxSessions) {
  Node& small = make_node(NodeRole::kOrigin, "origin-small", /*http=*/true, kSecret, 10s,
                          [](SessionManagerOptions& o) { o.max_sessions = 2; });
  ASSERT_FALSE(publish(*o2, "duo", "bob").empty());
  ASSERT_FALSE(publish(small, "duo", "ann").empty());
  ASSERT_FALSE(small.create("/whep/duo?exclude=ann", read_sdp(kViewOffer)).empty()) << "pulls bob, then answers";
  EXPECT_EQ(metric(small.metrics(), "relays_in"), 1);
  expect_json_error(small.post_sdp("/whip/duo?host=cid", read_sdp(kPublishOffer)), 503, "overloaded");
  ASSERT_FALSE(edge->create("/whep/duo", read_sdp(kViewOffer)).empty());
  EXPECT_EQ(sources(small, "duo")["ann"].second, 1) << "a full origin still serves its host to edges";
  std::this_thread::sleep_for(1050ms);
  small.manager->poll();  // a heartbeat
  auto records = registry.nodes("local");
  auto rec = std::find_if(records.begin(), records.end(), [](const auto& n) { return n.id == "origin-small"; });
  ASSERT_NE(rec, records.end());
  EXPECT_EQ(rec->sessions, 2u) << "the node record's load: 2 client sessions, not the 2 relays";
}

}  // namespace
}  // namespace strata::signaling
