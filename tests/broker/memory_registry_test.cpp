// The broker on the real in-process registry: TTL expiry and relay records as the nodes
// write them. Built only when the registry module is part of the build.
#include <gtest/gtest.h>

#include "broker/broker.hpp"
#include "registry/cached_registry.hpp"
#include "registry/memory_registry.hpp"

namespace strata::broker {
namespace {

using namespace std::chrono_literals;

registry::NodeRecord node(std::string id, std::string role, uint32_t sessions) {
  registry::NodeRecord n;
  n.id = id;
  n.role = std::move(role);
  n.region = "eu";
  n.http_url = "http://" + id + ":8080";
  n.sessions = sessions;
  n.capacity = 10;
  return n;
}

http::Request post(std::string kind, std::string stream) {
  http::Request req;
  req.method = "POST";
  req.target = "/" + kind + "/" + stream;
  req.path_params["stream"] = stream;
  return req;
}

TEST(BrokerOnMemoryRegistry, ExpiredNodesAreNotChosen) {
  FakeClock clock;
  registry::MemoryRegistry registry(clock);
  Broker broker(registry, {.region = "eu"}, [] { return uint64_t(0); });
  registry.put_node(node("o1", "origin", 0), 3s);
  registry.put_node(node("o2", "origin", 5), 10s);
  EXPECT_EQ(broker.handle_whip(post("whip", "cam")).header("Location"),
            "http://o1:8080/whip/cam");
  clock.advance(5s);  // o1 stopped writing its record
  EXPECT_EQ(broker.handle_whip(post("whip", "cam")).header("Location"),
            "http://o2:8080/whip/cam");
  clock.advance(10s);
  EXPECT_EQ(broker.handle_whip(post("whip", "cam")).status, 503);
}

TEST(BrokerOnMemoryRegistry, ViewerFollowsRelayUntilItExpires) {
  FakeClock clock;
  registry::MemoryRegistry registry(clock);
  Broker broker(registry, {.region = "eu"}, [] { return uint64_t(0); });
  registry.claim_stream({"cam/host", "o1", "eu", "http://o1:8080"}, 60s);
  registry.put_node(node("e1", "edge", 0), 60s);
  registry.put_node(node("e2", "edge", 6), 60s);
  EXPECT_EQ(broker.handle_whep(post("whep", "nobody")).status, 409);
  registry.put_relay("eu", "cam", "e2", 3s);
  EXPECT_EQ(broker.handle_whep(post("whep", "cam")).header("Location"),
            "http://e2:8080/whep/cam");
  clock.advance(5s);
  EXPECT_EQ(broker.handle_whep(post("whep", "cam")).header("Location"),
            "http://e1:8080/whep/cam");
}

// A host that has just gone live watches its co-hosts (?exclude=<itself>) at once: the broker
// must send it to its own origin even while its cached list of the live's hosts predates it.
TEST(BrokerOnMemoryRegistry, HostWatchingRightAfterGoingLiveGoesToItsOrigin) {
  FakeClock clock;
  auto backend = std::make_unique<registry::MemoryRegistry>(clock);
  registry::MemoryRegistry& mem = *backend;
  registry::CachedRegistry cached(std::move(backend), clock, {.background_refresh = false});
  Broker broker(cached, {.region = "eu"}, [] { return uint64_t(0); });
  mem.put_node(node("e1", "edge", 0), 60s);
  mem.claim_stream({"duo/ann", "o1", "eu", "http://o1:8080"}, 60s);
  auto req = post("whep", "duo");
  EXPECT_EQ(broker.handle_whep(req).header("Location"), "http://e1:8080/whep/duo");  // caches [ann]
  mem.claim_stream({"duo/bob", "o2", "eu", "http://o2:8080"}, 60s);  // by bob's origin, not through this cache
  req.query = "exclude=bob";
  req.query_params["exclude"] = "bob";
  EXPECT_EQ(broker.handle_whep(req).header("Location"), "http://o2:8080/whep/duo?exclude=bob");
}

}  // namespace
}  // namespace strata::broker
