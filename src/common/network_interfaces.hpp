// This host's interface addresses (getifaddrs(3)): what `strata dev` advertises as ICE host
// candidates when it is not told a --public-ip (ice/host_candidates.hpp picks and orders them).
#pragma once
#include <string>
#include <vector>

#include "common/socket_address.hpp"

namespace strata {

struct InterfaceAddress {
  std::string interface;  // "eth0", "lo", ...
  SocketAddress address;  // port 0
  bool up = false;        // IFF_UP and IFF_RUNNING: the link can carry traffic now
  bool loopback = false;  // IFF_LOOPBACK
};

// Every IPv4 and IPv6 address of every interface, in the kernel's order. Empty with *error
// when the system call fails.
std::vector<InterfaceAddress> list_interface_addresses(std::string* error);

}  // namespace strata
