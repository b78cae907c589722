// ClientLimiter on fake time: the rate bucket, the concurrent cap, IPv6 /64 grouping, and
// a table that forgets idle clients.
#include <gtest/gtest.h>

#include "auth/client_limiter.hpp"

namespace strata::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ClientKey, Ipv4Ipv6AndMapped) {
  EXPECT_EQ(client_key("192.0.2.7:5000"), "192.0.2.7");
  EXPECT_EQ(client_key("[::ffff:192.0.2.7]:5000"), "192.0.2.7");
  EXPECT_EQ(client_key("[2001:db8:1:2:aaaa::1]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("[2001:db8:1:2:bbbb::9]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("[2001:db8::1]:443"), "2001:db8:0:0::/64");
  EXPECT_EQ(client_key("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(client_key("nonsense"), "");
}

TEST(ClientLimiter, OffByDefault) {
  ClientLimiter l;
  FakeClock clock;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(l.admit("1.2.3.4", clock.now()));
}

TEST(ClientLimiter, RateWithBurst) {
  ClientLimiter l(ClientLimits{.sessions_per_second = 2, .burst = 4});
  FakeClock clock;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(l.admit("1.2.3.4", clock.now())) << i;
  auto refused = l.admit("1.2.3.4", clock.now());
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->rate);
  EXPECT_EQ(refused->retry_after, milliseconds(500));
  EXPECT_FALSE(l.admit("5.6.7.8", clock.now())) << "another client has its own bucket";
  clock.advance(milliseconds(500));
  EXPECT_FALSE(l.admit("1.2.3.4", clock.now()));
  EXPECT_TRUE(l.admit("1.2.3.4", clock.now()));
  clock.advance(seconds(60));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(l.admit("1.2.3.4", clock.now())) << "refilled to the burst only";
  EXPECT_TRUE(l.admit("1.2.3.4", clock.now()));
}

TEST(ClientLimiter, ConcurrentSessions) {
  ClientLimiter l(ClientLimits{.max_sessions = 2});
  FakeClock clock;
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(l.admit("1.2.3.4", clock.now()));
    l.session_started("1.2.3.4");
  }
  auto refused = l.admit("1.2.3.4", clock.now());
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->rate);
  l.session_ended("1.2.3.4");
  EXPECT_FALSE(l.admit("1.2.3.4", clock.now()));
  EXPECT_EQ(l.sessions_of("1.2.3.4"), 1u);
  EXPECT_FALSE(l.admit("", clock.now())) << "an unknown address is not limited";
}

TEST(ClientLimiter, ForgetsIdleClients) {
  ClientLimiter l(ClientLimits{.sessions_per_second = 10, .max_sessions = 5});
  FakeClock clock;
  for (int i = 0; i < 1000; ++i) l.admit("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), clock.now());
  l.session_started("10.0.0.1");
  EXPECT_EQ(l.tracked_clients(), 1000u);
  clock.advance(seconds(11));
  l.admit("192.0.2.1", clock.now());
  EXPECT_EQ(l.tracked_clients(), 2u) << "only the client holding a session and the new one remain";
  EXPECT_EQ(l.sessions_of("10.0.0.1"), 1u);
}

}  // namespace
}  // namespace strata::auth
