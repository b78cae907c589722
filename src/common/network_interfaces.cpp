#include "common/network_interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

namespace strata {

std::vector<InterfaceAddress> list_interface_addresses(std::string* error) {
  std::vector<InterfaceAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    *error = std::string("getifaddrs: ") + std::strerror(errno);
    return out;
  }
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    InterfaceAddress a;
    a.interface = i->ifa_name ? i->ifa_name : "";
    a.address = SocketAddress::from_sockaddr(i->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    a.address.set_port(0);
    a.up = (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_RUNNING);
    a.loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
    out.push_back(std::move(a));
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace strata
