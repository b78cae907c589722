#include "ice/host_candidates.hpp"

#include <algorithm>

namespace strata::ice {

namespace {

constexpr uint32_t kComponentRtp = 1;  // rtcp-mux: one component (RFC 5761)
constexpr uint32_t kMaxLocalPreference = 65535;
constexpr uint32_t kLoopbackLocalPreference = 0;

bool usable(const InterfaceAddress& a) {
  const SocketAddress& ip = a.address;
  if (!a.up || a.loopback || !ip.valid()) return false;
  if (ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() || ip.is_v4_mapped()) return false;
  const uint8_t* raw = ip.raw_address();
  if (ip.is_v6() && raw[0] == 0xfe && (raw[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local
  if (ip.is_v6() && raw[0] == 0xff) return false;                             // multicast
  return true;
}

}  // namespace

HostCandidate single_host_candidate(const std::string& ip) {
  return HostCandidate{ip, candidate_priority(kHostTypePreference, kMaxLocalPreference, kComponentRtp), "1"};
}

std::vector<HostCandidate> host_candidates(const std::vector<InterfaceAddress>& interfaces,
                                           const HostCandidateOptions& options) {
  std::vector<std::string> ips;
  auto add_family = [&](bool v6) {
    for (const InterfaceAddress& a : interfaces) {
      if (a.address.is_v6() != v6 || !usable(a)) continue;
      std::string ip = a.address.ip_string();
      if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(std::move(ip));
    }
  };
  add_family(false);
  if (options.ipv6) add_family(true);

  std::vector<HostCandidate> out;
  uint32_t local_preference = kMaxLocalPreference;
  for (std::string& ip : ips) {
    if (local_preference == kLoopbackLocalPreference) break;  // 65535 addresses: enough
    out.push_back(HostCandidate{std::move(ip), candidate_priority(kHostTypePreference, local_preference--, kComponentRtp),
                                std::to_string(out.size() + 1)});
  }
  out.push_back(HostCandidate{"127.0.0.1", candidate_priority(kHostTypePreference, kLoopbackLocalPreference, kComponentRtp),
                              std::to_string(out.size() + 1)});
  return out;
}

}  // namespace strata::ice
