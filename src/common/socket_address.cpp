#include "common/socket_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace strata {

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa && len <= sizeof(a.storage_)) std::memcpy(&a.storage_, sa, len);
  return a;
}

std::optional<SocketAddress> SocketAddress::from_ip_port(std::string_view ip, uint16_t port) {
  std::string s(ip);
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return a;
  }
  a = SocketAddress();
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view hp) {
  std::string_view host;
  std::string_view port_str;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') return std::nullopt;
    host = hp.substr(1, close - 1);
    port_str = hp.substr(close + 2);
  } else {
    auto colon = hp.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = hp.substr(0, colon);
    port_str = hp.substr(colon + 1);
  }
  if (port_str.empty() || port_str.size() > 5) return std::nullopt;
  unsigned port = 0;
  for (char c : port_str) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + unsigned(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return from_ip_port(host, uint16_t(port));
}

SocketAddress SocketAddress::from_raw(const uint8_t* addr, size_t addr_len, uint16_t port) {
  SocketAddress a;
  if (addr_len == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, addr, 4);
    v4->sin_port = htons(port);
  } else if (addr_len == 16) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, addr, 16);
    v6->sin6_port = htons(port);
  }
  return a;
}

uint16_t SocketAddress::port() const {
  if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (is_v6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (is_v4()) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (is_v6()) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

const uint8_t* SocketAddress::raw_address() const {
  if (is_v4()) return reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
  return reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
}

std::string SocketAddress::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) inet_ntop(AF_INET, raw_address(), buf, sizeof(buf));
  else if (is_v6()) inet_ntop(AF_INET6, raw_address(), buf, sizeof(buf));
  return buf;
}

std::string SocketAddress::to_string() const {
  if (is_v6()) return "[" + ip_string() + "]:" + std::to_string(port());
  return ip_string() + ":" + std::to_string(port());
}

bool SocketAddress::is_unspecified() const {
  static const uint8_t kZero[16] = {};
  return valid() && std::memcmp(raw_address(), kZero, raw_address_size()) == 0;
}

bool SocketAddress::is_loopback() const {
  static const uint8_t kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (is_v4()) return raw_address()[0] == 127;
  return is_v6() && std::memcmp(raw_address(), kV6Loopback, 16) == 0;
}

bool SocketAddress::is_link_local() const {
  const uint8_t* a = raw_address();
  if (is_v4()) return a[0] == 169 && a[1] == 254;
  return is_v6() && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool SocketAddress::is_v4_mapped() const {
  static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return is_v6() && std::memcmp(raw_address(), kPrefix, 12) == 0;
}

SocketAddress SocketAddress::unmapped() const {
  if (!is_v4_mapped()) return *this;
  return from_raw(raw_address() + 12, 4, port());
}

SocketAddress SocketAddress::v4_mapped() const {
  if (!is_v4()) return *this;
  uint8_t raw[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::memcpy(raw + 12, raw_address(), 4);
  return from_raw(raw, 16, port());
}

bool SocketAddress::operator==(const SocketAddress& o) const {
  if (storage_.ss_family != o.storage_.ss_family) return false;
  if (!valid()) return true;
  return port() == o.port() && std::memcmp(raw_address(), o.raw_address(), raw_address_size()) == 0;
}

size_t SocketAddress::hash() const {
  size_t h = std::hash<uint16_t>()(port()) ^ (size_t(storage_.ss_family) << 20);
  const uint8_t* p = raw_address();
  for (size_t i = 0; valid() && i < raw_address_size(); ++i) h = h * 131 + p[i];
  return h;
}

}  // namespace strata
