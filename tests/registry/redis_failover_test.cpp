// Redis-specific behaviour: fail fast while Redis is down, recover when it returns.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "redis_server.hpp"
#include "registry/redis_registry.hpp"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;
using testing::RedisServer;
using Clock = std::chrono::steady_clock;

NodeRecord edge(std::string id) {
  NodeRecord n;
  n.id = std::move(id);
  n.role = "edge";
  n.region = "eu";
  return n;
}

// Runs every registry call once and checks each returns within `limit`.
void expect_all_calls_fail_fast(Registry& reg, std::chrono::milliseconds limit) {
  struct Call {
    const char* name;
    std::function<bool()> run;  // true = the call reported success
  };
  const StreamClaim c{"s", "o1", "eu", "http://o1"};
  const std::vector<Call> calls = {
      {"put_node", [&] { return reg.put_node(edge("e1"), 5s); }},
      {"nodes", [&] { return !reg.nodes("eu").empty(); }},
      {"claim_stream", [&] { return reg.claim_stream(c, 5s) != ClaimResult::kError; }},
      {"refresh_claim", [&] { return reg.refresh_claim(c, 5s); }},
      {"release_claim", [&] { return reg.release_claim(c); }},
      {"stream", [&] { return reg.stream("s").has_value(); }},
      {"streams", [&] { return !reg.streams().empty(); }},
      {"put_relay", [&] { return reg.put_relay("eu", "s", "e1", 5s); }},
      {"relays", [&] { return !reg.relays("eu", "s").empty(); }},
      {"publish", [&] { return reg.publish({Event::Kind::kStreamEnded, "s", "o1"}); }},
      {"healthy", [&] { return reg.healthy(); }},
  };
  for (const Call& call : calls) {
    auto start = Clock::now();
    EXPECT_FALSE(call.run()) << call.name;
    EXPECT_LT(Clock::now() - start, limit) << call.name;
  }
  // Reads say they failed: "no answer" is never mistaken for "none" (the broker refuses
  // instead of calling a live stream unknown or every node gone).
  EXPECT_FALSE(reg.read_nodes("eu").ok);
  EXPECT_FALSE(reg.read_stream("s").ok);
  EXPECT_FALSE(reg.read_streams().ok);
  EXPECT_FALSE(reg.read_relays("eu", "s").ok);
}

class RedisFailover : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << RedisServer::kBinary << " not found; skipping Redis tests";
    ASSERT_TRUE(server_.start());
    std::string error;
    reg_ = make_registry(server_.url(), clock_, &error);
    ASSERT_NE(reg_, nullptr) << error;
  }
  void TearDown() override {
    reg_.reset();
    server_.stop();
  }

  SteadyClock clock_;
  RedisServer server_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RedisFailover, FailsFastWhileDownAndRecoversWhenBack) {
  // Shared: the subscriber thread may still run the handler after this body returns.
  auto received = std::make_shared<std::atomic<int>>(0);
  reg_->subscribe([received](const Event& e) {
    if (e.stream == "after") ++*received;
  });
  ASSERT_TRUE(reg_->put_node(edge("e1"), 5s));
  ASSERT_TRUE(reg_->healthy());

  const int port = server_.port();
  server_.stop();
  expect_all_calls_fail_fast(*reg_, 1000ms);
  EXPECT_FALSE(reg_->healthy());

  ASSERT_TRUE(server_.start(port));  // same port, empty data set
  auto deadline = Clock::now() + 2s;
  bool recovered = false;
  while (!recovered && Clock::now() < deadline) {
    recovered = reg_->put_node(edge("e2"), 5s);
    if (!recovered) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(recovered) << "registry did not reconnect within 2 s";
  EXPECT_TRUE(reg_->healthy());
  ASSERT_EQ(reg_->nodes("eu").size(), 1u);

  // The subscriber reconnects on its own (backoff ≤ 1 s); publish until one arrives.
  deadline = Clock::now() + 3s;
  while (*received == 0 && Clock::now() < deadline) {
    reg_->publish({Event::Kind::kStreamEnded, "after", "o1"});
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(received->load(), 0) << "subscriber did not resubscribe";
}

TEST(RedisUnreachable, CallsFailFastAndHealthyIsFalse) {
  SteadyClock clock;
  std::string error;
  int port = RedisServer::free_port();  // nobody listens there
  auto reg = make_registry("redis://127.0.0.1:" + std::to_string(port), clock, &error);
  ASSERT_NE(reg, nullptr) << error;
  expect_all_calls_fail_fast(*reg, 1000ms);
  EXPECT_FALSE(reg->healthy());
  // subscribe() with Redis down returns (bounded wait) and the destructor stops the thread.
  auto start = Clock::now();
  reg->subscribe([](const Event&) {});
  EXPECT_LT(Clock::now() - start, 1500ms);
}

TEST(RedisKeys, LayoutMatchesTheDocumentation) {
  EXPECT_EQ(RedisRegistry::node_key("eu", "e1"), "strata:region:eu:node:e1");
  EXPECT_EQ(RedisRegistry::stream_key("live"), "strata:stream:live");
  EXPECT_EQ(RedisRegistry::relays_key("eu", "live"), "strata:region:eu:relays:live");
  EXPECT_STREQ(RedisRegistry::kEventsChannel, "strata:events");
}

}  // namespace
}  // namespace strata::registry
