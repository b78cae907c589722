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

TEST(SocketAddress, Classification) {
  auto ip = [](const char* t) { return *SocketAddress::from_ip_port(t, 0); };
  EXPECT_TRUE(ip("0.0.0.0").is_unspecified());
  EXPECT_TRUE(ip("::").is_unspecified());
  EXPECT_FALSE(ip("0.0.0.1").is_unspecified());
  EXPECT_FALSE(SocketAddress().is_unspecified());
  EXPECT_TRUE(ip("127.0.0.1").is_loopback());
  EXPECT_TRUE(ip("127.255.0.9").is_loopback());
  EXPECT_TRUE(ip("::1").is_loopback());
  EXPECT_FALSE(ip("128.0.0.1").is_loopback());
  EXPECT_FALSE(ip("::2").is_loopback());
  EXPECT_TRUE(ip("169.254.1.1").is_link_local());
  EXPECT_TRUE(ip("fe80::1").is_link_local());
  EXPECT_TRUE(ip("febf::1").is_link_local());
  EXPECT_FALSE(ip("fec0::1").is_link_local());
  EXPECT_FALSE(ip("169.253.1.1").is_link_local());
  EXPECT_TRUE(ip("::ffff:192.0.2.1").is_v4_mapped());
  EXPECT_FALSE(ip("::192.0.2.1").is_v4_mapped());
  EXPECT_FALSE(ip("192.0.2.1").is_v4_mapped());
}

TEST(SocketAddress, V4MappedRoundTrip) {
  auto v4 = *SocketAddress::parse("192.0.2.1:5000");
  auto mapped = v4.v4_mapped();
  EXPECT_TRUE(mapped.is_v6());
  EXPECT_EQ(mapped.to_string(), "[::ffff:192.0.2.1]:5000");
  EXPECT_EQ(mapped.unmapped(), v4);
  auto v6 = *SocketAddress::parse("[2001:db8::1]:7");
  EXPECT_EQ(v6.v4_mapped(), v6);
  EXPECT_EQ(v6.unmapped(), v6);
  EXPECT_EQ(v4.unmapped(), v4);
}

TEST(SocketAddress, RawRoundTrip) {
  auto a = *SocketAddress::parse("192.168.1.2:3478");
  auto b = SocketAddress::from_raw(a.raw_address(), a.raw_address_size(), a.port());
  EXPECT_EQ(a, b);
}

}  // namespace strata
