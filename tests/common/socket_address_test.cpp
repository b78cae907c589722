#include "common/socket_address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace strata {

TEST(SocketAddress, ParsesV4AndV6) {
  auto a = SocketAddress::parse("127.0.0.1:5000");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->port(), 5000);
  EXPECT_EQ(a->to_string(), "127.0.0.1:5000");
  auto b = SocketAddress::parse("[::1]:443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->to_string(), "[::1]:443");
}

TEST(SocketAddress, RejectsGarbage) {
  EXPECT_FALSE(SocketAddress::parse("nope"));
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:99999"));
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:"));
  EXPECT_FALSE(SocketAddress::parse("[::1]5"));
}

TEST(SocketAddress, EqualityAndHash) {
  auto a = *SocketAddress::parse("10.0.0.1:1");
  auto b = *SocketAddress::parse("10.0.0.1:1");
  auto c = *SocketAddress::parse("10.0.0.1:2");
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  std::unordered_set<SocketAddress> s{a, b, c};
  EXPECT_EQ(s.size(), 2u);
}

TEST(SocketAddress, RawRoundTrip) {
  auto a = *SocketAddress::parse("192.168.1.2:3478");
  auto b = SocketAddress::from_raw(a.raw_address(), a.raw_address_size(), a.port());
  EXPECT_EQ(a, b);
}

}  // namespace strata
