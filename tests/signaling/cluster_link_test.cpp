// The cluster glue alone (signaling/cluster_link.hpp): claims, queued registry writes,
// heartbeats, an edge's relay request and the origin's checks, on fake time, with a
// MemoryRegistry and a fake HTTP client instead of a network. The SessionManager's use of
// it is covered end to end by cluster_test.cpp.
#include "signaling/cluster_link.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "registry/memory_registry.hpp"
#include "signaling/track_json.hpp"

namespace strata::signaling {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecret = "s3cret-cluster";

// A registry that can be made unreachable: every call then fails as a Redis timeout would.
class SwitchableRegistry final : public registry::Registry {
 public:
  explicit SwitchableRegistry(registry::Registry& inner) : inner_(inner) {}
  bool down = false;

  bool put_node(const registry::NodeRecord& n, Duration ttl) override { return !down && inner_.put_node(n, ttl); }
  bool remove_node(const registry::NodeRecord& n) override { return !down && inner_.remove_node(n); }
  registry::Read<std::vector<registry::NodeRecord>> read_nodes(std::string_view region) override {
    return down ? registry::Read<std::vector<registry::NodeRecord>>{} : inner_.read_nodes(region);
  }
  registry::ClaimResult claim_stream(const registry::StreamClaim& c, Duration ttl) override {
    return down ? registry::ClaimResult::kError : inner_.claim_stream(c, ttl);
  }
  bool refresh_claim(const registry::StreamClaim& c, Duration ttl) override { return !down && inner_.refresh_claim(c, ttl); }
  bool release_claim(const registry::StreamClaim& c) override { return !down && inner_.release_claim(c); }
  registry::Read<std::optional<registry::StreamClaim>> read_stream(std::string_view name) override {
    return down ? registry::Read<std::optional<registry::StreamClaim>>{} : inner_.read_stream(name);
  }
  registry::Read<std::vector<registry::StreamClaim>> read_streams() override {
    return down ? registry::Read<std::vector<registry::StreamClaim>>{} : inner_.read_streams();
  }
  registry::Read<std::vector<registry::StreamClaim>> read_live(std::string_view live) override {
    return down ? registry::Read<std::vector<registry::StreamClaim>>{} : inner_.read_live(live);
  }
  bool put_relay(std::string_view region, std::string_view stream, std::string_view edge, Duration ttl) override {
    return !down && inner_.put_relay(region, stream, edge, ttl);
  }
  bool remove_relay(std::string_view region, std::string_view stream, std::string_view edge) override {
    return !down && inner_.remove_relay(region, stream, edge);
  }
  registry::Read<std::vector<std::string>> read_relays(std::string_view region, std::string_view stream) override {
    return down ? registry::Read<std::vector<std::string>>{} : inner_.read_relays(region, stream);
  }
  bool publish(const registry::Event& e) override { return !down && inner_.publish(e); }
  void subscribe(std::function<void(const registry::Event&)> handler) override { inner_.subscribe(std::move(handler)); }
  bool healthy() override { return !down; }

 private:
  registry::Registry& inner_;
};

struct HttpCall {
  std::string method, url, body;
  std::vector<std::pair<std::string, std::string>> headers;
  Duration timeout{};
};

std::string header(const HttpCall& c, const std::string& name) {
  for (auto& [k, v] : c.headers)
    if (k == name) return v;
  return "";
}

sfu::IngestTrackInfo opus_track() {
  sfu::IngestTrackInfo t;
  t.mid = "0";
  t.kind = sfu::MediaKind::kAudio;
  t.codec.payload_type = 111;
  t.codec.name = "opus";
  t.codec.clock_rate = 48000;
  t.codec.channels = 2;
  return t;
}

class ClusterLinkTest : public testing::Test {
 protected:
  FakeClock clock;
  Duration cpu_used{};  // the injected process CPU clock
  std::vector<HttpCall> calls;
  std::optional<http::ClientResponse> http_answer;  // nullopt: the origin is unreachable
  std::shared_ptr<const dtls::Certificate> cert = dtls::Certificate::generate();
  std::shared_ptr<const dtls::Certificate> origin_cert = dtls::Certificate::generate();
  std::mutex events_mu;
  std::condition_variable events_cv;
  std::vector<registry::Event> events;
  // Declared last: destroyed first, so its dispatcher thread is joined before the rest goes.
  registry::MemoryRegistry memory{clock};
  SwitchableRegistry registry{memory};

  ClusterLinkOptions options(NodeRole role, const std::string& id) {
    ClusterLinkOptions o;
    o.role = role;
    o.node_id = id;
    o.region = "local";
    o.http_url = "http://" + id + ".test";
    o.public_ip = "192.0.2.7";
    o.cluster_secret = kSecret;
    o.certificate = cert;
    o.consent_timeout = 7s;
    o.capacity = 250;
    o.cpu_count = 2;
    o.process_cpu_time = [this] { return cpu_used; };
    return o;
  }
  // The fake origin takes 40 ms of fake time to answer.
  HttpClient fake_http() {
    return [this](const std::string& method, const std::string& url,
                  const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body, Duration timeout,
                  std::string* error) -> std::optional<http::ClientResponse> {
      calls.push_back({method, url, body, headers, timeout});
      clock.advance(40ms);
      if (!http_answer) *error = "connection refused";
      return http_answer;
    };
  }
  std::unique_ptr<RegistryClusterLink> link(NodeRole role, const std::string& id) {
    return std::make_unique<RegistryClusterLink>(registry, clock, fake_http(), options(role, id));
  }

  void subscribe_events() {
    registry.subscribe([this](const registry::Event& e) {
      std::lock_guard lock(events_mu);
      events.push_back(e);
      events_cv.notify_all();
    });
  }
  // Waits for `n` events (the memory registry delivers them on its own thread).
  bool wait_for_events(size_t n) {
    std::unique_lock lock(events_mu);
    return events_cv.wait_for(lock, 2s, [&] { return events.size() >= n; });
  }

  registry::StreamClaim origin_claim(const std::string& stream = "cam") {
    return {stream, "origin-9", "local", "http://origin-9.test"};
  }
  json good_answer() {
    return json{{"session", "/session/abc"},
                {"ice_ufrag", "orgn"},
                {"ice_pwd", "oooooooooooooooooooooooo"},
                {"fingerprint", "sha-256 " + origin_cert->fingerprint_sha256()},
                {"candidates", json::array({{{"ip", "198.51.100.4"}, {"port", 40000}}})},
                {"tracks", tracks_to_json({opus_track()})}};
  }
  std::string relay_body() {
    return json{{"edge_id", "edge-1"},
                {"ice_ufrag", "efgh"},
                {"ice_pwd", "bbbbbbbbbbbbbbbbbbbbbbbb"},
                {"fingerprint", "sha-256 " + origin_cert->fingerprint_sha256()}}
        .dump();
  }
};

ApiError error_of(const auto& result) {
  EXPECT_TRUE(std::holds_alternative<ApiError>(result));
  return std::holds_alternative<ApiError>(result) ? std::get<ApiError>(result) : ApiError{};
}

// ---- claims and queued writes ------------------------------------------------------------

TEST_F(ClusterLinkTest, ClaimIsTakenOnceAndRefusedToOthers) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  auto other = link(NodeRole::kOrigin, "origin-2");
  EXPECT_FALSE(origin->claim_stream("cam/ann"));
  EXPECT_FALSE(origin->claim_stream("cam/ann")) << "our own claim again (a host reconnecting) is fine";
  EXPECT_FALSE(other->claim_stream("cam/bob")) << "another host of the same live, on another origin";
  auto refused = other->claim_stream("cam/ann");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409);
  EXPECT_EQ(refused->error, "host-taken");
  EXPECT_NE(refused->detail.find("'ann'"), std::string::npos) << refused->detail;
  EXPECT_EQ(refused->retry_after, 2);
  auto claim = registry.stream("cam/ann");
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->origin_id, "origin-1");
  EXPECT_EQ(claim->origin_region, "local");
  EXPECT_EQ(claim->origin_url, "http://origin-1.test");
  auto hosts = origin->live_hosts("cam");
  ASSERT_TRUE(hosts);
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].origin_id, "origin-1");
  EXPECT_EQ((*hosts)[1].origin_id, "origin-2");
}

TEST_F(ClusterLinkTest, ClaimWithoutRegistryIs503WithRetryAfter) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  registry.down = true;
  auto refused = origin->claim_stream("cam");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->error, "registry-unavailable");
  EXPECT_EQ(refused->retry_after, 2);
}

TEST_F(ClusterLinkTest, ReleaseNowAndAnnounce) {
  subscribe_events();
  auto origin = link(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin->claim_stream("cam"));
  origin->release_stream("cam");
  EXPECT_FALSE(registry.stream("cam"));
  origin->announce_stream("cam");
  ASSERT_TRUE(wait_for_events(1));
  std::lock_guard lock(events_mu);
  EXPECT_EQ(events[0].kind, registry::Event::Kind::kStreamMoved);
  EXPECT_EQ(events[0].stream, "cam");
  EXPECT_EQ(events[0].origin_id, "origin-1");
}

// Ending a stream is decided under the SessionManager's lock: the release and the event
// wait for the control thread's send_queued().
TEST_F(ClusterLinkTest, StreamEndedIsQueuedAndSentByThePeriodicCall) {
  subscribe_events();
  auto origin = link(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin->claim_stream("cam"));
  origin->queue_stream_ended("cam");
  EXPECT_TRUE(registry.stream("cam")) << "nothing is sent before the periodic call";
  origin->send_queued();
  EXPECT_FALSE(registry.stream("cam"));
  ASSERT_TRUE(wait_for_events(1));
  {
    std::lock_guard lock(events_mu);
    EXPECT_EQ(events[0].kind, registry::Event::Kind::kStreamEnded);
    EXPECT_EQ(events[0].stream, "cam");
    EXPECT_EQ(events[0].origin_id, "origin-1");
  }
  origin->send_queued();  // sent once
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(events_mu);
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(ClusterLinkTest, CancelledStreamEndKeepsTheNewRunsClaim) {
  subscribe_events();
  auto origin = link(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin->claim_stream("cam"));
  ASSERT_FALSE(origin->claim_stream("other"));
  origin->queue_stream_ended("cam");
  origin->queue_stream_ended("other");
  origin->cancel_queued("cam");  // the host republished "cam" before the poll
  origin->send_queued();
  EXPECT_TRUE(registry.stream("cam"));
  EXPECT_FALSE(registry.stream("other"));
  ASSERT_TRUE(wait_for_events(1));
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(events_mu);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stream, "other");
}

// ---- heartbeat -----------------------------------------------------------------------------

TEST_F(ClusterLinkTest, HeartbeatWritesTheNodeRecord) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  origin->heartbeat({3, 1'000'000, false}, {});
  auto first = registry.nodes("local");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].id, "origin-1");
  EXPECT_EQ(first[0].role, "origin");
  EXPECT_EQ(first[0].region, "local");
  EXPECT_EQ(first[0].http_url, "http://origin-1.test");
  EXPECT_EQ(first[0].sessions, 3u);
  EXPECT_EQ(first[0].capacity, 250u);
  EXPECT_EQ(first[0].cpu, 0.0) << "no interval yet";
  EXPECT_EQ(first[0].egress_bps, 0u) << "no interval yet";
  EXPECT_FALSE(first[0].draining);

  clock.advance(2s);
  cpu_used += 1s;  // 1 s of CPU over 2 s on 2 cores: 25 %
  origin->heartbeat({4, 1'000'000 + 500'000, true}, {});
  auto second = registry.nodes("local");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_DOUBLE_EQ(second[0].cpu, 0.25);
  EXPECT_EQ(second[0].egress_bps, 2'000'000u) << "500 kB in 2 s";
  EXPECT_EQ(second[0].sessions, 4u);
  EXPECT_TRUE(second[0].draining);

  clock.advance(3s + 1ms);
  EXPECT_TRUE(registry.nodes("local").empty()) << "records live node_ttl (3 s) without heartbeats";
}

TEST_F(ClusterLinkTest, HeartbeatKeepsClaimsAndTakesLostOnesAgain) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  ASSERT_FALSE(origin->claim_stream("cam"));
  clock.advance(4s);
  origin->heartbeat({}, {.hosted = {"cam"}});
  clock.advance(4s);
  ASSERT_TRUE(registry.stream("cam")) << "refreshed for another claim_ttl";
  // The registry lost its data (a restarted Redis): the next beat claims again.
  registry.release_claim({"cam", "origin-1", "local", "http://origin-1.test"});
  origin->heartbeat({}, {.hosted = {"cam"}});
  auto claim = registry.stream("cam");
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->origin_id, "origin-1");
  // Taken meanwhile by another origin: it stays theirs.
  registry.release_claim(*claim);
  ASSERT_EQ(registry.claim_stream(origin_claim(), 5s), registry::ClaimResult::kClaimed);
  origin->heartbeat({}, {.hosted = {"cam"}});
  EXPECT_EQ(registry.stream("cam")->origin_id, "origin-9");
}

TEST_F(ClusterLinkTest, HeartbeatRecordsRelays) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  edge->heartbeat({}, {.relayed = {"cam"}});
  EXPECT_EQ(registry.relays("local", "cam"), std::vector<std::string>{"edge-1"});
  EXPECT_EQ(registry.nodes("local").at(0).role, "edge");
}

// ---- edge: finding the origin, relay set-up -------------------------------------------------

TEST_F(ClusterLinkTest, FindOrigin) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  auto none = error_of(edge->find_origin("cam"));
  EXPECT_EQ(none.status, 409);
  EXPECT_EQ(none.error, "stream-not-live");
  EXPECT_EQ(none.retry_after, 2);
  ASSERT_EQ(registry.claim_stream(origin_claim(), 5s), registry::ClaimResult::kClaimed);
  auto found = edge->find_origin("cam");
  ASSERT_TRUE(std::holds_alternative<registry::StreamClaim>(found));
  EXPECT_EQ(std::get<registry::StreamClaim>(found).origin_url, "http://origin-9.test");
  registry.down = true;
  auto down = error_of(edge->find_origin("cam"));
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.error, "registry-unavailable");
  EXPECT_EQ(down.retry_after, 2);
}

TEST_F(ClusterLinkTest, MovedClaimOnlyWhenAnotherOriginHasIt) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  EXPECT_FALSE(edge->moved_claim("cam", "origin-9")) << "not live again yet";
  ASSERT_EQ(registry.claim_stream(origin_claim(), 5s), registry::ClaimResult::kClaimed);
  EXPECT_FALSE(edge->moved_claim("cam", "origin-9"));
  auto moved = edge->moved_claim("cam", "origin-1");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->origin_id, "origin-9");
  registry.down = true;
  EXPECT_FALSE(edge->moved_claim("cam", "origin-1")) << "an unanswered read changes nothing";
}

TEST_F(ClusterLinkTest, RelayRequestAndGoodAnswer) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  http_answer = http::ClientResponse{201, {}, good_answer().dump()};
  auto result = edge->request_relay("cam", origin_claim());
  ASSERT_TRUE(std::holds_alternative<RelayPlan>(result)) << error_of(result).detail;
  const RelayPlan& plan = std::get<RelayPlan>(result);

  ASSERT_EQ(calls.size(), 1u);
  const HttpCall& call = calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "http://origin-9.test/relay/cam");
  EXPECT_EQ(header(call, "Authorization"), std::string("Bearer ") + kSecret);
  EXPECT_EQ(header(call, "Content-Type"), "application/json");
  EXPECT_EQ(call.timeout, 3s);
  json body = json::parse(call.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << call.body;
  EXPECT_EQ(body.size(), 4u) << call.body;
  EXPECT_EQ(body.value("edge_id", ""), "edge-1");
  EXPECT_EQ(body.value("ice_ufrag", "").size(), 8u);
  EXPECT_EQ(body.value("ice_pwd", "").size(), 24u);
  EXPECT_EQ(body.value("fingerprint", ""), "sha-256 " + cert->fingerprint_sha256());

  const transport::TransportConfig& c = plan.config;
  EXPECT_EQ(c.local_ufrag, body.value("ice_ufrag", ""));
  EXPECT_EQ(c.local_pwd, body.value("ice_pwd", ""));
  EXPECT_EQ(c.remote_ufrag, "orgn");
  EXPECT_EQ(c.remote_pwd, "oooooooooooooooooooooooo");
  EXPECT_EQ(c.remote_fingerprint_algorithm, "sha-256");
  EXPECT_EQ(c.remote_fingerprint, *dtls::parse_fingerprint(origin_cert->fingerprint_sha256()));
  ASSERT_EQ(c.remote_candidates.size(), 1u);
  EXPECT_EQ(c.remote_candidates[0].to_string(), "198.51.100.4:40000");
  EXPECT_TRUE(c.ice_controlling);
  EXPECT_EQ(c.dtls_role, dtls::Role::kClient);
  EXPECT_EQ(c.certificate, cert);
  EXPECT_EQ(c.consent_timeout, 7s);
  ASSERT_EQ(plan.tracks.size(), 1u);
  EXPECT_EQ(plan.tracks[0].codec.name, "opus");
  EXPECT_EQ(plan.claim.origin_id, "origin-9");
  EXPECT_EQ(plan.setup_rtt, 40ms) << "the POST's round trip on the injected clock";
}

TEST_F(ClusterLinkTest, UnreachableOrRefusingOriginIs502WithRetryAfter) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  auto unreachable = error_of(edge->request_relay("cam", origin_claim()));
  EXPECT_EQ(unreachable.status, 502);
  EXPECT_EQ(unreachable.error, "origin-unreachable");
  EXPECT_NE(unreachable.detail.find("connection refused"), std::string::npos) << unreachable.detail;
  EXPECT_EQ(unreachable.retry_after, 2);
  for (int status : {200, 403, 404, 500}) {
    http_answer = http::ClientResponse{status, {}, good_answer().dump()};
    auto refused = error_of(edge->request_relay("cam", origin_claim()));
    EXPECT_EQ(refused.status, 502);
    EXPECT_EQ(refused.error, "relay-refused");
    EXPECT_EQ(refused.retry_after, 2);
  }
}

TEST_F(ClusterLinkTest, EveryBadFieldOfTheAnswerIs502BadRelayAnswer) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  auto without = [&](const char* key) {
    json j = good_answer();
    j.erase(key);
    return j.dump();
  };
  auto with = [&](const char* key, json value) {
    json j = good_answer();
    j[key] = std::move(value);
    return j.dump();
  };
  auto candidate = [&](json c) { return with("candidates", json::array({std::move(c)})); };
  const std::vector<std::string> answers = {
      "not json", "[]", "\"x\"", "{}",
      without("tracks"), with("tracks", 7), with("tracks", json::array({json{{"kind", "audio"}}})),
      without("fingerprint"), with("fingerprint", 42), with("fingerprint", "no-space"), with("fingerprint", "sha-256 zz"),
      without("ice_ufrag"), with("ice_ufrag", 5),
      without("ice_pwd"), with("ice_pwd", json::array()),
      without("candidates"), with("candidates", 7), with("candidates", json::array()),
      candidate("127.0.0.1:4000"), candidate({{"port", 4000}}), candidate({{"ip", 1}, {"port", 4000}}),
      candidate({{"ip", "127.0.0.1"}}), candidate({{"ip", "127.0.0.1"}, {"port", "x"}}),
      candidate({{"ip", "127.0.0.1"}, {"port", -1}}), candidate({{"ip", "127.0.0.1"}, {"port", 70000}}),
      candidate({{"ip", "not-an-ip"}, {"port", 4000}}),  // no usable candidate left
  };
  for (auto& answer : answers) {
    SCOPED_TRACE(answer);
    http_answer = http::ClientResponse{201, {}, answer};
    auto bad = error_of(edge->request_relay("cam", origin_claim()));
    EXPECT_EQ(bad.status, 502);
    EXPECT_EQ(bad.error, "bad-relay-answer");
  }
}

TEST_F(ClusterLinkTest, RelaySetUpsOfOneStreamWaitForEachOther) {
  auto edge = link(NodeRole::kEdge, "edge-1");
  std::atomic<bool> second_in{false};
  std::thread second;
  {
    RelaySetupLock held = edge->lock_relay_setup("cam");
    second = std::thread([&] {
      RelaySetupLock mine = edge->lock_relay_setup("cam");
      second_in = true;
    });
    RelaySetupLock other = edge->lock_relay_setup("other");  // another stream: no wait
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(second_in) << "a second set-up of the stream ran while the first held it";
  }
  second.join();
  EXPECT_TRUE(second_in);
}

// ---- origin: POST /relay/{stream} ---------------------------------------------------------

TEST_F(ClusterLinkTest, RelayRequestNeedsTheSecret) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  for (std::optional<std::string> auth :
       {std::optional<std::string>(), std::optional<std::string>("Bearer wrong"), std::optional<std::string>(kSecret),
        std::optional<std::string>("Bearer "), std::optional<std::string>("Bearer " + std::string(kSecret) + "x")}) {
    SCOPED_TRACE(auth.value_or("<none>"));
    auto refused = error_of(origin->accept_relay_request(relay_body(), auth));
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.error, "forbidden");
  }
  auto o = options(NodeRole::kOrigin, "origin-2");
  o.cluster_secret.clear();
  RegistryClusterLink no_secret(registry, clock, fake_http(), o);
  EXPECT_EQ(error_of(no_secret.accept_relay_request(relay_body(), "Bearer ")).status, 403) << "no secret, no relays";
  auto edge = link(NodeRole::kEdge, "edge-1");
  EXPECT_EQ(error_of(edge->accept_relay_request(relay_body(), std::string("Bearer ") + kSecret)).error, "wrong-role");
}

TEST_F(ClusterLinkTest, BadRelayRequestBodiesAre400) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  const std::string fp = "\"sha-256 " + origin_cert->fingerprint_sha256() + "\"";
  for (const std::string& body : std::vector<std::string>{
           "", "{", "[]", "{}", R"({"edge_id":"e","ice_ufrag":"a","ice_pwd":"b"})",
           R"({"edge_id":"e","ice_ufrag":"","ice_pwd":"b","fingerprint":)" + fp + "}",
           R"({"edge_id":"e","ice_ufrag":"a","ice_pwd":"","fingerprint":)" + fp + "}",
           R"({"edge_id":7,"ice_ufrag":"a","ice_pwd":"b","fingerprint":)" + fp + "}",
           R"({"ice_ufrag":"a","ice_pwd":"b","fingerprint":)" + fp + "}",
           R"({"edge_id":"e","ice_ufrag":"a","ice_pwd":"b","fingerprint":42})",
           R"({"edge_id":"e","ice_ufrag":"a","ice_pwd":"b","fingerprint":"no-space"})",
           R"({"edge_id":"e","ice_ufrag":"a","ice_pwd":"b","fingerprint":"sha-256 zz:yy"})"}) {
    SCOPED_TRACE(body);
    auto refused = error_of(origin->accept_relay_request(body, std::string("Bearer ") + kSecret));
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(refused.error, "bad-relay-request");
  }
}

TEST_F(ClusterLinkTest, AcceptedRelayRequestAndItsAnswer) {
  auto origin = link(NodeRole::kOrigin, "origin-1");
  auto result = origin->accept_relay_request(relay_body(), std::string("Bearer ") + kSecret);
  ASSERT_TRUE(std::holds_alternative<AcceptedRelay>(result)) << error_of(result).detail;
  const AcceptedRelay& accepted = std::get<AcceptedRelay>(result);
  EXPECT_EQ(accepted.edge_id, "edge-1");
  const transport::TransportConfig& c = accepted.config;
  EXPECT_EQ(c.remote_ufrag, "efgh");
  EXPECT_EQ(c.remote_pwd, "bbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(c.remote_fingerprint, *dtls::parse_fingerprint(origin_cert->fingerprint_sha256()));
  EXPECT_EQ(c.local_ufrag.size(), 8u);
  EXPECT_EQ(c.local_pwd.size(), 24u);
  EXPECT_EQ(c.dtls_role, dtls::Role::kServer) << "the edge is the DTLS client";
  EXPECT_FALSE(c.ice_controlling);
  EXPECT_EQ(c.certificate, cert);
  EXPECT_EQ(c.consent_timeout, 7s);

  json answer = origin->relay_answer({"s1", c.local_ufrag, c.local_pwd, 40002, {opus_track()}});
  EXPECT_EQ(answer["session"], "/session/s1");
  EXPECT_EQ(answer["ice_ufrag"], c.local_ufrag);
  EXPECT_EQ(answer["ice_pwd"], c.local_pwd);
  EXPECT_EQ(answer["fingerprint"], "sha-256 " + cert->fingerprint_sha256());
  EXPECT_EQ(answer["candidates"], json::parse(R"([{"ip":"192.0.2.7","port":40002}])"));
  EXPECT_EQ(answer["tracks"], tracks_to_json({opus_track()}));

  // What the origin answers, an edge accepts.
  http_answer = http::ClientResponse{201, {}, answer.dump()};
  auto edge = link(NodeRole::kEdge, "edge-1");
  EXPECT_TRUE(std::holds_alternative<RelayPlan>(edge->request_relay("cam", origin_claim())));
}

// ---- standalone (`strata dev`) -------------------------------------------------------------

TEST_F(ClusterLinkTest, StandaloneClaimsEverythingAndRelaysNothing) {
  subscribe_events();
  StandaloneClusterLink dev(options(NodeRole::kDev, "dev-1"));
  EXPECT_FALSE(dev.claim_stream("cam"));
  dev.queue_stream_ended("cam");
  dev.send_queued();
  dev.announce_stream("cam");
  dev.heartbeat({1, 1, false}, {.hosted = {"cam"}});
  EXPECT_FALSE(registry.stream("cam"));
  EXPECT_TRUE(registry.nodes("local").empty());
  auto none = error_of(dev.find_origin("cam"));
  EXPECT_EQ(none.status, 409);
  EXPECT_EQ(none.error, "stream-not-live");
  EXPECT_EQ(none.retry_after, 2);
  EXPECT_EQ(error_of(dev.request_relay("cam", origin_claim())).error, "stream-not-live");
  EXPECT_FALSE(dev.moved_claim("cam", "origin-1"));
  EXPECT_EQ(error_of(dev.accept_relay_request(relay_body(), std::nullopt)).status, 403);
  EXPECT_TRUE(calls.empty());
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(events_mu);
  EXPECT_TRUE(events.empty());
}

TEST_F(ClusterLinkTest, MakeClusterLinkPicksByRegistry) {
  EXPECT_TRUE(dynamic_cast<StandaloneClusterLink*>(
      make_cluster_link(nullptr, clock, {}, options(NodeRole::kDev, "dev-1")).get()));
  EXPECT_TRUE(dynamic_cast<RegistryClusterLink*>(
      make_cluster_link(&registry, clock, {}, options(NodeRole::kOrigin, "origin-1")).get()));
}

}  // namespace
}  // namespace strata::signaling
