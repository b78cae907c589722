// The host candidates a server advertises (SessionManagerOptions::host_candidates, `strata dev`
// without --public-ip) in WHIP/WHEP answers and ICE-restart answers, over the real HTTP routes,
// SessionManager and a started worker.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "ice/host_candidates.hpp"
#include "signaling/http_api.hpp"
#include "signaling/session_manager.hpp"

namespace strata::signaling {
namespace {

std::string read_sdp(const std::string& name) {
  std::ifstream in(std::string(STRATA_TESTDATA_DIR) + "/sdp/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Line {
  std::string foundation, priority, ip, port;
};

// The a=candidate lines of one m-line's worth (the answer repeats them per m-line: BUNDLE).
std::vector<Line> candidates_of(const std::string& sdp) {
  std::vector<Line> out;
  std::regex re("a=candidate:(\\S+) 1 udp (\\d+) (\\S+) (\\d+) typ host\r\n");
  for (auto it = std::sregex_iterator(sdp.begin(), sdp.end(), re); it != std::sregex_iterator(); ++it) {
    Line l{(*it)[1], (*it)[2], (*it)[3], (*it)[4]};
    if (!out.empty() && l.foundation == out.front().foundation) break;  // the next m-line
    out.push_back(l);
  }
  return out;
}

class CandidatesTest : public testing::Test {
 protected:
  worker::WorkerGroup workers{1};
  std::unique_ptr<SessionManager> manager;
  http::Router router;

  void start(SessionManagerOptions options) {
    std::string error;
    // The wildcard socket reporting destinations, as Server opens it for several addresses.
    ASSERT_TRUE(workers.open("0.0.0.0", 0, &error, /*report_destination=*/true)) << error;
    workers.start();
    manager = std::make_unique<SessionManager>(workers, dtls::Certificate::generate(), std::move(options));
    add_media_routes(router, *manager, NodeInfo{"node-1", "dev", "local", "http://127.0.0.1:8080"});
  }
  void TearDown() override { workers.stop(); }

  http::Response call(std::string method, std::string target, std::string body, std::string content_type) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers.emplace_back("Content-Type", std::move(content_type));
    req.body = std::move(body);
    return router.dispatch(req);
  }
  std::string port() { return std::to_string(workers.at(0).port()); }
};

std::vector<ice::HostCandidate> desktop_candidates() {
  return ice::host_candidates({
      {"lo", *SocketAddress::from_ip_port("127.0.0.1", 0), true, true},
      {"eth0", *SocketAddress::from_ip_port("192.0.2.20", 0), true, false},
      {"eth0", *SocketAddress::from_ip_port("2001:db8::20", 0), true, false},
      {"wlan0", *SocketAddress::from_ip_port("198.51.100.4", 0), true, false},
  });
}

TEST_F(CandidatesTest, AnswersCarryEveryAddressInPriorityOrder) {
  SessionManagerOptions o;
  o.host_candidates = desktop_candidates();
  start(o);
  auto pub = call("POST", "/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"), "application/sdp");
  ASSERT_EQ(pub.status, 201) << pub.body;
  auto view = call("POST", "/whep/cam", read_sdp("chrome156-view-recvonly-offer.sdp"), "application/sdp");
  ASSERT_EQ(view.status, 201) << view.body;
  for (const std::string& answer : {pub.body, view.body}) {
    auto lines = candidates_of(answer);
    ASSERT_EQ(lines.size(), 4u) << answer;
    const char* want[] = {"192.0.2.20", "198.51.100.4", "2001:db8::20", "127.0.0.1"};
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].ip, want[i]) << i;
      EXPECT_EQ(lines[i].port, port()) << "one socket per worker takes every address";
      EXPECT_EQ(lines[i].foundation, std::to_string(i + 1));
      if (i) EXPECT_GT(std::stoul(lines[i - 1].priority), std::stoul(lines[i].priority));
    }
    EXPECT_EQ(lines.front().priority, "2130706431");
    EXPECT_EQ(lines.back().priority, "2113929471") << "127.0.0.1: local preference 0";
    // The c= line names the default candidate: the highest-priority one (RFC 8839 §4.2.1.2).
    EXPECT_NE(answer.find("c=IN IP4 192.0.2.20\r\n"), std::string::npos) << answer;
  }
}

TEST_F(CandidatesTest, IceRestartAnswersTheSameCandidates) {
  SessionManagerOptions o;
  o.host_candidates = desktop_candidates();
  start(o);
  auto pub = call("POST", "/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"), "application/sdp");
  ASSERT_EQ(pub.status, 201) << pub.body;
  auto r = call("PATCH", *pub.header("Location"), "a=ice-ufrag:newc\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
                "application/trickle-ice-sdpfrag");
  ASSERT_EQ(r.status, 200) << r.body;
  auto restarted = candidates_of(r.body);
  auto answered = candidates_of(pub.body);
  ASSERT_EQ(restarted.size(), answered.size()) << r.body;
  for (size_t i = 0; i < restarted.size(); ++i) {
    EXPECT_EQ(restarted[i].ip, answered[i].ip);
    EXPECT_EQ(restarted[i].port, answered[i].port);
    EXPECT_EQ(restarted[i].priority, answered[i].priority);
    EXPECT_EQ(restarted[i].foundation, answered[i].foundation);
  }
  EXPECT_NE(r.body.find("a=end-of-candidates\r\n"), std::string::npos);
}

TEST_F(CandidatesTest, WithoutAListThePublicIpIsTheOneCandidate) {
  SessionManagerOptions o;
  o.public_ip = "203.0.113.7";
  start(o);
  auto pub = call("POST", "/whip/cam", read_sdp("chrome156-publish-gathered-offer.sdp"), "application/sdp");
  ASSERT_EQ(pub.status, 201) << pub.body;
  auto lines = candidates_of(pub.body);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].ip, "203.0.113.7");
  EXPECT_EQ(lines[0].priority, "2130706431");
  EXPECT_EQ(lines[0].foundation, "1");
}

}  // namespace
}  // namespace strata::signaling
