// The cluster control plane (docs/ARCHITECTURE.md, "Cluster") in one process:
// origin/edge roles, stream claims in a shared MemoryRegistry, the origin's
// POST /relay/{live}/{host} and an edge pulling a relay over real HTTP from an origin.
#include "cluster_fixture.hpp"

namespace strata::signaling {
namespace {

using namespace testing_cluster;
using nlohmann::json;
using namespace std::chrono_literals;

// ---- roles --------------------------------------------------------------------------------

TEST_F(ClusterTest, OriginRefusesViewers) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  expect_json_error(origin.post_sdp("/whep/cam", read_sdp(kViewOffer)), 403, "wrong-role");
  expect_json_error(origin.post_sdp("/whep/other", read_sdp(kViewOffer)), 403, "wrong-role");
}

TEST_F(ClusterTest, EdgeRefusesHosts) {
  Node& edge = make_node(NodeRole::kEdge, "edge-1");
  expect_json_error(edge.post_sdp("/whip/cam", read_sdp(kPublishOffer)), 403, "wrong-role");
  EXPECT_FALSE(registry.stream("cam/host")) << "a refused WHIP must not claim the name";
  EXPECT_TRUE(edge.streams().empty());
}

TEST_F(ClusterTest, OriginWhipClaimsTheStream) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  auto claim = registry.stream("cam/host");
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->origin_id, "origin-1");
  EXPECT_EQ(claim->origin_region, "local");
  EXPECT_EQ(claim->origin_url, "http://127.0.0.1:9");
}

TEST_F(ClusterTest, SecondOriginGets409ForAClaimedName) {
  Node& a = make_node(NodeRole::kOrigin, "origin-a");
  Node& b = make_node(NodeRole::kOrigin, "origin-b");
  ASSERT_FALSE(a.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  expect_json_error(b.post_sdp("/whip/cam", read_sdp(kPublishOffer)), 409);
  EXPECT_TRUE(b.streams().empty());
  EXPECT_EQ(registry.stream("cam/host")->origin_id, "origin-a") << "the loser must not touch the winner's claim";
  // Other names are free on either origin.
  EXPECT_FALSE(b.create("/whip/cam2", read_sdp(kPublishOffer)).empty());
  EXPECT_EQ(registry.stream("cam2/host")->origin_id, "origin-b");
}

TEST_F(ClusterTest, ARefusedSecondHostKeepsTheRunningLivesClaim) {
  Node& a = make_node(NodeRole::kOrigin, "origin-a");
  Node& b = make_node(NodeRole::kOrigin, "origin-b");
  ASSERT_FALSE(a.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  // The same host name again on the origin that serves the live: 409 host-taken.
  expect_json_error(a.post_sdp("/whip/cam", read_sdp(kPublishOffer)), 409);
  ASSERT_TRUE(registry.stream("cam/host")) << "the refusal must not give away the running live's name";
  EXPECT_EQ(registry.stream("cam/host")->origin_id, "origin-a");
  expect_json_error(b.post_sdp("/whip/cam", read_sdp(kPublishOffer)), 409);
}

TEST_F(ClusterTest, RejectedOfferReleasesItsClaim) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  // Parses (so the name is claimed first), but offers no codec the server can receive.
  std::string no_media =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 99\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n"
      "a=fingerprint:sha-256 "
      "41:79:DC:E2:3B:B8:C1:46:A3:29:F6:F3:AD:57:FF:92:F4:47:79:99:3C:5D:29:CF:5E:69:13:6C:C6:DF:DC:14\r\n"
      "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:99 no-such-codec/8000\r\n";
  auto r = origin.post_sdp("/whip/cam", no_media);
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_FALSE(registry.stream("cam/host")) << "a failed publish must give the name back";
}

TEST_F(ClusterTest, HostDeleteReleasesClaimAndPublishesStreamEnded) {
  subscribe_events();
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  Node& other = make_node(NodeRole::kOrigin, "origin-2");
  std::string id = origin.create("/whip/cam", read_sdp(kPublishOffer));
  ASSERT_FALSE(id.empty());
  origin.manager->poll();
  ASSERT_TRUE(registry.stream("cam/host"));

  EXPECT_EQ(origin.call("DELETE", "/session/" + id).status, 200);
  origin.manager->poll();  // registry writes decided under the lock happen here
  EXPECT_FALSE(registry.stream("cam/host"));
  registry::Event e;
  ASSERT_TRUE(wait_for_event("cam/host", &e)) << "no stream_ended within 2 s";
  EXPECT_EQ(e.kind, registry::Event::Kind::kStreamEnded);
  EXPECT_EQ(e.origin_id, "origin-1");
  // The name is free for any origin now.
  EXPECT_FALSE(other.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  EXPECT_EQ(registry.stream("cam/host")->origin_id, "origin-2");
}

TEST_F(ClusterTest, HeartbeatRefreshesClaimAndNodeRecord) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  clock.advance(4s);
  origin.manager->poll();  // first poll: heartbeat, claim refreshed for another 5 s
  auto nodes_seen = registry.nodes("local");
  ASSERT_EQ(nodes_seen.size(), 1u);
  EXPECT_EQ(nodes_seen[0].id, "origin-1");
  EXPECT_EQ(nodes_seen[0].role, "origin");
  EXPECT_EQ(nodes_seen[0].http_url, "http://127.0.0.1:9");
  EXPECT_EQ(nodes_seen[0].sessions, 1u);
  clock.advance(4s);
  EXPECT_TRUE(registry.stream("cam/host")) << "the claim must be refreshed while the host is live";
  EXPECT_TRUE(registry.nodes("local").empty()) << "node records live 3 s without heartbeats";
  clock.advance(2s);
  EXPECT_FALSE(registry.stream("cam/host")) << "without heartbeats the claim expires";
}

// The heartbeat writes the node's real load: process CPU over the last period (here from an
// injected CPU clock, on fake time) and whether it drains. A broker with --max-cpu gives a
// node at or above it no new session (issue 10.3).
TEST_F(ClusterTest, HeartbeatWritesCpuAndDrainingAndTheBrokerHonoursThem) {
  std::map<std::string, Duration> cpu;  // per node: CPU time used so far
  auto load = [&](const std::string& id) {
    return [&, id](SessionManagerOptions& o) {
      o.clock = &clock;
      o.http_url = "http://" + id + ".test";
      o.cpu_count = 2;
      o.process_cpu_time = [&cpu, id] { return cpu[id]; };
    };
  };
  Node& busy = make_node(NodeRole::kOrigin, "origin-busy", false, kSecret, 10s, load("origin-busy"));
  Node& idle = make_node(NodeRole::kOrigin, "origin-idle", false, kSecret, 10s, load("origin-idle"));
  busy.manager->poll();
  idle.manager->poll();
  clock.advance(1s);
  cpu["origin-busy"] += 1800ms;  // 1.8 of 2 cores for a second: 90 %
  cpu["origin-idle"] += 100ms;   // 5 %
  busy.manager->poll();
  idle.manager->poll();
  std::map<std::string, registry::NodeRecord> rec;
  for (auto& n : registry.nodes("local")) rec[n.id] = n;
  EXPECT_DOUBLE_EQ(rec["origin-busy"].cpu, 0.9);
  EXPECT_DOUBLE_EQ(rec["origin-idle"].cpu, 0.05);
  EXPECT_FALSE(rec["origin-idle"].draining);

  broker::BrokerOptions bo;
  bo.region = "local";
  bo.max_cpu = 0.8;
  broker::Broker broker(registry, bo, [] { return uint64_t(0); });
  auto place = [&](const std::string& stream) {
    http::Request req;
    req.method = "POST";
    req.target = "/whip/" + stream;
    req.path_params["stream"] = stream;
    auto r = broker.handle_whip(req);
    return r.status == 307 ? r.header("Location").value_or("") : std::to_string(r.status);
  };
  for (int i = 0; i < 4; ++i) {  // the busy origin has fewer sessions, yet never gets one
    EXPECT_EQ(place("s" + std::to_string(i)), "http://origin-idle.test/whip/s" + std::to_string(i));
    ASSERT_FALSE(idle.create("/whip/s" + std::to_string(i), read_sdp(kPublishOffer)).empty());
  }
  // The idle one starts draining: nobody can take a new stream now.
  idle.manager->set_draining(true);
  clock.advance(1s);
  cpu["origin-busy"] += 1800ms;
  busy.manager->poll();
  idle.manager->poll();
  for (auto& n : registry.nodes("local")) rec[n.id] = n;
  EXPECT_TRUE(rec["origin-idle"].draining);
  EXPECT_EQ(place("s9"), "503");
  // Load falls: the busy origin is eligible again.
  clock.advance(1s);
  cpu["origin-busy"] += 200ms;
  busy.manager->poll();
  EXPECT_EQ(place("s9"), "http://origin-busy.test/whip/s9");
}

// BUG (src/signaling/session_manager.cpp:375-376 queued, session_manager_cluster.cpp:256-257 done):
// ending a stream queues a claim release (and stream_ended) that poll() performs later
// without re-checking the stream. If the host republishes the same name on the same
// origin before that poll (claim_stream answers kAlreadyOurs), poll() releases the claim
// of the now-live stream: another origin can then claim and serve the same name until the
// next heartbeat re-claims it (which then fails with kTaken), and edges are told the live
// stream ended. Fix: in poll(), under mu_, drop queued releases for names in streams_ (or
// erase the name from pending_releases_ in publish_claimed when it goes live again).
TEST_F(ClusterTest, RepublishBeforePollKeepsTheClaim) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  Node& other = make_node(NodeRole::kOrigin, "origin-2");
  origin.manager->poll();  // heartbeat now; the next one is 1 s away
  std::string id = origin.create("/whip/cam", read_sdp(kPublishOffer));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(origin.call("DELETE", "/session/" + id).status, 200);
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());  // host reconnects
  origin.manager->poll();
  auto claim = registry.stream("cam/host");
  ASSERT_TRUE(claim) << "the live stream's claim was released";
  EXPECT_EQ(claim->origin_id, "origin-1");
  expect_json_error(other.post_sdp("/whip/cam", read_sdp(kPublishOffer)), 409);
}

// ---- POST /relay/{stream} on an origin ---------------------------------------------------

TEST_F(ClusterTest, RelayNeedsTheClusterSecret) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  std::string body = relay_body(origin);
  for (std::optional<std::string> auth :
       {std::optional<std::string>(), std::optional<std::string>("Bearer wrong"), std::optional<std::string>(kSecret),
        std::optional<std::string>("Basic " + std::string(kSecret)), std::optional<std::string>("Bearer "),
        std::optional<std::string>("Bearer " + std::string(kSecret) + "x"), std::optional<std::string>("")}) {
    SCOPED_TRACE(auth.value_or("<none>"));
    expect_json_error(post_relay(origin, "cam", body, auth), 403);
  }
  EXPECT_EQ(metric(origin.metrics(), "relays_out"), 0);
}

TEST_F(ClusterTest, RelayRefusedWhenNoSecretIsConfigured) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1", false, "");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  expect_json_error(post_relay(origin, "cam", relay_body(origin), "Bearer "), 403);
}

TEST_F(ClusterTest, EdgeDoesNotServeRelays) {
  Node& edge = make_node(NodeRole::kEdge, "edge-1");
  expect_json_error(post_relay(edge, "cam", relay_body(edge), "Bearer " + std::string(kSecret)), 403, "wrong-role");
}

TEST_F(ClusterTest, RelayOfUnknownStreamIs404) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  expect_json_error(post_relay(origin, "nobody", relay_body(origin), "Bearer " + std::string(kSecret)), 404);
}

TEST_F(ClusterTest, RelayWithBadBodyIs400) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  const std::string auth = "Bearer " + std::string(kSecret);
  for (const std::string body :
       {"", "{", "not json", "[]", "\"x\"", "{}", R"({"ice_ufrag":"a","ice_pwd":"b"})",
        R"({"ice_ufrag":"a","fingerprint":"sha-256 00"})",
        R"({"ice_ufrag":"a","ice_pwd":"b","fingerprint":"no-space"})",
        R"({"ice_ufrag":"a","ice_pwd":"b","fingerprint":"sha-256 zz:yy"})"}) {
    SCOPED_TRACE(body);
    expect_json_error(post_relay(origin, "cam", body, auth), 400);
  }
  EXPECT_EQ(metric(origin.metrics(), "relays_out"), 0);
}

// BUG (src/signaling/session_manager_cluster.cpp:57, 69, 70, 86): create_relay reads the
// body with json::value(key, "") which throws type_error when the key holds another type;
// the router turns that into a 500 instead of a 400. Worse, edge_id is read at line 86,
// after the RelaySendSession was added and posted to a worker: the edge gets a 500 (and
// retries) while the origin keeps a relay nobody will use (strata_relays_out stays 1).
// Fix: check each field with is_string() up front (400 bad-relay-request), and read
// edge_id before add_session_locked.
TEST_F(ClusterTest, RelayWithWrongFieldTypesIs400) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  const std::string auth = "Bearer " + std::string(kSecret);
  const std::string fp = "\"sha-256 " + origin.cert->fingerprint_sha256() + "\"";
  for (const std::string& body : std::vector<std::string>{
           R"({"ice_ufrag":"a","ice_pwd":"b","fingerprint":42})", R"({"ice_ufrag":1,"ice_pwd":"b","fingerprint":)" + fp + "}",
        R"({"ice_ufrag":"a","ice_pwd":[],"fingerprint":)" + fp + "}",
        R"({"edge_id":7,"ice_ufrag":"a","ice_pwd":"b","fingerprint":)" + fp + "}"}) {
    SCOPED_TRACE(body);
    expect_json_error(post_relay(origin, "cam", body, auth), 400);
    EXPECT_EQ(metric(origin.metrics(), "relays_out"), 0) << "a refused relay must not leave a session behind";
  }
}

TEST_F(ClusterTest, RelayOfLiveStreamDescribesIt) {
  Node& origin = make_node(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  auto r = post_relay(origin, "cam", relay_body(origin), "Bearer " + std::string(kSecret));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.content_type.find("application/json"), std::string::npos);
  json j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("ice_ufrag", "").size(), 8u);
  EXPECT_GE(j.value("ice_pwd", "").size(), 22u);
  EXPECT_TRUE(std::regex_match(j.value("fingerprint", ""), std::regex("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}")))
      << j.value("fingerprint", "");
  EXPECT_EQ(j.value("fingerprint", ""), "sha-256 " + origin.cert->fingerprint_sha256());
  ASSERT_TRUE(j["candidates"].is_array());
  ASSERT_EQ(j["candidates"].size(), 1u);
  EXPECT_EQ(j["candidates"][0].value("ip", ""), "127.0.0.1");
  EXPECT_EQ(j["candidates"][0].value("port", 0), origin.workers.at(0).port());
  auto tracks = tracks_from_json(j["tracks"]);
  ASSERT_TRUE(tracks) << j["tracks"].dump();
  json listed = origin.streams();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(tracks->size(), listed[0]["tracks"].size());
  for (size_t i = 0; i < tracks->size(); ++i) {
    EXPECT_EQ((*tracks)[i].mid, listed[0]["tracks"][i]["mid"]);
    EXPECT_EQ((*tracks)[i].codec.name, listed[0]["tracks"][i]["codec"]);
  }
  EXPECT_EQ(listed[0]["relays"], 1);
  EXPECT_EQ(metric(origin.metrics(), "relays_out"), 1);
  // The host leaving closes the relay too.
  std::string pub = listed[0]["publisher"]["session"];
  EXPECT_EQ(origin.call("DELETE", "/session/" + pub).status, 200);
  EXPECT_EQ(metric(origin.metrics(), "relays_out"), 0);
}

// ---- an edge pulling a relay from an origin over HTTP ------------------------------------

class EdgeRelayTest : public ClusterTest {
 protected:
  Node* origin = nullptr;
  Node* edge = nullptr;
  void SetUp() override {
    origin = &make_node(NodeRole::kOrigin, "origin-1", /*http=*/true);
    edge = &make_node(NodeRole::kEdge, "edge-1", false, kSecret, /*relay_linger=*/0s);
  }
  void publish_on_origin(const std::string& stream) {
    ASSERT_FALSE(origin->create("/whip/" + stream, read_sdp(kPublishOffer)).empty());
    origin->manager->poll();
    ASSERT_TRUE(registry.stream(stream + "/host"));
  }
};

TEST_F(EdgeRelayTest, FirstViewerPullsOneRelayAndLaterViewersReuseIt) {
  publish_on_origin("cam");
  auto r = edge->post_sdp("/whep/cam", read_sdp(kViewOffer));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/sdp");
  EXPECT_NE(r.body.find("a=sendonly"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(" " + std::to_string(edge->workers.at(0).port()) + " typ host"), std::string::npos)
      << "viewers connect to the edge's worker\n" << r.body;

  json s = edge->streams();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "cam");
  EXPECT_EQ(s[0]["relayed"], true);
  EXPECT_EQ(s[0]["viewers"], 1);
  EXPECT_EQ(s[0]["tracks"].size(), origin->streams()[0]["tracks"].size());
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1);
  EXPECT_EQ(metric(origin->metrics(), "relays_out"), 1);
  EXPECT_EQ(origin->streams()[0]["relays"], 1);

  EXPECT_FALSE(edge->create("/whep/cam", read_sdp(kViewOffer)).empty());
  EXPECT_EQ(edge->streams()[0]["viewers"], 2);
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1) << "one relay per (edge, stream)";
  EXPECT_EQ(metric(origin->metrics(), "relays_out"), 1);
  EXPECT_EQ(metric(edge->metrics(), "sessions_viewers"), 2);

  edge->manager->poll();  // heartbeat: the edge records that it relays the stream
  auto relays = registry.relays("local", "cam");
  ASSERT_EQ(relays.size(), 1u);
  EXPECT_EQ(relays[0], "edge-1");
}

TEST_F(EdgeRelayTest, ConcurrentFirstViewersShareOneRelay) {
  publish_on_origin("cam");
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&] {
      if (edge->post_sdp("/whep/cam", read_sdp(kViewOffer)).status == 201) ++created;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 3);
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1);
  EXPECT_EQ(metric(origin->metrics(), "relays_out"), 1);
}

TEST_F(EdgeRelayTest, UnclaimedStreamIs409WithRetryAfter) {
  auto r = edge->post_sdp("/whep/nobody", read_sdp(kViewOffer));
  expect_json_error(r, 409);
  auto retry = r.header("Retry-After");
  ASSERT_TRUE(retry);
  EXPECT_GT(std::stoi(*retry), 0);
  EXPECT_EQ(metric(origin->metrics(), "relays_out"), 0);
  EXPECT_TRUE(edge->streams().empty());
}

TEST_F(EdgeRelayTest, UnreachableOriginIs502WithRetryAfter) {
  registry::StreamClaim claim{"ghost/host", "origin-gone", "local", "http://127.0.0.1:" + std::to_string(free_tcp_port())};
  ASSERT_EQ(registry.claim_stream(claim, 5s), registry::ClaimResult::kClaimed);
  auto r = edge->post_sdp("/whep/ghost", read_sdp(kViewOffer));
  expect_json_error(r, 502, "origin-unreachable");
  EXPECT_TRUE(r.header("Retry-After"));
  EXPECT_TRUE(edge->streams().empty());
}

TEST_F(EdgeRelayTest, OriginRefusingTheSecretIs502) {
  Node& strict = make_node(NodeRole::kOrigin, "origin-strict", /*http=*/true, "another-secret");
  ASSERT_FALSE(strict.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  auto r = edge->post_sdp("/whep/cam", read_sdp(kViewOffer));
  json j = expect_json_error(r, 502, "relay-refused");
  EXPECT_NE(j.value("detail", "").find("403"), std::string::npos) << j.dump();
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 0);
}

// A fake origin (a plain http::Server) answering POST /relay/{stream} with `answer`, and
// a claim of `stream` pointing at it.
struct FakeOrigin {
  std::unique_ptr<http::Server> server;
  FakeOrigin(registry::Registry& registry, const std::string& stream, int status, std::string answer) {
    http::Router router;
    router.add("POST", "/relay/{stream}/{host}", [status, answer](const http::Request&) {
      return http::text_response(status, answer, "application/json");
    });
    http::ServerOptions so;
    so.port = 0;
    server = std::make_unique<http::Server>(so, std::move(router));
    std::string error;
    EXPECT_TRUE(server->start(&error)) << error;
    registry::StreamClaim claim{stream + "/host", "fake-origin", "local", "http://127.0.0.1:" + std::to_string(server->port())};
    EXPECT_EQ(registry.claim_stream(claim, 5s), registry::ClaimResult::kClaimed);
  }
  ~FakeOrigin() { server->stop(); }
};

TEST_F(EdgeRelayTest, UnusableRelayAnswersAre502) {
  const std::string fp = "\"sha-256 " + origin->cert->fingerprint_sha256() + "\"";
  const std::string tracks = tracks_to_json({[] {
                               sfu::IngestTrackInfo t;
                               t.mid = "0";
                               t.kind = sfu::MediaKind::kAudio;
                               t.codec.payload_type = 111;
                               t.codec.name = "opus";
                               t.codec.clock_rate = 48000;
                               t.codec.channels = 2;
                               return t;
                             }()}).dump();
  const std::vector<std::pair<int, std::string>> answers = {
      {201, "not json"},
      {201, "[]"},
      {201, "{}"},
      {201, R"({"fingerprint":)" + fp + R"(,"tracks":[]})"},
      {201, R"({"fingerprint":"sha-256 zz","tracks":)" + tracks + "}"},
      {201, R"({"tracks":)" + tracks + "}"},
      {200, R"({"fingerprint":)" + fp + R"(,"tracks":)" + tracks + "}"},
      {500, "{}"},
  };
  int n = 0;
  for (auto& [status, answer] : answers) {
    SCOPED_TRACE(answer);
    std::string stream = "odd" + std::to_string(n++);
    FakeOrigin fake(registry, stream, status, answer);
    auto r = edge->post_sdp("/whep/" + stream, read_sdp(kViewOffer));
    expect_json_error(r, 502);
    EXPECT_TRUE(r.header("Retry-After") || status == 201) << "refusals carry Retry-After";
  }
  EXPECT_TRUE(edge->streams().empty());
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 0);
}

// BUG (src/signaling/session_manager_cluster.cpp:115, 118-119, 123-124): request_relay
// reads the origin's answer with json::value(key, default), which throws type_error on a
// field of another type (fingerprint 42, a candidate port "x", candidates a number); the
// edge's WHEP then fails with a 500 internal_error instead of 502 bad-relay-answer.
// Fix: check types (is_string / is_number_unsigned / is_array) before reading.
TEST_F(EdgeRelayTest, RelayAnswerWithWrongTypesIs502) {
  const std::string fp = "\"sha-256 " + origin->cert->fingerprint_sha256() + "\"";
  const std::string tracks = R"([{"index":0,"mid":"0","kind":"audio","codec":{"pt":111,"name":"opus","clock_rate":48000}}])";
  const std::vector<std::string> answers = {
      R"({"fingerprint":42,"tracks":)" + tracks + "}",
      R"({"fingerprint":)" + fp + R"(,"candidates":[{"ip":"127.0.0.1","port":"x"}],"tracks":)" + tracks + "}",
      R"({"fingerprint":)" + fp + R"(,"candidates":7,"tracks":)" + tracks + "}",
      R"({"fingerprint":)" + fp + R"(,"ice_ufrag":5,"tracks":)" + tracks + "}",
  };
  int n = 0;
  for (auto& answer : answers) {
    SCOPED_TRACE(answer);
    std::string stream = "typed" + std::to_string(n++);
    FakeOrigin fake(registry, stream, 201, answer);
    expect_json_error(edge->post_sdp("/whep/" + stream, read_sdp(kViewOffer)), 502, "bad-relay-answer");
  }
}

TEST_F(EdgeRelayTest, RelayEndsAfterLastViewerAndLinger) {
  publish_on_origin("cam");
  std::string v1 = edge->create("/whep/cam", read_sdp(kViewOffer));
  std::string v2 = edge->create("/whep/cam", read_sdp(kViewOffer));
  ASSERT_FALSE(v1.empty());
  ASSERT_FALSE(v2.empty());
  EXPECT_EQ(edge->call("DELETE", "/session/" + v1).status, 200);
  edge->manager->poll();
  EXPECT_EQ(edge->streams().size(), 1u) << "one viewer is still watching";
  EXPECT_EQ(edge->call("DELETE", "/session/" + v2).status, 200);
  std::this_thread::sleep_for(5ms);  // linger is 0 here
  edge->manager->poll();
  EXPECT_TRUE(edge->streams().empty());
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 0);
  // The next viewer pulls a fresh relay.
  EXPECT_FALSE(edge->create("/whep/cam", read_sdp(kViewOffer)).empty());
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1);
}

// The host's origin died and the host republished on another origin: that origin's
// stream_moved event makes the edge pull from it at its next poll, not at its next
// heartbeat, and the edge's viewers keep their sessions (issue 10.2).
TEST_F(EdgeRelayTest, StreamMovedEventReattachesAtTheNextPoll) {
  registry.subscribe([this](const registry::Event& e) { edge->manager->on_registry_event(e); });
  subscribe_events();
  publish_on_origin("cam");
  std::string viewer = edge->create("/whep/cam", read_sdp(kViewOffer));
  ASSERT_FALSE(viewer.empty());
  edge->manager->poll();  // heartbeat now: the next one is a second away
  // origin-1 dies: its claim runs out (the process is gone, nothing releases it).
  registry.release_claim({"cam/host", "origin-1", "local", ""});
  Node& second = make_node(NodeRole::kOrigin, "origin-2", /*http=*/true);
  ASSERT_FALSE(second.create("/whip/cam", read_sdp(kPublishOffer)).empty());
  registry::Event e;
  ASSERT_TRUE(wait_for_event("cam/host", &e, registry::Event::Kind::kStreamMoved, "origin-2"));
  EXPECT_EQ(metric(second.metrics(), "relays_out"), 0);
  edge->manager->poll();  // not a heartbeat: only the event can make it re-attach
  EXPECT_EQ(metric(second.metrics(), "relays_out"), 1) << "the edge did not pull from the new origin";
  EXPECT_EQ(metric(edge->metrics(), "relays_in"), 1);
  EXPECT_TRUE(edge->manager->has_session(viewer)) << "the viewer keeps its session";
  // A late stream_ended of the dead origin must not end the stream that moved.
  edge->manager->on_registry_event({registry::Event::Kind::kStreamEnded, "cam/host", "origin-1"});
  EXPECT_TRUE(edge->manager->has_session(viewer));
  EXPECT_EQ(edge->streams().size(), 1u);
}

TEST_F(EdgeRelayTest, StreamEndedEventEndsTheEdgeStream) {
  registry.subscribe([this](const registry::Event& e) { edge->manager->on_registry_event(e); });
  subscribe_events();
  publish_on_origin("cam");
  ASSERT_FALSE(edge->create("/whep/cam", read_sdp(kViewOffer)).empty());
  std::string pub = origin->streams()[0]["publisher"]["session"];
  EXPECT_EQ(origin->call("DELETE", "/session/" + pub).status, 200);
  EXPECT_EQ(metric(origin->metrics(), "relays_out"), 0) << "the host leaving closes its relays";
  origin->manager->poll();
  registry::Event e;
  ASSERT_TRUE(wait_for_event("cam/host", &e));
  // Handlers run in subscription order: the edge's ran before ours saw the event.
  EXPECT_TRUE(edge->streams().empty());
  EXPECT_EQ(metric(edge->metrics(), "sessions_viewers"), 0);
  EXPECT_FALSE(registry.stream("cam/host"));
  expect_json_error(edge->post_sdp("/whep/cam", read_sdp(kViewOffer)), 409);
}

}  // namespace
}  // namespace strata::signaling
