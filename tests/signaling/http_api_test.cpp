// The WHIP/WHEP HTTP contract (RFC 9725, the README's HTTP API) through http::Router::dispatch,
// over a real SessionManager on one started data-plane worker bound to 127.0.0.1:0.
// Real browser/GStreamer/aiortc offers come from tests/data/sdp.
#include "signaling/http_api.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <regex>
#include <sstream>
#include <thread>

#include "dtls/dtls_transport.hpp"
#include "srtp/srtp_session.hpp"
#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::signaling {
namespace {

using nlohmann::json;

std::string read_sdp(const std::string& name) {
  std::ifstream in(std::string(STRATA_TESTDATA_DIR) + "/sdp/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Removes every line starting with `prefix` (SDP lines end in \r\n or \n).
std::string drop_lines(const std::string& sdp, const std::string& prefix) {
  std::istringstream in(sdp);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

// A minimal one-m-line audio offer, to vary one thing at a time.
std::string audio_offer(const std::string& payloads, const std::string& rtpmaps, const std::string& direction = "sendonly") {
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF " + payloads + "\r\nc=IN IP4 0.0.0.0\r\n"
         "a=ice-ufrag:abcd\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n"
         "a=fingerprint:sha-256 "
         "41:79:DC:E2:3B:B8:C1:46:A3:29:F6:F3:AD:57:FF:92:F4:47:79:99:3C:5D:29:CF:5E:69:13:6C:C6:DF:DC:14\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=" + direction + "\r\na=rtcp-mux\r\n" + rtpmaps;
}

std::string sdp_attribute(const std::string& sdp, const std::string& name) {
  std::smatch m;
  std::regex re("a=" + name + ":([^\r\n]+)");
  return std::regex_search(sdp, m, re) ? m[1].str() : "";
}

class HttpApiTest : public testing::Test {
 protected:
  worker::WorkerGroup workers{1};
  SessionManagerOptions options;
  std::shared_ptr<const dtls::Certificate> cert;
  std::unique_ptr<SessionManager> manager;
  http::Router router;

  void SetUp() override {
    std::string error;
    ASSERT_TRUE(workers.open("127.0.0.1", 0, &error)) << error;
    workers.start();
    cert = dtls::Certificate::generate();
    ASSERT_TRUE(cert);
    manager = std::make_unique<SessionManager>(workers, cert, options);
    add_media_routes(router, *manager, NodeInfo{"node-1", "dev", "local", "http://127.0.0.1:8080"});
  }
  void TearDown() override { workers.stop(); }

  http::Response call(std::string method, std::string target, std::string body = {},
                      std::string content_type = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    req.body = std::move(body);
    return router.dispatch(req);
  }
  http::Response post_sdp(const std::string& target, const std::string& sdp) {
    return call("POST", target, sdp, "application/sdp");
  }
  // POSTs and returns the session id from Location ("" on failure, with a test failure).
  std::string create(const std::string& target, const std::string& sdp) {
    auto r = post_sdp(target, sdp);
    EXPECT_EQ(r.status, 201) << r.body;
    auto loc = r.header("Location");
    if (r.status != 201 || !loc || loc->rfind("/session/", 0) != 0) return "";
    return loc->substr(9);
  }
  json streams() {
    auto r = call("GET", "/api/v1/streams");
    EXPECT_EQ(r.status, 200);
    return json::parse(r.body);
  }
  std::string metrics() { return call("GET", "/metrics").body; }
  // /metrics once it contains every line of `want` (polled: workers update counters on their
  // own threads), or after 2 s, whatever it says then.
  std::string wait_for_metrics(std::vector<std::string> want) {
    std::string m;
    for (int i = 0; i < 200; ++i) {
      m = metrics();
      bool all = true;
      for (auto& w : want) all &= m.find(w) != std::string::npos;
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return m;
  }
};

// A JSON error with the contract's shape; returns it for further checks.
json expect_json_error(const http::Response& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.content_type.find("application/json"), std::string::npos) << r.content_type;
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  if (j.is_discarded()) return json::object();
  EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_TRUE(j.contains("detail") && j["detail"].is_string()) << r.body;
  return j;
}

// ---- WHIP: every real publish offer -------------------------------------------------------

class PublishOffer : public HttpApiTest, public testing::WithParamInterface<const char*> {};

TEST_P(PublishOffer, IsAcceptedWithIceLiteAnswer) {
  auto r = post_sdp("/whip/cam", read_sdp(GetParam()));
  ASSERT_EQ(r.status, 201) << r.body;
  auto loc = r.header("Location");
  ASSERT_TRUE(loc);
  EXPECT_TRUE(std::regex_match(*loc, std::regex("/session/[0-9a-f]+"))) << *loc;
  auto etag = r.header("ETag");
  ASSERT_TRUE(etag);
  EXPECT_TRUE(std::regex_match(*etag, std::regex("\"[^\"]+\""))) << "RFC 9110 §8.8.3 entity-tag is quoted: " << *etag;
  EXPECT_EQ(r.content_type, "application/sdp");

  const std::string& answer = r.body;
  EXPECT_NE(answer.find("a=ice-lite"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=end-of-candidates"), std::string::npos) << answer;
  const std::string port = std::to_string(workers.at(0).port());
  EXPECT_TRUE(std::regex_search(answer, std::regex("a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 " + port + " typ host")))
      << "port " << port << "\n" << answer;
  EXPECT_NE(answer.find("a=setup:passive"), std::string::npos) << "offers are actpass; the server answers passive";
  EXPECT_NE(answer.find("a=recvonly"), std::string::npos);
  EXPECT_EQ(sdp_attribute(answer, "ice-ufrag").size(), 8u);
  EXPECT_GE(sdp_attribute(answer, "ice-pwd").size(), 22u);  // RFC 8839 §5.4: at least 128 bits

  json s = streams()["streams"];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "cam");
  EXPECT_FALSE(s[0]["tracks"].empty());
}

INSTANTIATE_TEST_SUITE_P(RealOffers, PublishOffer,
                         testing::Values("chrome156-publish-gathered-offer.sdp", "chrome156-simulcast-vp8-offer.sdp",
                                         "chrome156-simulcast-h264-offer.sdp", "chrome156-simulcast-vp9-l1t3-offer.sdp",
                                         "chrome156-simulcast-av1-l1t3-offer.sdp", "gstreamer122-webrtcbin-offer.sdp",
                                         "aiortc14-publish-offer.sdp"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n = n.substr(0, n.find(".sdp"));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST_F(HttpApiTest, SimulcastPublishListsRids) {
  ASSERT_FALSE(create("/whip/sim", read_sdp("chrome156-simulcast-vp8-offer.sdp")).empty());
  json tracks = streams()["streams"][0]["tracks"];
  bool video_with_rids = false;
  for (auto& t : tracks)
    if (t["kind"] == "video" && t["rids"].size() == 3) video_with_rids = true;
  EXPECT_TRUE(video_with_rids) << tracks.dump();
}

TEST_F(HttpApiTest, ContentTypeWithParametersIsAccepted) {
  auto r = call("POST", "/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"), "Application/SDP; charset=utf-8");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(HttpApiTest, SecondPublishOnSameStreamConflicts) {
  ASSERT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  auto r = post_sdp("/whip/cam", read_sdp("chrome156-simulcast-vp8-offer.sdp"));
  expect_json_error(r, 409);
  EXPECT_EQ(streams()["streams"].size(), 1u);
  // Another name is independent.
  EXPECT_FALSE(create("/whip/cam2", read_sdp("chrome156-simulcast-vp8-offer.sdp")).empty());
}

// ---- WHEP ---------------------------------------------------------------------------------

TEST_F(HttpApiTest, ViewBeforeStreamExistsIs409WithRetryAfter) {
  auto r = post_sdp("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"));
  expect_json_error(r, 409);
  auto retry = r.header("Retry-After");
  ASSERT_TRUE(retry);
  EXPECT_GT(std::stoi(*retry), 0);
}

TEST_F(HttpApiTest, ChromiumViewerOfChromiumPublisherGetsSendonlyAnswerWithSsrcs) {
  ASSERT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  auto r = post_sdp("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/sdp");
  ASSERT_TRUE(r.header("Location"));
  ASSERT_TRUE(r.header("ETag"));
  EXPECT_NE(r.body.find("a=sendonly"), std::string::npos) << r.body;
  EXPECT_TRUE(std::regex_search(r.body, std::regex("a=ssrc:\\d+ cname:"))) << r.body;
  EXPECT_NE(r.body.find("a=ice-lite"), std::string::npos);
  EXPECT_NE(r.body.find("a=end-of-candidates"), std::string::npos);
  EXPECT_EQ(streams()["streams"][0]["viewers"], 1);
}

TEST_F(HttpApiTest, AiortcViewerOfAiortcPublisher) {
  ASSERT_FALSE(create("/whip/a", read_sdp("aiortc14-publish-offer.sdp")).empty());
  auto r = post_sdp("/whep/a", read_sdp("aiortc14-view-offer.sdp"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("a=sendonly"), std::string::npos);
}

TEST_F(HttpApiTest, PublishOfferOnWhepIsRejected) {
  ASSERT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  auto r = post_sdp("/whep/cam", read_sdp("chrome156-simulcast-vp8-offer.sdp"));  // sendonly offer
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  expect_json_error(r, r.status);
}

// ---- bad input ----------------------------------------------------------------------------

TEST_F(HttpApiTest, MalformedSdpIs400) {
  for (std::string body : {"hello world", "", "v=0\r\n", "v=0\r\no=broken\r\nm=video\r\n"}) {
    auto r = post_sdp("/whip/cam", body);
    auto j = expect_json_error(r, 400);
    EXPECT_FALSE(j.value("detail", "").empty()) << "body: " << body;
  }
  EXPECT_TRUE(streams()["streams"].empty());
}

TEST_F(HttpApiTest, OfferWithoutBundleIs400AndSaysSo) {
  auto r = post_sdp("/whip/cam", drop_lines(read_sdp("chrome156-publish-gathered-offer.sdp"), "a=group:BUNDLE"));
  auto j = expect_json_error(r, 400);
  std::string detail = j.value("detail", "");
  std::transform(detail.begin(), detail.end(), detail.begin(), ::tolower);
  EXPECT_NE(detail.find("bundle"), std::string::npos) << detail;
}

TEST_F(HttpApiTest, MinimalOpusOfferIsAccepted) {
  // Control for the next test: the hand-written offer is fine apart from its codec.
  auto r = post_sdp("/whip/cam", audio_offer("111", "a=rtpmap:111 opus/48000/2\r\n"));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(HttpApiTest, OnlyUnsupportedCodecsIsClientError) {
  auto r = post_sdp("/whip/cam", audio_offer("0", "a=rtpmap:0 PCMU/8000\r\n"));
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  expect_json_error(r, r.status);
  EXPECT_TRUE(streams()["streams"].empty());
  EXPECT_NE(metrics().find("strata_signaling_rejected_total 1"), std::string::npos);
}

TEST_F(HttpApiTest, WrongContentTypeIs415) {
  const std::string offer = read_sdp("chrome156-publish-gathered-offer.sdp");
  expect_json_error(call("POST", "/whip/cam", offer, "text/plain"), 415);
  expect_json_error(call("POST", "/whip/cam", offer, "application/json"), 415);
  expect_json_error(call("POST", "/whip/cam", offer), 415);  // none at all
  expect_json_error(call("POST", "/whep/cam", offer, "application/sdpx"), 415);
  EXPECT_TRUE(streams()["streams"].empty());
}

TEST_F(HttpApiTest, BadStreamNamesAre400) {
  const std::string offer = read_sdp("chrome156-publish-gathered-offer.sdp");
  for (std::string name : std::vector<std::string>{"bad%20name", "a%2Fb", std::string(65, 'x'), "%00", "caf%C3%A9", "semi;colon"}) {
    expect_json_error(post_sdp("/whip/" + name, offer), 400);
    expect_json_error(post_sdp("/whep/" + name, read_sdp("chrome156-view-recvonly-offer.sdp")), 400);
  }
  // Edges that are valid.
  EXPECT_FALSE(create("/whip/" + std::string(64, 'x'), offer).empty());
  EXPECT_FALSE(create("/whip/A-b_c.9", read_sdp("chrome156-simulcast-vp8-offer.sdp")).empty());
}

TEST_F(HttpApiTest, UnknownRoutesAndMethods) {
  expect_json_error(call("GET", "/nope"), 404);
  auto r = call("GET", "/whip/cam");
  expect_json_error(r, 405);
  EXPECT_TRUE(r.header("Allow"));
  expect_json_error(call("POST", "/whip/"), 404);
}

// ---- session lifecycle --------------------------------------------------------------------

TEST_F(HttpApiTest, DeleteUnknownSessionIs404) {
  expect_json_error(call("DELETE", "/session/0123456789abcdef"), 404);
}

TEST_F(HttpApiTest, DeleteViewerKeepsStream) {
  ASSERT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  std::string viewer = create("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"));
  ASSERT_FALSE(viewer.empty());
  EXPECT_EQ(call("DELETE", "/session/" + viewer).status, 200);
  json s = streams()["streams"];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["viewers"], 0);
  expect_json_error(call("DELETE", "/session/" + viewer), 404);
}

TEST_F(HttpApiTest, DeletePublisherEndsStreamAndItsViewers) {
  std::string pub = create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"));
  std::string v1 = create("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"));
  std::string v2 = create("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"));
  ASSERT_FALSE(pub.empty() || v1.empty() || v2.empty());
  EXPECT_NE(v1, v2);
  EXPECT_EQ(manager->session_count(), 3u);
  EXPECT_NE(metrics().find("strata_sessions_viewers 2"), std::string::npos);

  auto r = call("DELETE", "/session/" + pub);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(streams()["streams"].empty());
  EXPECT_EQ(manager->session_count(), 0u);
  for (const auto& v : {v1, v2}) {
    expect_json_error(call("DELETE", "/session/" + v), 404);
    expect_json_error(call("PATCH", "/session/" + v, "a=candidate:1 1 udp 1 1.2.3.4 5 typ host\r\n",
                           "application/trickle-ice-sdpfrag"),
                      404);
  }
  std::string m = metrics();
  EXPECT_NE(m.find("strata_sessions_publishers 0"), std::string::npos);
  EXPECT_NE(m.find("strata_sessions_viewers 0"), std::string::npos);
  // The name is free again.
  EXPECT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
}

TEST_F(HttpApiTest, PatchTrickleIs204) {
  std::string pub = create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"));
  ASSERT_FALSE(pub.empty());
  auto r = call("PATCH", "/session/" + pub,
                "a=mid:0\r\na=candidate:1 1 udp 2122194687 192.0.2.2 51253 typ host\r\n",
                "application/trickle-ice-sdpfrag");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  expect_json_error(call("PATCH", "/session/" + pub, "a=end-of-candidates\r\n", "application/sdp"), 415);
}

TEST_F(HttpApiTest, PatchUnknownSessionIs404) {
  expect_json_error(call("PATCH", "/session/ffff", "a=end-of-candidates\r\n", "application/trickle-ice-sdpfrag"), 404);
}

TEST_F(HttpApiTest, PatchWithNewCredentialsIsIceRestart) {
  std::string pub = create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"));
  ASSERT_FALSE(pub.empty());
  auto r = call("PATCH", "/session/" + pub, "a=ice-ufrag:newc\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=mid:0\r\n",
                "application/trickle-ice-sdpfrag");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/trickle-ice-sdpfrag");
  EXPECT_TRUE(r.header("ETag"));
  EXPECT_NE(r.body.find("a=ice-lite"), std::string::npos);
  EXPECT_FALSE(sdp_attribute(r.body, "ice-ufrag").empty());
  EXPECT_GE(sdp_attribute(r.body, "ice-pwd").size(), 22u);
  EXPECT_NE(r.body.find(" 127.0.0.1 " + std::to_string(workers.at(0).port()) + " typ host"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=end-of-candidates"), std::string::npos);
  // Half a credential pair is not a restart and not trickle either.
  expect_json_error(call("PATCH", "/session/" + pub, "a=ice-ufrag:newc\r\n", "application/trickle-ice-sdpfrag"), 400);
  expect_json_error(call("PATCH", "/session/" + pub, "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
                         "application/trickle-ice-sdpfrag"),
                    400);
}

// ---- observability ------------------------------------------------------------------------

TEST_F(HttpApiTest, HealthzIs200) {
  auto r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpApiTest, MetricsHasSessionGaugesAndDropCounters) {
  ASSERT_FALSE(create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp")).empty());
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.content_type.find("text/plain"), std::string::npos);
  for (const char* needle :
       {"strata_sessions_publishers 1", "strata_sessions_viewers 0", "strata_streams_live 1",
        "strata_whip_sessions_created_total 1", "# TYPE strata_sessions_publishers gauge",
        "strata_drop_unknown_source_total ", "strata_drop_unknown_ufrag_total ",
        "strata_drop_stun_unauthenticated_total ", "strata_drop_malformed_total ", "strata_drop_srtp_auth_total ",
        "strata_drop_not_ready_total ", "strata_drop_unknown_ssrc_total "}) {
    EXPECT_NE(r.body.find(needle), std::string::npos) << needle << "\n" << r.body;
  }
}

TEST_F(HttpApiTest, StreamsJsonShape) {
  EXPECT_EQ(streams(), json({{"streams", json::array()}}));
  std::string pub = create("/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"));
  ASSERT_FALSE(create("/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp")).empty());
  json s = streams()["streams"];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "cam");
  EXPECT_EQ(s[0]["viewers"], 1);
  EXPECT_EQ(s[0]["publisher"]["session"], pub);
  ASSERT_TRUE(s[0]["tracks"].is_array());
  ASSERT_EQ(s[0]["tracks"].size(), 2u);
  std::set<std::string> kinds;
  for (auto& t : s[0]["tracks"]) {
    EXPECT_TRUE(t["mid"].is_string());
    EXPECT_TRUE(t["codec"].is_string());
    EXPECT_TRUE(t["clock_rate"].is_number());
    kinds.insert(t["kind"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"audio", "video"}));

  auto nodes = call("GET", "/api/v1/nodes");
  ASSERT_EQ(nodes.status, 200);
  json n = json::parse(nodes.body);
  EXPECT_EQ(n["nodes"][0]["id"], "node-1");
  EXPECT_EQ(n["nodes"][0]["sessions"], 2);
}

// ---- the answer's credentials work on the worker's socket ---------------------------------

class UdpClient {
 public:
  UdpClient() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto local = *SocketAddress::parse("127.0.0.1:0");
    ::bind(fd_, local.sockaddr_ptr(), local.sockaddr_len());
  }
  ~UdpClient() { ::close(fd_); }
  void send(const Bytes& b, const SocketAddress& to) {
    ::sendto(fd_, b.data(), b.size(), 0, to.sockaddr_ptr(), to.sockaddr_len());
  }
  std::optional<Bytes> receive(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    Bytes b(2048);
    ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
    if (n < 0) return std::nullopt;
    b.resize(size_t(n));
    return b;
  }
  // Sends `request` and waits for the response to *it* (same transaction id), resending
  // every 100 ms (a session is added to its worker asynchronously). Responses to earlier
  // copies are recorded, never taken for the answer to a later request: on a loaded
  // machine a late duplicate would otherwise look like an answer to the next check.
  // Returns the response's bytes (a parsed stun::Message views them).
  std::optional<Bytes> transact(const Bytes& request, const SocketAddress& to, int tries = 20) {
    auto id = stun::Message::parse(request)->transaction_id();
    for (int i = 0; i < tries; ++i) {
      send(request, to);
      if (auto b = response_to(id, 100)) return b;
    }
    return std::nullopt;
  }
  // Reads responses until `timeout_ms` passes without one; the one to `id`, if any.
  std::optional<Bytes> response_to(const stun::TransactionId& id, int timeout_ms) {
    while (auto b = receive(timeout_ms)) {
      auto m = stun::Message::parse(*b);
      if (m && m->transaction_id() == id) return b;
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
};

Bytes check(const std::string& username, const std::string& pwd) {
  return stun::MessageBuilder::binding_request(stun::random_transaction_id())
      .add_username(username)
      .add_priority(1)
      .add_ice_controlling(7)
      .add_use_candidate()
      .finish(std::string_view(pwd));
}

TEST_F(HttpApiTest, AnswerCredentialsPassIceOnWorkerSocket) {
  const std::string offer = read_sdp("chrome156-publish-gathered-offer.sdp");
  auto r = post_sdp("/whip/cam", offer);
  ASSERT_EQ(r.status, 201);
  const std::string ufrag = sdp_attribute(r.body, "ice-ufrag");
  const std::string pwd = sdp_attribute(r.body, "ice-pwd");
  const std::string remote_ufrag = sdp_attribute(offer, "ice-ufrag");
  auto server = *SocketAddress::from_ip_port("127.0.0.1", workers.at(0).port());
  UdpClient client;

  auto reply = client.transact(check(ufrag + ":" + remote_ufrag, pwd), server);
  ASSERT_TRUE(reply) << "no Binding success from the worker";
  auto msg = stun::Message::parse(*reply);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), stun::MessageClass::kSuccessResponse);
  EXPECT_TRUE(msg->verify_message_integrity(pwd));

  // Wrong password and unknown ufrag: silence, and the drops show up in /metrics. Waits on
  // the drop counters (the worker has handled both checks), not on a quiet period.
  Bytes wrong_pwd = check(ufrag + ":" + remote_ufrag, "wrong-password-xxxxxxxx");
  Bytes unknown = check("zzzzzzzz:" + remote_ufrag, pwd);
  client.send(wrong_pwd, server);
  client.send(unknown, server);
  std::string m = wait_for_metrics({"strata_drop_stun_unauthenticated_total 1", "strata_drop_unknown_ufrag_total 1"});
  EXPECT_NE(m.find("strata_drop_stun_unauthenticated_total 1"), std::string::npos) << m;
  EXPECT_NE(m.find("strata_drop_unknown_ufrag_total 1"), std::string::npos) << m;
  EXPECT_FALSE(client.response_to(stun::Message::parse(wrong_pwd)->transaction_id(), 0)) << "answered a wrong password";
  EXPECT_FALSE(client.response_to(stun::Message::parse(unknown)->transaction_id(), 0)) << "answered an unknown ufrag";
}

// Without the grace for late checks of the previous ICE generation, so that the hand-over
// shows at once (the grace itself is tested in ice/ and transport/).
class IceRestartApiTest : public HttpApiTest {
 protected:
  IceRestartApiTest() { options.previous_ice_generation_grace = Duration::zero(); }
};

TEST_F(IceRestartApiTest, CredentialsTakeOverOnWorkerSocket) {
  const std::string offer = read_sdp("chrome156-publish-gathered-offer.sdp");
  auto r = post_sdp("/whip/cam", offer);
  ASSERT_EQ(r.status, 201);
  const std::string pub = r.header("Location")->substr(9);
  const std::string old_user = sdp_attribute(r.body, "ice-ufrag") + ":" + sdp_attribute(offer, "ice-ufrag");
  const std::string old_pwd = sdp_attribute(r.body, "ice-pwd");
  auto patch = call("PATCH", "/session/" + pub, "a=ice-ufrag:newc\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
                    "application/trickle-ice-sdpfrag");
  ASSERT_EQ(patch.status, 200) << patch.body;
  const std::string new_user = sdp_attribute(patch.body, "ice-ufrag") + ":newc";
  const std::string new_pwd = sdp_attribute(patch.body, "ice-pwd");
  auto server = *SocketAddress::from_ip_port("127.0.0.1", workers.at(0).port());
  UdpClient client;

  // The PATCH answers once the worker has the new credentials: the first check passes.
  auto reply = client.transact(check(new_user, new_pwd), server, /*tries=*/1);
  ASSERT_TRUE(reply) << "new credentials not accepted by the first check";
  auto msg = stun::Message::parse(*reply);
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->verify_message_integrity(new_pwd));
  // The old ones are dropped now that the new generation is in use (RFC 8445 §9): the
  // worker counts the drop (an event, not a quiet period), and no response to that check
  // ever arrived. Which counter depends on whether the worker's next tick already stopped
  // routing the old ufrag to the session (then unknown) or the agent refused it.
  Bytes old_check = check(old_user, old_pwd);
  client.send(old_check, server);
  std::string m;
  for (int i = 0; i < 200; ++i) {
    m = metrics();
    if (m.find("strata_drop_unknown_ufrag_total 1") != std::string::npos ||
        m.find("strata_drop_stun_unauthenticated_total 1") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(m.find("strata_drop_unknown_ufrag_total 1") != std::string::npos ||
              m.find("strata_drop_stun_unauthenticated_total 1") != std::string::npos) << m;
  EXPECT_FALSE(client.response_to(stun::Message::parse(old_check)->transaction_id(), 0))
      << "old credentials still answered after the restart";
}

// A publisher that really connects over UDP (ICE check, DTLS handshake, SRTP), then goes
// silent: the worker reports the session connected, and after the consent timeout ended,
// which removes the stream and its viewers (SessionEvents → SessionManager).
class LiveSessionTest : public HttpApiTest {
 protected:
  LiveSessionTest() { options.consent_timeout = std::chrono::milliseconds(2000); }

  json find_stream(const std::string& name) {
    json all = streams();  // keep it alive: ranging over streams()["streams"] would dangle
    for (auto& s : all["streams"])
      if (s["name"] == name) return s;
    return nullptr;
  }
  template <typename F>
  bool eventually(F done, int timeout_ms = 3000) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }
};

std::string with_fingerprint(const std::string& sdp, const std::string& fingerprint) {
  return std::regex_replace(sdp, std::regex("a=fingerprint:sha-256 [0-9A-Fa-f:]+"), "a=fingerprint:sha-256 " + fingerprint);
}

TEST_F(LiveSessionTest, PublisherConnectsSendsMediaThenConsentExpiryEndsStreamAndViewers) {
  auto browser_cert = dtls::Certificate::generate();
  ASSERT_TRUE(browser_cert);
  const std::string offer =
      with_fingerprint(read_sdp("chrome156-publish-gathered-offer.sdp"), browser_cert->fingerprint_sha256());
  auto r = post_sdp("/whip/live", offer);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string pub = r.header("Location")->substr(9);
  const std::string username = sdp_attribute(r.body, "ice-ufrag") + ":" + sdp_attribute(offer, "ice-ufrag");
  const std::string pwd = sdp_attribute(r.body, "ice-pwd");
  const auto server = *SocketAddress::from_ip_port("127.0.0.1", workers.at(0).port());
  UdpClient udp;

  // ICE: nominate this socket's address, and answer the server's own Binding request, as a
  // full agent must (RFC 8445 §7.3): it sends DTLS only to an address that answered.
  const std::string browser_pwd = sdp_attribute(offer, "ice-pwd");
  std::optional<Bytes> reply;
  bool answered = false;
  for (int i = 0; i < 20 && !(reply && answered); ++i) {
    udp.send(check(username, pwd), server);
    while (auto in = udp.receive(100)) {
      auto m = stun::Message::parse(*in);
      if (m && m->is_binding_request()) {
        udp.send(stun::MessageBuilder::binding_success(m->transaction_id()).finish(std::string_view(browser_pwd)), server);
        answered = true;
      } else if (m) {
        reply = in;
      }
    }
  }
  ASSERT_TRUE(reply);
  ASSERT_TRUE(answered) << "the server never asked";

  // DTLS: we are the client (the answer said a=setup:passive).
  ASSERT_NE(r.body.find("a=setup:passive"), std::string::npos);
  dtls::DtlsTransport client(browser_cert, dtls::Role::kClient, "sha-256",
                             *dtls::parse_fingerprint(sdp_attribute(r.body, "fingerprint").substr(8)));
  SteadyClock clock;
  client.start(clock.now());
  for (int i = 0; i < 100 && client.state() == dtls::State::kConnecting; ++i) {
    for (auto& d : client.take_outgoing()) udp.send(d, server);
    if (auto in = udp.receive(50); in && !in->empty() && (*in)[0] >= 20 && (*in)[0] <= 63)
      client.handle_datagram(*in, clock.now());
    if (clock.now() >= client.next_timeout()) client.handle_timeout(clock.now());
  }
  for (auto& d : client.take_outgoing()) udp.send(d, server);  // final flight
  ASSERT_EQ(client.state(), dtls::State::kConnected) << client.failure_reason();
  ASSERT_TRUE(eventually([&] { return find_stream("live")["publisher"]["connected"] == true; }));
  udp.send(check(username, pwd), server);  // consent refresh (RFC 7675), keeps the slow-machine margin

  // SRTP: one Opus packet on the offer's audio SSRC is accepted as publisher media.
  auto keys = *client.srtp_keys();
  auto srtp = srtp::SrtpSession::create(keys.profile, keys.local_key, keys.local_salt);
  ASSERT_TRUE(srtp);
  std::smatch ssrc;
  ASSERT_TRUE(std::regex_search(offer, ssrc, std::regex("a=ssrc:(\\d+) ")));
  Bytes rtp;
  ByteWriter w(rtp);
  w.u8(0x80);
  w.u8(111);
  w.u16(1);
  w.u32(960);
  w.u32(uint32_t(std::stoul(ssrc[1].str())));
  w.str("opus-frame");
  size_t n = rtp.size();
  rtp.resize(n + kSrtpMaxTrailer);
  ASSERT_EQ(srtp->protect_rtp(rtp.data(), n, rtp.size(), &n), srtp::Status::kOk);
  rtp.resize(n);
  udp.send(rtp, server);
  EXPECT_TRUE(eventually([&] { return metrics().find("strata_rtp_in_total 1") != std::string::npos; })) << metrics();

  std::string viewer = create("/whep/live", read_sdp("chrome156-view-recvonly-offer.sdp"));
  ASSERT_FALSE(viewer.empty());
  EXPECT_EQ(find_stream("live")["viewers"], 1);

  // Silence: no more consent checks. The publisher's session ends by itself.
  ASSERT_TRUE(eventually([&] { return find_stream("live").is_null(); }, 8000)) << streams().dump();
  expect_json_error(call("DELETE", "/session/" + pub), 404);
  expect_json_error(call("DELETE", "/session/" + viewer), 404);
  EXPECT_EQ(manager->session_count(), 0u);
}

}  // namespace
}  // namespace strata::signaling
