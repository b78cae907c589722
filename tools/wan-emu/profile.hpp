// The wan-emu profile: a TOML file of [[link]] tables, each joining two network namespaces
// with two TUN devices and giving each direction its impairments. Parsing validates
// everything up front (fields, ranges, CIDRs, duplicate devices) so the emulator never
// starts half-configured; errors name the link and field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "link_direction.hpp"

namespace strata::wan_emu {

struct Cidr {
  std::string text;  // as written, e.g. "10.77.1.1/30"
  int family = 0;    // AF_INET or AF_INET6
  uint8_t address[16] = {};
  int prefix = 0;
};

// "10.0.0.1/30", "fd00::1/64"; a bare address gets /32 (/128). nullopt when malformed.
std::optional<Cidr> parse_cidr(std::string_view text);
// True when the bits past the prefix are zero (what `ip route add` wants).
bool is_network_address(const Cidr& cidr);

struct Endpoint {
  std::string netns;
  std::string dev;
  Cidr addr;
  std::vector<Cidr> routes;
};

struct LinkSpec {
  std::string name;
  Endpoint a;
  Endpoint b;
  DirectionParams a_to_b;
  DirectionParams b_to_a;
};

struct Profile {
  std::vector<LinkSpec> links;
};

struct ProfileResult {
  std::optional<Profile> profile;
  std::string error;  // set when profile is empty
};

// `source` names the text in error messages (the file path).
ProfileResult parse_profile(std::string_view toml_text, std::string_view source = "profile");
ProfileResult load_profile(const std::string& path);

}  // namespace strata::wan_emu
