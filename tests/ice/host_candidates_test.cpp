#include "ice/host_candidates.hpp"

#include <gtest/gtest.h>

#include <set>

namespace strata::ice {
namespace {

InterfaceAddress iface(const char* name, const char* ip, bool up = true, bool loopback = false) {
  return InterfaceAddress{name, *SocketAddress::from_ip_port(ip, 0), up, loopback};
}

std::vector<std::string> ips(const std::vector<HostCandidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.ip);
  return out;
}

// A desktop: loopback, a wired and a wireless interface with IPv4 and IPv6, a docker bridge
// without containers (down), link-local addresses.
std::vector<InterfaceAddress> desktop() {
  return {
      iface("lo", "127.0.0.1", true, true),
      iface("lo", "::1", true, true),
      iface("enp3s0", "192.168.1.20"),
      iface("enp3s0", "2001:db8:1::20"),
      iface("enp3s0", "fe80::1c2:3ff:fe04:506"),
      iface("wlp2s0", "10.0.0.7"),
      iface("wlp2s0", "fe80::aa:bbff:fecc:ddee"),
      iface("docker0", "172.17.0.1", /*up=*/false),
      iface("enp3s0", "169.254.10.1"),
  };
}

TEST(HostCandidates, PriorityFollowsRfc8445Formula) {
  // RFC 8445 §5.1.2.1 with type preference 126 (host), local preference 65535, component 1.
  EXPECT_EQ(candidate_priority(126, 65535, 1), 2130706431u);
  EXPECT_EQ(candidate_priority(126, 0, 1), 2113929471u);
  EXPECT_EQ(candidate_priority(0, 0, 1), 255u);
  auto one = single_host_candidate("203.0.113.5");
  EXPECT_EQ(one.ip, "203.0.113.5");
  EXPECT_EQ(one.priority, 2130706431u) << "--public-ip keeps the one candidate it always had";
  EXPECT_EQ(one.foundation, "1");
}

TEST(HostCandidates, InterfaceAddressesInOrderThenIpv6ThenLoopbackLast) {
  auto cs = host_candidates(desktop());
  EXPECT_EQ(ips(cs), (std::vector<std::string>{"192.168.1.20", "10.0.0.7", "2001:db8:1::20", "127.0.0.1"}));
}

TEST(HostCandidates, PrioritiesStrictlyDecreaseWithLoopbackLowest) {
  auto cs = host_candidates(desktop());
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].priority, candidate_priority(kHostTypePreference, 65535, 1));
  EXPECT_EQ(cs[1].priority, candidate_priority(kHostTypePreference, 65534, 1));
  EXPECT_EQ(cs[2].priority, candidate_priority(kHostTypePreference, 65533, 1));
  EXPECT_EQ(cs.back().priority, candidate_priority(kHostTypePreference, 0, 1));
  for (size_t i = 1; i < cs.size(); ++i) EXPECT_GT(cs[i - 1].priority, cs[i].priority) << i;
}

TEST(HostCandidates, OneFoundationPerAddress) {
  // RFC 8445 §5.1.1.3: different base addresses never share a foundation.
  auto cs = host_candidates(desktop());
  std::set<std::string> foundations;
  for (const auto& c : cs) {
    EXPECT_FALSE(c.foundation.empty());
    EXPECT_LE(c.foundation.size(), 32u);  // RFC 8839 §5.1: 1*32ice-char
    foundations.insert(c.foundation);
  }
  EXPECT_EQ(foundations.size(), cs.size());
}

TEST(HostCandidates, LeavesOutWhatAPeerCannotUse) {
  auto cs = host_candidates({
      iface("eth0", "0.0.0.0"),
      iface("eth0", "::"),
      iface("eth0", "::ffff:192.0.2.1"),          // v4-mapped
      iface("eth0", "fec0::1"),                   // site-local (RFC 3879)
      iface("eth0", "fe80::1"),                   // link-local: needs a zone
      iface("eth0", "169.254.3.4"),               // link-local IPv4
      iface("eth1", "192.0.2.9", /*up=*/false),  // link down
      iface("lo:1", "127.0.0.2", true, true),     // another loopback address
      iface("tun0", "127.1.1.1"),                 // loopback range on a non-loopback interface
      iface("eth0", "192.0.2.1"),
      iface("eth0:1", "192.0.2.1"),               // the same address twice
  });
  EXPECT_EQ(ips(cs), (std::vector<std::string>{"192.0.2.1", "127.0.0.1"}));
}

TEST(HostCandidates, Ipv6LeftOutWhenTheSocketsCannotTakeIt) {
  auto cs = host_candidates(desktop(), {/*ipv6=*/false});
  EXPECT_EQ(ips(cs), (std::vector<std::string>{"192.168.1.20", "10.0.0.7", "127.0.0.1"}));
}

TEST(HostCandidates, LoopbackOnlyMachineAdvertisesLoopback) {
  // A sandbox with no network at all: what `strata dev` always advertised.
  auto cs = host_candidates({iface("lo", "127.0.0.1", true, true), iface("lo", "::1", true, true)});
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].ip, "127.0.0.1");
  EXPECT_EQ(cs[0].foundation, "1");
  EXPECT_TRUE(host_candidates({}).size() == 1 && host_candidates({})[0].ip == "127.0.0.1");
}

}  // namespace
}  // namespace strata::ice
