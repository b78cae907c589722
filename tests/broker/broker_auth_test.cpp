// The broker with access control on (README, "Access control"): tokens are checked before
// any placement, and every redirect carries a ticket for the node it names.
#include <gtest/gtest.h>

#include "auth/ticket.hpp"
#include "broker/broker.hpp"
#include "fake_registry.hpp"
#include "../auth/token_minter.hpp"

namespace strata::broker {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
constexpr Duration kTtl = std::chrono::seconds(5);
const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kClusterSecret = "the-cluster-secret";

registry::NodeRecord node(std::string id, std::string role, uint32_t sessions = 0) {
  registry::NodeRecord n;
  n.id = std::move(id);
  n.role = std::move(role);
  n.region = "eu";
  n.http_url = "http://" + n.id + ".test:8080";
  n.sessions = sessions;
  n.capacity = 100;
  n.cpu = 0.1;
  return n;
}

std::string token(json strata, std::string sub = "") {
  return auth::testing::grant_token(kSecret, strata, sub, kNow + 60);
}

class BrokerAuthTest : public ::testing::Test {
 protected:
  BrokerAuthTest() {
    BrokerOptions o{.region = "eu"};
    auth::VerifierConfig vc;
    vc.hs256_secret = kSecret;
    o.access = auth::AccessPolicy(std::make_shared<auth::TokenVerifier>(vc), nullptr, "");
    o.tickets = std::make_shared<auth::TicketSigner>(kClusterSecret);
    o.unix_now = [] { return kNow; };
    broker_ = std::make_unique<Broker>(registry_, o, [] { return uint64_t(0); });
    broker_->add_routes(router_);
    registry_.put_node(node("origin-1", "origin"), kTtl);
    registry_.put_node(node("edge-1", "edge"), kTtl);
  }

  http::Response call(std::string method, std::string target, std::string query, std::string bearer = "") {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.query = query;
    req.query_params = http::parse_query(query);
    if (!bearer.empty()) req.headers.push_back({"Authorization", "Bearer " + bearer});
    return router_.dispatch(req);
  }
  // The ticket in a redirect's Location, verified as the node would.
  auth::Ticket ticket_of(const http::Response& r) {
    std::string location = r.header("Location").value_or("");
    size_t q = location.find('?');
    auto params = http::parse_query(q == std::string::npos ? "" : location.substr(q + 1));
    auto verified = auth::TicketSigner(kClusterSecret).verify(params["ticket"], kNow);
    EXPECT_TRUE(std::holds_alternative<auth::Ticket>(verified)) << location;
    return std::holds_alternative<auth::Ticket>(verified) ? std::get<auth::Ticket>(verified) : auth::Ticket{};
  }

  testing::FakeRegistry registry_;
  std::unique_ptr<Broker> broker_;
  http::Router router_;
};

TEST_F(BrokerAuthTest, NoTokenIs401WithAChallenge) {
  for (const char* path : {"/whip/show", "/whep/show"}) {
    auto r = call("POST", path, "");
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.header("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u) << path;
    EXPECT_FALSE(r.header("Location")) << "no placement without a token";
  }
}

TEST_F(BrokerAuthTest, WrongRightIs403) {
  EXPECT_EQ(call("POST", "/whip/show", "", token({{"live", "show"}, {"view", true}})).status, 403);
  EXPECT_EQ(call("POST", "/whep/show", "", token({{"live", "other"}, {"view", true}})).status, 403);
}

TEST_F(BrokerAuthTest, PublishRedirectCarriesATicketForTheOrigin) {
  auto r = call("POST", "/whip/show", "host=bob", token({{"live", "show"}, {"publish", true}}));
  ASSERT_EQ(r.status, 307);
  EXPECT_EQ(r.header("Location").value_or("").rfind("http://origin-1.test:8080/whip/show?host=bob&ticket=", 0), 0u);
  auth::Ticket t = ticket_of(r);
  EXPECT_EQ(t.node, "origin-1");
  EXPECT_EQ(t.live, "show");
  EXPECT_EQ(t.host, "bob");
  EXPECT_EQ(t.action, auth::Action::kPublish);
  EXPECT_EQ(t.expires_at, kNow + auth::kTicketLifetimeSeconds);
  EXPECT_EQ(ticket_of(call("POST", "/whip/show", "", token({{"live", "show"}, {"publish", true}}))).host, "host")
      << "no ?host=: the default host";
}

TEST_F(BrokerAuthTest, PinnedHostFindsItsOwnClaim) {
  registry_.put_node(node("origin-2", "origin", 50), kTtl);
  registry_.claim_stream({registry::host_stream("show", "alice"), "origin-2", "eu", "http://origin-2.test:8080"}, kTtl);
  auto alice = token({{"live", "show"}, {"publish", true}}, "alice");
  auto r = call("POST", "/whip/show", "", alice);
  ASSERT_EQ(r.status, 307);
  EXPECT_EQ(ticket_of(r).node, "origin-2") << "the origin holding show/alice";
  EXPECT_EQ(ticket_of(r).host, "alice");
  EXPECT_EQ(call("POST", "/whip/show", "host=bob", alice).status, 403);
}

TEST_F(BrokerAuthTest, ViewRedirectCarriesATicketForTheEdge) {
  registry_.claim_stream({registry::host_stream("show", "host"), "origin-1", "eu", "http://origin-1.test:8080"}, kTtl);
  auto viewer = token({{"live", "sh*"}, {"view", true}});
  auto r = call("POST", "/whep/show", "ticket=forged.xyz&layer=q", viewer);
  ASSERT_EQ(r.status, 307);
  const std::string location = r.header("Location").value_or("");
  EXPECT_EQ(location.find("forged"), std::string::npos) << "a client's own ticket is dropped: " << location;
  EXPECT_NE(location.find("layer=q"), std::string::npos);
  auth::Ticket t = ticket_of(r);
  EXPECT_EQ(t.node, "edge-1");
  EXPECT_EQ(t.action, auth::Action::kView);
  // ?access_token= works as well as the header (and is kept for the node).
  auto by_query = call("POST", "/whep/show", "access_token=" + viewer, "");
  EXPECT_EQ(by_query.status, 307);
  // A host watching its co-hosts: a ticket for its origin.
  auto host = call("POST", "/whep/show", "exclude=host", viewer);
  ASSERT_EQ(host.status, 307);
  EXPECT_EQ(ticket_of(host).node, "origin-1");
}

TEST_F(BrokerAuthTest, AdminApiNeedsAnAdminOfEveryLive) {
  EXPECT_EQ(call("GET", "/api/v1/nodes", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/streams", "", token({{"live", "*"}, {"view", true}})).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/nodes", "", token({{"live", "team-*"}, {"admin", true}})).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/nodes", "", token({{"live", "*"}, {"admin", true}})).status, 200);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200) << "health stays open";
}

}  // namespace
}  // namespace strata::broker
