// An IPv4/IPv6 UDP endpoint, cheap to copy, hashable, usable as a 5-tuple key.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

class SocketAddress {
 public:
  SocketAddress() = default;
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);
  // "1.2.3.4:5000" or "[::1]:5000"; nullopt when it does not parse.
  static std::optional<SocketAddress> parse(std::string_view host_port);
  static std::optional<SocketAddress> from_ip_port(std::string_view ip, uint16_t port);
  // Raw address bytes in network order (4 or 16) and host-order port, as STUN carries them.
  static SocketAddress from_raw(const uint8_t* addr, size_t addr_len, uint16_t port);

  bool is_v4() const { return storage_.ss_family == AF_INET; }
  bool is_v6() const { return storage_.ss_family == AF_INET6; }
  bool valid() const { return is_v4() || is_v6(); }
  uint16_t port() const;
  void set_port(uint16_t port);
  // Address bytes in network order: 4 for IPv4, 16 for IPv6.
  const uint8_t* raw_address() const;
  size_t raw_address_size() const { return is_v4() ? 4 : 16; }
  std::string ip_string() const;
  std::string to_string() const;  // "ip:port" / "[ip]:port"

  // 0.0.0.0 or :: (a wildcard bind address).
  bool is_unspecified() const;
  // 127.0.0.0/8 or ::1.
  bool is_loopback() const;
  // 169.254.0.0/16 or fe80::/10 (RFC 3927, RFC 4291 §2.5.6): valid on one link only.
  bool is_link_local() const;
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): what an IPv4 peer looks like on a dual-stack socket.
  bool is_v4_mapped() const;
  // The IPv4 address of a v4-mapped one (same port); any other address unchanged.
  SocketAddress unmapped() const;
  // ::ffff:a.b.c.d for an IPv4 address (same port); any other address unchanged.
  SocketAddress v4_mapped() const;

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* sockaddr_ptr() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t sockaddr_len() const { return is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }

  bool operator==(const SocketAddress& o) const;
  size_t hash() const;

 private:
  sockaddr_storage storage_{};
};

}  // namespace strata

template <>
struct std::hash<strata::SocketAddress> {
  size_t operator()(const strata::SocketAddress& a) const noexcept { return a.hash(); }
};
