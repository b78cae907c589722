// Lives with several hosts through the HTTP contract (README, "Lives with several hosts"):
// WHIP ?host=, WHEP slots and filters, the event stream, /api/v1/lives and the documented
// 4xx answers, over a real SessionManager on one started worker.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "http/event_stream.hpp"
#include "signaling/http_api.hpp"
#include "slots_offer.hpp"

namespace strata::signaling {
namespace {

using nlohmann::json;
using testing_offers::slots_offer;

std::string read_sdp(const std::string& name) {
  std::ifstream in(std::string(STRATA_TESTDATA_DIR) + "/sdp/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The answer's m-lines in order: kind, mid, direction, first SSRC.
struct AnsweredMedia {
  std::string kind, mid, direction;
  std::string ssrc;
};
std::vector<AnsweredMedia> answered(const std::string& sdp) {
  std::vector<AnsweredMedia> out;
  std::istringstream in(sdp);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("m=", 0) == 0) out.push_back({line.substr(2, line.find(' ') - 2), "", "", ""});
    if (out.empty()) continue;
    if (line.rfind("a=mid:", 0) == 0) out.back().mid = line.substr(6);
    for (const char* d : {"sendonly", "recvonly", "inactive", "sendrecv"})
      if (line == std::string("a=") + d) out.back().direction = d;
    if (line.rfind("a=ssrc:", 0) == 0 && out.back().ssrc.empty()) out.back().ssrc = line.substr(7, line.find(' ') - 7);
  }
  return out;
}

class RoomsApiTest : public testing::Test {
 protected:
  worker::WorkerGroup workers{1};
  SessionManagerOptions options;
  std::unique_ptr<SessionManager> manager;
  http::Router router;

  void start(size_t max_hosts = 9) {
    std::string error;
    ASSERT_TRUE(workers.open("127.0.0.1", 0, &error)) << error;
    workers.start();
    options.max_hosts = max_hosts;
    manager = std::make_unique<SessionManager>(workers, dtls::Certificate::generate(), options);
    add_media_routes(router, *manager, NodeInfo{"node-1", "dev", "local", "http://127.0.0.1:8080"});
  }
  void SetUp() override { start(); }
  void TearDown() override { workers.stop(); }

  http::Response call(std::string method, std::string target, std::string body = {}, std::string type = {}) {
    http::Request req;
    req.method = std::move(method);
    const auto q = target.find('?');
    req.target = target.substr(0, q);
    if (q != std::string::npos) {
      req.query = target.substr(q + 1);
      req.query_params = http::parse_query(req.query);
    }
    if (!type.empty()) req.headers.emplace_back("Content-Type", type);
    req.body = std::move(body);
    return router.dispatch(req);
  }
  http::Response post_sdp(const std::string& target, const std::string& sdp) {
    return call("POST", target, sdp, "application/sdp");
  }
  std::string create(const std::string& target, const std::string& sdp, http::Response* out = nullptr) {
    auto r = post_sdp(target, sdp);
    EXPECT_EQ(r.status, 201) << target << ": " << r.body;
    if (out) *out = r;
    auto loc = r.header("Location");
    return r.status == 201 && loc ? loc->substr(9) : "";
  }
  std::string host(const std::string& live, const std::string& name) {
    return create("/whip/" + live + "?host=" + name, read_sdp("chrome156-publish-gathered-offer.sdp"));
  }
  json live(const std::string& name) {
    auto r = call("GET", "/api/v1/lives/" + name);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

json expect_error(const http::Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  json j = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.body;
  if (!j.is_object()) return json::object();
  EXPECT_EQ(j.value("error", ""), code) << r.body;
  EXPECT_FALSE(j.value("detail", "").empty()) << r.body;
  return j;
}

// The next `live` event of a stream (polled: events are queued by the control plane).
std::optional<json> next_event(http::EventStream& es, std::string& buffer) {
  for (int i = 0; i < 200; ++i) {
    es.take(buffer);
    auto end = buffer.find("\n\n");
    if (end != std::string::npos) {
      std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      auto data = event.find("data: ");
      EXPECT_EQ(event.rfind("event: live\n", 0), 0u) << event;
      if (data == std::string::npos) return std::nullopt;
      return json::parse(event.substr(data + 6), nullptr, false);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

TEST_F(RoomsApiTest, TwoHostsFillATwoSlotViewerInJoinOrder) {
  ASSERT_FALSE(host("show", "A").empty());
  ASSERT_FALSE(host("show", "B").empty());
  http::Response r;
  const std::string viewer = create("/whep/show", slots_offer(2), &r);
  ASSERT_FALSE(viewer.empty());
  // Every slot sendonly, with an SSRC of its own.
  auto media = answered(r.body);
  ASSERT_EQ(media.size(), 4u) << r.body;
  std::set<std::string> ssrcs;
  for (auto& m : media) {
    EXPECT_EQ(m.direction, "sendonly") << m.kind << " " << m.mid;
    EXPECT_FALSE(m.ssrc.empty()) << m.mid;
    ssrcs.insert(m.ssrc);
  }
  EXPECT_EQ(ssrcs.size(), 4u);
  auto link = r.header("Link");
  ASSERT_TRUE(link);
  EXPECT_EQ(*link, "</session/" + viewer + "/events>; rel=\"urn:ietf:params:whep:ext:core:server-sent-events\"; events=\"live\"");

  json l = live("show");
  ASSERT_EQ(l["hosts"].size(), 2u) << l.dump();
  EXPECT_EQ(l["hosts"][0]["name"], "A");
  EXPECT_EQ(l["hosts"][1]["name"], "B");
  ASSERT_EQ(l["viewers"].size(), 1u);
  json slots = l["viewers"][0]["slots"];
  ASSERT_EQ(slots.size(), 2u);
  // Each slot carries its own layer choice (nothing forwarded yet: no media, no layer).
  const json no_layer = {{"current", -1}, {"target", -1}, {"requested", -1}, {"temporal", -1}, {"switches", 0},
                         {"share_bps", 0}, {"layer_bps", 0}};
  EXPECT_EQ(slots[0], json({{"mid", "1"}, {"audio_mid", "0"}, {"host", "A"}, {"layer", no_layer}}));
  EXPECT_EQ(slots[1], json({{"mid", "3"}, {"audio_mid", "2"}, {"host", "B"}, {"layer", no_layer}}));
  EXPECT_TRUE(l["viewers"][0].contains("estimate_bps"));
  EXPECT_EQ(call("GET", "/api/v1/lives").status, 200);
  expect_error(call("GET", "/api/v1/lives/nosuch"), 404, "unknown-live");
}

TEST_F(RoomsApiTest, OneSlotGetsTheFirstHostAndFiltersChooseOthers) {
  ASSERT_FALSE(host("show", "A").empty());
  ASSERT_FALSE(host("show", "B").empty());
  ASSERT_FALSE(create("/whep/show", slots_offer(1)).empty());
  ASSERT_FALSE(create("/whep/show?exclude=A", slots_offer(1)).empty());
  ASSERT_FALSE(create("/whep/show?host=B", slots_offer(1)).empty());
  json viewers = live("show")["viewers"];
  ASSERT_EQ(viewers.size(), 3u);
  EXPECT_EQ(viewers[0]["slots"][0]["host"], "A");
  EXPECT_EQ(viewers[0]["filter"], "all");
  EXPECT_EQ(viewers[1]["slots"][0]["host"], "B");
  EXPECT_EQ(viewers[1]["filter"], "exclude:A");
  EXPECT_EQ(viewers[2]["slots"][0]["host"], "B");
  // A plain WHIP is the default host, and a plain WHEP of a one-host live watches it.
  ASSERT_FALSE(create("/whip/solo", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  ASSERT_FALSE(create("/whep/solo", read_sdp("chrome156-view-recvonly-offer.sdp")).empty());
  EXPECT_EQ(live("solo")["hosts"][0]["name"], "host");
  EXPECT_EQ(live("solo")["viewers"][0]["slots"][0]["host"], "host");
}

TEST_F(RoomsApiTest, EventsFollowHostsLeavingAndJoining) {
  ASSERT_FALSE(host("show", "A").empty());
  const std::string b = host("show", "B");
  const std::string viewer = create("/whep/show", slots_offer(2));
  ASSERT_FALSE(viewer.empty());
  auto r = call("GET", "/session/" + viewer + "/events");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.events);
  std::string buffer;
  auto first = next_event(*r.events, buffer);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["live"], "show");
  EXPECT_EQ((*first)["viewers"], 1);
  EXPECT_EQ((*first)["slots"][1]["host"], "B");
  EXPECT_EQ((*first)["slots"][1]["mid"], "3");
  EXPECT_EQ((*first)["slots"][1]["live"], false) << "B has not connected its media";
  EXPECT_TRUE((*first)["speaker"].is_null());

  ASSERT_EQ(call("DELETE", "/session/" + b).status, 200);
  auto left = next_event(*r.events, buffer);
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["hosts"].size(), 1u) << left->dump();
  EXPECT_TRUE((*left)["slots"][1]["host"].is_null()) << left->dump();
  EXPECT_EQ((*left)["slots"][0]["host"], "A");

  ASSERT_FALSE(host("show", "C").empty());
  auto joined = next_event(*r.events, buffer);
  ASSERT_TRUE(joined);
  EXPECT_EQ((*joined)["slots"][1]["host"], "C") << joined->dump();

  // A host's own session has the stream too, without slots; ending the viewer closes its.
  ASSERT_EQ(call("DELETE", "/session/" + viewer).status, 200);
  for (int i = 0; i < 100 && !r.events->closed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(r.events->closed());
}

TEST_F(RoomsApiTest, HostsOfALiveSendOneCodec) {
  ASSERT_FALSE(host("show", "A").empty());
  auto r = post_sdp("/whip/show?host=B", read_sdp("chrome156-simulcast-h264-offer.sdp"));
  if (r.status == 201) GTEST_SKIP() << "the H264 offer negotiated VP8 too";
  expect_error(r, 409, "codec-mismatch");
}

TEST_F(RoomsApiTest, PerSlotLayerByMid) {
  ASSERT_FALSE(create("/whip/sim?host=A", read_sdp("chrome156-simulcast-vp8-offer.sdp")).empty());
  const std::string viewer = create("/whep/sim", slots_offer(2));
  ASSERT_FALSE(viewer.empty());
  auto ok = call("POST", "/session/" + viewer + "/layer", R"({"mid": "1", "layer": "h"})", "application/json");
  EXPECT_EQ(ok.status, 200) << ok.body;
  expect_error(call("POST", "/session/" + viewer + "/layer", R"({"mid": "9", "layer": "h"})"), 400, "unknown-mid");
  expect_error(call("POST", "/session/" + viewer + "/layer", R"({"mid": "1", "layer": "x"})"), 400, "unknown-layer");
  EXPECT_EQ(call("POST", "/session/" + viewer + "/layer", R"({"layer": "auto"})").status, 200);
}

class RoomsLimitsTest : public RoomsApiTest {
 protected:
  void SetUp() override { start(/*max_hosts=*/2); }
};

TEST_F(RoomsLimitsTest, BadInputIsADocumented4xx) {
  ASSERT_FALSE(host("show", "A").empty());
  const std::string publish = read_sdp("chrome156-publish-gathered-offer.sdp");
  expect_error(post_sdp("/whip/show?host=A", publish), 409, "host-taken");
  expect_error(post_sdp("/whip/show?host=bad$name", publish), 400, "bad-host-name");
  expect_error(post_sdp("/whip/show?host=", publish), 400, "bad-host-name");
  ASSERT_FALSE(host("show", "B").empty());
  expect_error(post_sdp("/whip/show?host=C", publish), 409, "too-many-hosts");
  expect_error(post_sdp("/whep/show", slots_offer(3)), 400, "too-many-slots");
  expect_error(post_sdp("/whep/show?host=nosuch", slots_offer(1)), 404, "unknown-host");
  expect_error(post_sdp("/whep/show?host=A&exclude=B", slots_offer(1)), 400, "bad-filter");
  expect_error(post_sdp("/whep/show?exclude=no%20good", slots_offer(1)), 400, "bad-host-name");
  expect_error(call("GET", "/session/0123456789abcdef/events"), 404, "unknown-session");
  EXPECT_EQ(live("show")["viewers"].size(), 0u) << "nothing half-created";
}

}  // namespace
}  // namespace strata::signaling
