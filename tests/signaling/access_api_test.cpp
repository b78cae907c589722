// The node's HTTP API with access control and limits on (README, "Access control",
// "Limits"): every row of the contract through http::Router::dispatch over a real
// SessionManager on one started worker.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../auth/token_minter.hpp"
#include "auth/ticket.hpp"
#include "signaling/http_api.hpp"

namespace strata::signaling {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kClusterSecret = "the-cluster-secret";

std::string read_sdp(const std::string& name) {
  std::ifstream in(std::string(STRATA_TESTDATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string token(json strata, std::string sub = "", int64_t exp = kNow + 60) {
  return auth::testing::grant_token(kSecret, strata, sub, exp);
}

const std::string kPublishOffer = read_sdp("chrome156-publish-gathered-offer.sdp");
const std::string kViewOffer = read_sdp("chrome156-view-recvonly-offer.sdp");

class AccessApiTest : public testing::Test {
 protected:
  worker::WorkerGroup workers{1};
  SessionManagerOptions options;
  std::unique_ptr<SessionManager> manager;
  http::Router router;
  http::Router metrics_only;  // what --metrics-http serves

  void start() {
    std::string error;
    ASSERT_TRUE(workers.open("127.0.0.1", 0, &error)) << error;
    workers.start();
    manager = std::make_unique<SessionManager>(workers, dtls::Certificate::generate(), options);
    ApiAccess access;
    auth::VerifierConfig vc;
    vc.hs256_secret = kSecret;
    access.policy = auth::AccessPolicy(std::make_shared<auth::TokenVerifier>(vc),
                                       std::make_shared<auth::TicketSigner>(kClusterSecret), "node-1");
    access.unix_now = [] { return kNow; };
    add_media_routes(router, *manager, NodeInfo{"node-1", "dev", "local", "http://127.0.0.1:8080"}, access,
                     &metrics_only);
  }
  void SetUp() override { start(); }
  void TearDown() override { workers.stop(); }

  http::Response call(std::string method, std::string target, std::string bearer = "", std::string body = {},
                      std::string remote = "192.0.2.10:5000") {
    http::Request req;
    req.method = std::move(method);
    const size_t q = target.find('?');
    req.target = target.substr(0, q);
    if (q != std::string::npos) {
      req.query = target.substr(q + 1);
      req.query_params = http::parse_query(req.query);
    }
    if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/sdp");
    req.body = std::move(body);
    req.remote_address = std::move(remote);
    return router.dispatch(req);
  }
  std::string session_of(const http::Response& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    auto loc = r.header("Location").value_or("");
    return loc.rfind("/session/", 0) == 0 ? loc.substr(9) : "";
  }
  std::string publisher = token({{"live", "show"}, {"publish", true}});
  std::string viewer = token({{"live", "show"}, {"view", true}});
  std::string root = token({{"live", "*"}, {"admin", true}});
};

std::string error_of(const http::Response& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "";
}

TEST_F(AccessApiTest, WhipAndWhepNeedTheirGrant) {
  auto r = call("POST", "/whip/show", "", kPublishOffer);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), "auth-required");
  EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Bearer realm=\"strata\"");
  r = call("POST", "/whip/show", "not.a.jwt", kPublishOffer);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.header("WWW-Authenticate").value_or("").find("error=\"invalid_token\""), std::string::npos);
  EXPECT_EQ(call("POST", "/whip/show", token({{"live", "show"}, {"publish", true}}, "", kNow - 60), kPublishOffer).status, 401);
  EXPECT_EQ(call("POST", "/whip/show", viewer, kPublishOffer).status, 403);
  EXPECT_EQ(call("POST", "/whip/other", publisher, kPublishOffer).status, 403);
  ASSERT_FALSE(session_of(call("POST", "/whip/show", publisher, kPublishOffer)).empty());

  EXPECT_EQ(call("POST", "/whep/show", "", kViewOffer).status, 401);
  EXPECT_EQ(call("POST", "/whep/show", publisher, kViewOffer).status, 403);
  EXPECT_FALSE(session_of(call("POST", "/whep/show", viewer, kViewOffer)).empty());
  EXPECT_FALSE(session_of(call("POST", "/whep/show?access_token=" + viewer, "", kViewOffer)).empty());
  EXPECT_EQ(call("POST", "/whep/show?access_token=x" + viewer, "", kViewOffer).status, 401);
}

TEST_F(AccessApiTest, PublishTokenPinsTheHostName) {
  auto alice = token({{"live", "show"}, {"publish", true}}, "alice");
  EXPECT_EQ(call("POST", "/whip/show?host=bob", alice, kPublishOffer).status, 403);
  ASSERT_FALSE(session_of(call("POST", "/whip/show", alice, kPublishOffer)).empty());
  auto lives = json::parse(call("GET", "/api/v1/lives", root).body);
  ASSERT_EQ(lives["lives"].size(), 1u);
  EXPECT_EQ(lives["lives"][0]["hosts"][0]["name"], "alice") << "sub is the host name";
}

TEST_F(AccessApiTest, BrokerTicketForThisNodeOnly) {
  auth::TicketSigner signer(kClusterSecret);
  auth::Ticket t{auth::Action::kPublish, "show", "host", "node-1", "", kNow + 30};
  EXPECT_FALSE(session_of(call("POST", "/whip/show?ticket=" + signer.issue(t), "", kPublishOffer)).empty());
  t.node = "node-2";
  t.host = "guest";
  auto r = call("POST", "/whip/show?host=guest&ticket=" + signer.issue(t), "", kPublishOffer);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), "invalid-ticket");
}

TEST_F(AccessApiTest, AdminApiAndMetrics) {
  for (const char* path : {"/api/v1/lives", "/api/v1/streams", "/api/v1/nodes", "/metrics"}) {
    EXPECT_EQ(call("GET", path).status, 401) << path;
    EXPECT_EQ(call("GET", path, viewer).status, 403) << path;
    EXPECT_EQ(call("GET", path, token({{"live", "show"}, {"admin", true}})).status, 403) << path << ": one live's admin";
    EXPECT_EQ(call("GET", path, root).status, 200) << path;
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  http::Request req;
  req.method = "GET";
  req.target = "/metrics";
  EXPECT_EQ(metrics_only.dispatch(req).status, 200) << "--metrics-http needs no token";
}

TEST_F(AccessApiTest, AdminEndsASessionAndALive) {
  ASSERT_FALSE(session_of(call("POST", "/whip/show", publisher, kPublishOffer)).empty());
  const std::string v1 = session_of(call("POST", "/whep/show", viewer, kViewOffer));
  const std::string v2 = session_of(call("POST", "/whep/show", viewer, kViewOffer));
  auto moderator = token({{"live", "sh*"}, {"admin", true}});
  auto elsewhere = token({{"live", "other"}, {"admin", true}});
  EXPECT_EQ(call("DELETE", "/api/v1/sessions/" + v1).status, 401);
  EXPECT_EQ(call("DELETE", "/api/v1/sessions/" + v1, elsewhere).status, 403) << "an admin of another live";
  EXPECT_TRUE(manager->has_session(v1));
  auto kicked = call("DELETE", "/api/v1/sessions/" + v1, moderator);
  EXPECT_EQ(kicked.status, 200) << kicked.body;
  EXPECT_FALSE(manager->has_session(v1));
  EXPECT_EQ(call("DELETE", "/api/v1/sessions/" + v1, root).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/sessions/" + v1, moderator).status, 403) << "an unknown id: only for the server's admin";

  EXPECT_EQ(call("DELETE", "/api/v1/lives/show", elsewhere).status, 403);
  auto ended = call("DELETE", "/api/v1/lives/show", moderator);
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(json::parse(ended.body)["ended_sessions"], 2) << "the host and the remaining viewer";
  EXPECT_FALSE(manager->has_session(v2));
  EXPECT_EQ(call("DELETE", "/api/v1/lives/show", root).status, 404);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/lives", root).body)["lives"].size(), 0u);
}

TEST_F(AccessApiTest, TooManyMLinesIs400) {
  std::string offer = kViewOffer;
  for (int i = 0; i < 25; ++i) offer += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:x" + std::to_string(i) + "\r\n";
  auto r = call("POST", "/whip/show", publisher, offer);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r), "too-many-m-lines");
}

class LimitsApiTest : public AccessApiTest {
 protected:
  void SetUp() override {
    options.client_limits = auth::ClientLimits{.sessions_per_second = 0, .max_sessions = 2};
    start();
  }
};

TEST_F(LimitsApiTest, ConcurrentSessionsPerClientAre429) {
  ASSERT_FALSE(session_of(call("POST", "/whip/show", publisher, kPublishOffer)).empty());
  const std::string v = session_of(call("POST", "/whep/show", viewer, kViewOffer));
  auto r = call("POST", "/whep/show", viewer, kViewOffer);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(error_of(r), "too-many-sessions");
  EXPECT_TRUE(r.header("Retry-After"));
  EXPECT_FALSE(session_of(call("POST", "/whep/show", viewer, kViewOffer, "192.0.2.11:5000")).empty())
      << "another client is not affected";
  EXPECT_EQ(call("DELETE", "/session/" + v).status, 200);
  EXPECT_FALSE(session_of(call("POST", "/whep/show", viewer, kViewOffer)).empty()) << "a session ended frees a place";
}

class RateApiTest : public AccessApiTest {
 protected:
  void SetUp() override {
    options.client_limits = auth::ClientLimits{.sessions_per_second = 0.5, .burst = 2};
    start();
  }
};

TEST_F(RateApiTest, NewSessionsPerClientAreRateLimited) {
  ASSERT_FALSE(session_of(call("POST", "/whip/show", publisher, kPublishOffer)).empty());
  ASSERT_FALSE(session_of(call("POST", "/whep/show", viewer, kViewOffer)).empty());
  auto r = call("POST", "/whep/show", viewer, kViewOffer);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(error_of(r), "too-many-requests");
  EXPECT_EQ(r.header("Retry-After").value_or(""), "2");
  EXPECT_EQ(call("POST", "/whep/show", viewer, kViewOffer, "[2001:db8:1:2::5]:4000").status, 201);
  EXPECT_EQ(call("POST", "/whep/show", viewer, kViewOffer, "[2001:db8:1:2::6]:4000").status, 201);
  EXPECT_EQ(call("POST", "/whep/show", viewer, kViewOffer, "[2001:db8:1:2::7]:4000").status, 429)
      << "one /64 is one client";
}

}  // namespace
}  // namespace strata::signaling
