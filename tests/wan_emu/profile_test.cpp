// Profile parsing: a full valid profile, every class of error with its message, CIDRs, and
// garbage input that must be rejected without crashing.
#include "profile.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace strata::wan_emu {
namespace {

const char* kValid = R"(
[[link]]
name = "viewers-regionA"
a = { netns = "sv", dev = "wva", addr = "10.77.1.1/30", routes = ["10.255.0.1/32"] }
b = { netns = "sa", dev = "wav", addr = "10.77.1.2/30", routes = ["10.255.0.9/32", "10.66.0.0/16"] }
a_to_b = { delay_ms = 90, jitter_ms = 10, loss = 0.03, rate_kbit = 0, queue_packets = 1000 }
b_to_a = { delay_ms = 90.5, jitter_ms = 10, loss = 0.03, rate_kbit = 5000, loss_burst = 3, reorder = true, jitter_distribution = "normal" }

[[link]]
name = "second"
a = { netns = "sv", dev = "wvb", addr = "10.77.2.1/30" }
b = { netns = "sb", dev = "wbv", addr = "10.77.2.2/30" }
a_to_b = {}
b_to_a = { delay_ms = 5 }
)";

TEST(Profile, ParsesFullProfile) {
  const ProfileResult r = parse_profile(kValid);
  ASSERT_TRUE(r.profile) << r.error;
  ASSERT_EQ(r.profile->links.size(), 2u);
  const LinkSpec& l = r.profile->links[0];
  EXPECT_EQ(l.name, "viewers-regionA");
  EXPECT_EQ(l.a.netns, "sv");
  EXPECT_EQ(l.a.dev, "wva");
  EXPECT_EQ(l.a.addr.text, "10.77.1.1/30");
  EXPECT_EQ(l.a.addr.prefix, 30);
  ASSERT_EQ(l.b.routes.size(), 2u);
  EXPECT_EQ(l.b.routes[1].text, "10.66.0.0/16");
  EXPECT_EQ(l.a_to_b.delay_ms, 90);
  EXPECT_EQ(l.a_to_b.loss, 0.03);
  EXPECT_EQ(l.a_to_b.queue_packets, 1000u);
  EXPECT_FALSE(l.a_to_b.reorder);
  EXPECT_EQ(l.b_to_a.delay_ms, 90.5);
  EXPECT_EQ(l.b_to_a.rate_kbit, 5000u);
  EXPECT_EQ(l.b_to_a.queue_packets, 1000u);  // default
  EXPECT_EQ(l.b_to_a.loss_burst, 3);
  EXPECT_TRUE(l.b_to_a.reorder);
  EXPECT_EQ(l.b_to_a.jitter_distribution, JitterDistribution::kNormal);
  const LinkSpec& s = r.profile->links[1];
  EXPECT_TRUE(s.a.routes.empty());
  EXPECT_EQ(s.a_to_b.delay_ms, 0);
  EXPECT_EQ(s.b_to_a.delay_ms, 5);
}

struct ErrorCase {
  const char* name;
  std::string toml;
  std::string expected;  // substring of the error
};

std::string link_with(const std::string& a, const std::string& a_to_b, const std::string& extra = "") {
  return "[[link]]\nname = \"L\"\na = " + a +
         "\nb = { netns = \"nb\", dev = \"tb\", addr = \"10.0.0.2/30\" }\na_to_b = " + a_to_b +
         "\nb_to_a = {}\n" + extra;
}
const std::string kA = R"({ netns = "na", dev = "ta", addr = "10.0.0.1/30" })";

class ProfileErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ProfileErrors, RejectsWithClearMessage) {
  const ProfileResult r = parse_profile(GetParam().toml, "p.toml");
  EXPECT_FALSE(r.profile);
  EXPECT_NE(r.error.find(GetParam().expected), std::string::npos) << "error was: " << r.error;
  EXPECT_EQ(r.error.rfind("p.toml:", 0), 0u) << r.error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProfileErrors,
    testing::Values(
        ErrorCase{"Empty", "", "no [[link]] tables"},
        ErrorCase{"TomlSyntax", "[[link]\nname=", "p.toml:1:"},
        ErrorCase{"UnknownTopLevel", "foo = 1\n" + link_with(kA, "{}"), "top level: unknown key 'foo'"},
        ErrorCase{"MissingName", "[[link]]\na = {}\n", "link[0]: missing field 'name'"},
        ErrorCase{"MissingB", "[[link]]\nname = \"L\"\na = " + kA + "\n", "link[0] \"L\": missing field 'b'"},
        ErrorCase{"MissingDirection",
                  "[[link]]\nname = \"L\"\na = " + kA + "\nb = " + kA + "\n", "missing field 'a_to_b'"},
        ErrorCase{"MissingNetns", link_with(R"({ dev = "ta", addr = "10.0.0.1/30" })", "{}"),
                  "\"L\".a: missing field 'netns'"},
        ErrorCase{"MissingAddr", link_with(R"({ netns = "na", dev = "ta" })", "{}"), "missing field 'addr'"},
        ErrorCase{"EmptyDev", link_with(R"({ netns = "na", dev = "", addr = "10.0.0.1/30" })", "{}"),
                  "'dev' must be a non-empty string"},
        ErrorCase{"LongDev", link_with(R"({ netns = "na", dev = "abcdefghijklmnop", addr = "10.0.0.1/30" })", "{}"),
                  "not a valid interface name"},
        ErrorCase{"SlashNetns", link_with(R"({ netns = "../x", dev = "ta", addr = "10.0.0.1/30" })", "{}"),
                  "must not contain '/'"},
        ErrorCase{"BadCidrOctet", link_with(R"({ netns = "na", dev = "ta", addr = "10.0.0.300/30" })", "{}"),
                  "a.addr: bad CIDR \"10.0.0.300/30\""},
        ErrorCase{"BadCidrPrefix", link_with(R"({ netns = "na", dev = "ta", addr = "10.0.0.1/33" })", "{}"),
                  "bad CIDR"},
        ErrorCase{"BadCidrText", link_with(R"({ netns = "na", dev = "ta", addr = "hello" })", "{}"), "bad CIDR"},
        ErrorCase{"BadRoute",
                  link_with(R"({ netns = "na", dev = "ta", addr = "10.0.0.1/30", routes = ["10.1.0.0/"] })", "{}"),
                  "a.routes: bad CIDR \"10.1.0.0/\""},
        ErrorCase{"RouteHostBits",
                  link_with(R"({ netns = "na", dev = "ta", addr = "10.0.0.1/30", routes = ["10.1.2.3/16"] })", "{}"),
                  "host bits set"},
        ErrorCase{"RoutesNotArray",
                  link_with(R"({ netns = "na", dev = "ta", addr = "10.0.0.1/30", routes = "10.1.0.0/16" })", "{}"),
                  "must be an array of CIDR strings"},
        ErrorCase{"NegativeDelay", link_with(kA, "{ delay_ms = -5 }"), "a_to_b.delay_ms: must not be negative (got -5)"},
        ErrorCase{"NegativeJitter", link_with(kA, "{ jitter_ms = -0.5 }"), "jitter_ms: must not be negative"},
        ErrorCase{"NegativeRate", link_with(kA, "{ rate_kbit = -1 }"), "rate_kbit: must not be negative"},
        ErrorCase{"NegativeQueue", link_with(kA, "{ queue_packets = -1 }"), "queue_packets: must not be negative"},
        ErrorCase{"LossAboveOne", link_with(kA, "{ loss = 1.5 }"), "a_to_b.loss: must be in [0, 1] (got 1.5)"},
        ErrorCase{"DelayNotNumber", link_with(kA, "{ delay_ms = \"90\" }"), "delay_ms: must be a number"},
        ErrorCase{"UnknownDirectionKey", link_with(kA, "{ delay = 90 }"), "a_to_b: unknown key 'delay'"},
        ErrorCase{"ReorderNotBool", link_with(kA, "{ reorder = 1 }"), "reorder: must be true or false"},
        ErrorCase{"BadDistribution", link_with(kA, "{ jitter_distribution = \"pareto\" }"),
                  "must be \"uniform\" or \"normal\""},
        ErrorCase{"BurstTooShort", link_with(kA, "{ loss = 0.9, loss_burst = 2 }"), "loss_burst: too short"},
        ErrorCase{"DirectionNotTable", link_with(kA, "5"), "a_to_b: must be a table"},
        ErrorCase{"DuplicateName", link_with(kA, "{}") + link_with(
                      R"({ netns = "nc", dev = "tc", addr = "10.0.0.1/30" })", "{}"),
                  "duplicate link name"},
        ErrorCase{"DuplicateDevice",
                  link_with(kA, "{}") + "[[link]]\nname = \"M\"\na = " + kA +
                      "\nb = { netns = \"nd\", dev = \"td\", addr = \"10.0.0.2/30\" }\na_to_b = {}\nb_to_a = {}\n",
                  "device ta in netns na used twice"}),
    [](const auto& info) { return std::string(info.param.name); });

struct CidrCase {
  const char* text;
  bool valid;
  int prefix;
  bool network;
};

class Cidrs : public testing::TestWithParam<CidrCase> {};

TEST_P(Cidrs, Parse) {
  const std::optional<Cidr> c = parse_cidr(GetParam().text);
  ASSERT_EQ(c.has_value(), GetParam().valid) << GetParam().text;
  if (!c) return;
  EXPECT_EQ(c->prefix, GetParam().prefix);
  EXPECT_EQ(is_network_address(*c), GetParam().network);
}

INSTANTIATE_TEST_SUITE_P(Table, Cidrs,
                         testing::Values(CidrCase{"10.77.1.1/30", true, 30, false},
                                         CidrCase{"10.77.1.0/30", true, 30, true},
                                         CidrCase{"10.255.0.1", true, 32, true},
                                         CidrCase{"0.0.0.0/0", true, 0, true},
                                         CidrCase{"fd00::1/64", true, 64, false},
                                         CidrCase{"fd00::/64", true, 64, true},
                                         CidrCase{"10.0.0.1/", false, 0, false},
                                         CidrCase{"10.0.0.1/-1", false, 0, false},
                                         CidrCase{"10.0.0.1/3x", false, 0, false},
                                         CidrCase{"10.0.0/24", false, 0, false},
                                         CidrCase{"fd00::1/129", false, 0, false},
                                         CidrCase{"", false, 0, false}));

TEST(Profile, GarbageAndTruncationNeverCrash) {
  std::mt19937 gen(1234);
  const std::string valid = kValid;
  for (size_t cut = 0; cut < valid.size(); cut += 3) {
    const ProfileResult r = parse_profile(valid.substr(0, cut));
    EXPECT_TRUE(r.profile || !r.error.empty());
  }
  for (int i = 0; i < 500; ++i) {
    std::string junk(gen() % 200, '\0');
    for (char& ch : junk) ch = char(gen());
    const ProfileResult r = parse_profile(junk);
    EXPECT_TRUE(r.profile || !r.error.empty());
  }
  for (int i = 0; i < 300; ++i) {  // flip bytes of a valid profile
    std::string mutated = valid;
    for (int k = 0; k < 3; ++k) mutated[gen() % mutated.size()] = char(gen());
    const ProfileResult r = parse_profile(mutated);
    EXPECT_TRUE(r.profile || !r.error.empty());
  }
}

TEST(Profile, MissingFileIsAnError) {
  const ProfileResult r = load_profile("/nonexistent/wan.toml");
  EXPECT_FALSE(r.profile);
  EXPECT_NE(r.error.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace strata::wan_emu
