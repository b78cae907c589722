// The host candidates a lite agent advertises (RFC 8445 §5.1.1.1, §5.1.2), sans-IO: the
// interface list comes in (common/network_interfaces.hpp reads it), candidates come out.
//
// `strata dev` without --public-ip advertises every usable interface address and 127.0.0.1
// last. One loopback-only candidate (the old default) fails with Firefox, which never pairs
// its own interface addresses with a remote loopback candidate; a viewer or host on the same
// machine, or on the LAN, then checks the interface address it can reach.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/network_interfaces.hpp"

namespace strata::ice {

struct HostCandidate {
  std::string ip;
  uint32_t priority = 0;
  std::string foundation;
};

// RFC 8445 §5.1.2.1: priority = 2^24 * type preference + 2^8 * local preference +
// (256 - component id). Host candidates have type preference 126 (§5.1.2.2).
constexpr uint32_t kHostTypePreference = 126;
constexpr uint32_t candidate_priority(uint32_t type_preference, uint32_t local_preference, uint32_t component) {
  return (type_preference << 24) + (local_preference << 8) + (256 - component);
}
// The one candidate of a server told its address (--public-ip): 2130706431, foundation "1".
HostCandidate single_host_candidate(const std::string& ip);

struct HostCandidateOptions {
  bool ipv6 = true;  // false: the media sockets cannot take IPv6, leave those addresses out
};

// What to advertise for these interface addresses, highest priority first:
//  - IPv4 interface addresses in the kernel's order, then IPv6 ones (when enabled), from
//    interfaces that are up and not loopback; 127.0.0.1 always last.
//  - Left out (RFC 8445 §5.1.1.1): loopback addresses of other interfaces, link-local
//    addresses (169.254/16, fe80::/10: they need a zone the SDP cannot carry), IPv6
//    site-local (fec0::/10, deprecated by RFC 3879), v4-mapped and unspecified addresses,
//    and duplicates.
//  - Local preference 65535, 65534, ... in that order and 0 for 127.0.0.1, so every
//    candidate's priority is distinct (§5.1.2.1) and loopback is the last resort. §5.1.1.1
//    keeps loopback out of ICE altogether; we keep 127.0.0.1 because clients on this host
//    that pair only loopback (Chromium with no other network, the tests) still connect,
//    and it is what `strata dev` advertised before.
//  - One foundation per address ("1", "2", ...): §5.1.1.3 gives candidates of different
//    base addresses different foundations.
// IPv4 comes first although RFC 8421 prefers IPv6: the first candidate is also the SDP's
// default address (c=), and every client of a development server speaks IPv4.
std::vector<HostCandidate> host_candidates(const std::vector<InterfaceAddress>& interfaces,
                                           const HostCandidateOptions& options = {});

}  // namespace strata::ice
