// Fixture of the cluster control-plane tests (cluster_test.cpp, multi_origin_test.cpp):
// media servers in one process sharing a MemoryRegistry. Requests go through
// http::Router::dispatch like http_api_test.cpp; only nodes that others must reach also run
// a real http::Server. ICE/DTLS between the nodes is not awaited: these tests check
// signaling and bookkeeping.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "broker/broker.hpp"
#include "http/server.hpp"
#include "registry/memory_registry.hpp"
#include "signaling/http_api.hpp"
#include "signaling/track_json.hpp"

namespace strata::signaling::testing_cluster {

using nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kSecret = "s3cret-cluster";
inline constexpr const char* kPublishOffer = "chrome156-publish-gathered-offer.sdp";
inline constexpr const char* kViewOffer = "chrome156-view-recvonly-offer.sdp";

inline std::string read_sdp(const std::string& name) {
  std::ifstream in(std::string(STRATA_TESTDATA_DIR) + "/sdp/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Binds 127.0.0.1:0, reads the port and closes: free for a server started right after.
inline uint16_t free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline json expect_json_error(const http::Response& r, int status, const std::string& error = {}) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.content_type.find("application/json"), std::string::npos) << r.content_type;
  json j = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.body;
  if (!j.is_object()) return json::object();
  EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_TRUE(j.contains("detail") && j["detail"].is_string()) << r.body;
  if (!error.empty()) {
    EXPECT_EQ(j.value("error", ""), error) << r.body;
  }
  return j;
}

// The value of one metric line ("strata_<name> <v>"), -1 when absent.
inline long metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\\nstrata_" + name + " (\\d+)\\n"))) return -1;
  return std::stol(m[1].str());
}

// One media server: workers on 127.0.0.1:0, a SessionManager, a router for in-process
// requests and, if asked, a real HTTP server on `http_port`.
struct Node {
  worker::WorkerGroup workers{1};
  std::shared_ptr<const dtls::Certificate> cert;
  std::unique_ptr<SessionManager> manager;
  http::Router router;
  std::unique_ptr<http::Server> server;

  ~Node() {
    if (server) server->stop();
    workers.stop();
  }

  http::Response call(std::string method, std::string target, std::string body = {}, std::string content_type = {},
                      std::optional<std::string> authorization = std::nullopt) {
    http::Request req;
    req.method = std::move(method);
    if (auto q = target.find('?'); q != std::string::npos) {
      req.query = target.substr(q + 1);
      req.query_params = http::parse_query(req.query);
      target.resize(q);
    }
    req.target = std::move(target);
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    if (authorization) req.headers.emplace_back("Authorization", *authorization);
    req.body = std::move(body);
    return router.dispatch(req);
  }
  http::Response post_sdp(const std::string& target, const std::string& sdp) {
    return call("POST", target, sdp, "application/sdp");
  }
  // POSTs an offer; the session id from Location, "" (and a test failure) otherwise.
  std::string create(const std::string& target, const std::string& sdp) {
    auto r = post_sdp(target, sdp);
    EXPECT_EQ(r.status, 201) << target << ": " << r.body;
    auto loc = r.header("Location");
    if (r.status != 201 || !loc || loc->rfind("/session/", 0) != 0) return "";
    return loc->substr(9);
  }
  json streams() { return json::parse(call("GET", "/api/v1/streams").body)["streams"]; }
  std::string metrics() { return call("GET", "/metrics").body; }
};

class ClusterTest : public testing::Test {
 protected:
  FakeClock clock;
  // Events seen by a subscriber (filled on the registry's dispatcher thread).
  std::mutex events_mu;
  std::condition_variable events_cv;
  std::vector<registry::Event> events;
  std::vector<std::unique_ptr<Node>> nodes;
  // Declared last: destroyed first, so its dispatcher thread is joined before the nodes
  // (which a handler may call into) go away.
  registry::MemoryRegistry registry{clock};

  // `http` starts a real server (edges reach origins through it).
  Node& make_node(NodeRole role, const std::string& id, bool http = false, std::string secret = kSecret,
                  Duration relay_linger = 10s, std::function<void(SessionManagerOptions&)> adjust = {}) {
    auto node = std::make_unique<Node>();
    std::string error;
    EXPECT_TRUE(node->workers.open("127.0.0.1", 0, &error)) << error;
    node->workers.start();
    node->cert = dtls::Certificate::generate();
    EXPECT_TRUE(node->cert);
    SessionManagerOptions o;
    o.role = role;
    o.node_id = id;
    o.region = "local";
    o.cluster_secret = std::move(secret);
    o.registry = &registry;
    o.relay_linger = relay_linger;
    uint16_t port = http ? free_tcp_port() : 9;
    o.http_url = "http://127.0.0.1:" + std::to_string(port);
    if (adjust) adjust(o);
    node->manager = std::make_unique<SessionManager>(node->workers, node->cert, o);
    NodeInfo info{id, to_string(role), "local", o.http_url};
    add_media_routes(node->router, *node->manager, info);
    if (http) {
      http::Router server_router;
      add_media_routes(server_router, *node->manager, info);
      http::ServerOptions so;
      so.port = port;
      node->server = std::make_unique<http::Server>(so, std::move(server_router));
      EXPECT_TRUE(node->server->start(&error)) << error;
    }
    nodes.push_back(std::move(node));
    return *nodes.back();
  }

  void subscribe_events() {
    registry.subscribe([this](const registry::Event& e) {
      std::lock_guard lock(events_mu);
      events.push_back(e);
      events_cv.notify_all();
    });
  }
  bool wait_for_event(const std::string& stream, registry::Event* out,
                      registry::Event::Kind kind = registry::Event::Kind::kStreamEnded,
                      const std::string& origin = "", std::chrono::milliseconds within = 2000ms) {
    std::unique_lock lock(events_mu);
    return events_cv.wait_for(lock, within, [&] {
      for (auto& e : events)
        if (e.stream == stream && e.kind == kind && (origin.empty() || e.origin_id == origin)) return *out = e, true;
      return false;
    });
  }

  static std::string relay_body(const Node& edge) {
    return json{{"edge_id", "edge-x"},
                {"ice_ufrag", "efgh"},
                {"ice_pwd", "bbbbbbbbbbbbbbbbbbbbbbbb"},
                {"fingerprint", "sha-256 " + edge.cert->fingerprint_sha256()}}
        .dump();
  }
  static http::Response post_relay(Node& origin, const std::string& stream, const std::string& body,
                                   std::optional<std::string> authorization) {
    return origin.call("POST", "/relay/" + stream, body, "application/json", std::move(authorization));
  }
};

}  // namespace strata::signaling::testing_cluster
