#include "common/network_interfaces.hpp"

#include <gtest/gtest.h>

namespace strata {
namespace {

// The real system call: every machine (and network namespace) has a loopback interface.
TEST(NetworkInterfaces, ListsLoopbackAndOnlyIpAddresses) {
  std::string error;
  auto list = list_interface_addresses(&error);
  ASSERT_TRUE(error.empty()) << error;
  bool loopback_v4 = false;
  for (const auto& a : list) {
    EXPECT_FALSE(a.interface.empty());
    EXPECT_TRUE(a.address.is_v4() || a.address.is_v6()) << a.interface;
    EXPECT_EQ(a.address.port(), 0) << a.interface;
    if (a.address == *SocketAddress::from_ip_port("127.0.0.1", 0)) {
      loopback_v4 = true;
      EXPECT_TRUE(a.loopback) << a.interface;
      EXPECT_TRUE(a.up) << a.interface;
    }
  }
  EXPECT_TRUE(loopback_v4) << "127.0.0.1 not listed";
}

}  // namespace
}  // namespace strata
