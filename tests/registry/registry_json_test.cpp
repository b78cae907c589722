#include <gtest/gtest.h>

#include <random>

#include "registry/registry.hpp"
#include "registry/registry_json.hpp"

namespace strata::registry {
namespace {

TEST(RegistryJson, NodeRoundTrips) {
  NodeRecord n{"o1", "origin", "eu", "http://10.0.0.1:8080", 0.5, 1ull << 40, 12, 300, true};
  auto back = node_from_json(node_to_json(n));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, n.id);
  EXPECT_EQ(back->role, n.role);
  EXPECT_EQ(back->region, n.region);
  EXPECT_EQ(back->http_url, n.http_url);
  EXPECT_DOUBLE_EQ(back->cpu, n.cpu);
  EXPECT_EQ(back->egress_bps, n.egress_bps);
  EXPECT_EQ(back->sessions, n.sessions);
  EXPECT_EQ(back->capacity, n.capacity);
  EXPECT_EQ(back->draining, n.draining);
}

TEST(RegistryJson, ClaimAndEventRoundTrip) {
  StreamClaim c{"live", "o1", "eu", "http://o1"};
  auto back = claim_from_json("live", claim_to_json(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream, "live");
  EXPECT_EQ(back->origin_id, "o1");
  EXPECT_EQ(back->origin_region, "eu");
  EXPECT_EQ(back->origin_url, "http://o1");
  for (auto kind : {Event::Kind::kStreamEnded, Event::Kind::kStreamMoved}) {
    auto e = event_from_json(event_to_json({kind, "s", "o2"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, kind);
    EXPECT_EQ(e->stream, "s");
    EXPECT_EQ(e->origin_id, "o2");
  }
}

TEST(RegistryJson, MalformedInputIsRejected) {
  const char* bad_nodes[] = {"", "{", "[]", "null", "42", R"({"id":7})", R"({"id":"a","cpu":"x"})",
                             R"({"id":"a","sessions":-1})", R"({"role":"edge"})",
                             R"({"id":"a","draining":1})"};
  for (const char* text : bad_nodes) EXPECT_FALSE(node_from_json(text)) << text;
  const char* bad_claims[] = {"", "{}", R"({"origin_id":1})", R"({"origin_id":""})", "\"o1\""};
  for (const char* text : bad_claims) EXPECT_FALSE(claim_from_json("s", text)) << text;
  const char* bad_events[] = {"", "{}", R"({"kind":"exploded","stream":"s"})",
                              R"({"kind":"stream_ended","stream":3})"};
  for (const char* text : bad_events) EXPECT_FALSE(event_from_json(text)) << text;
}

TEST(RegistryJson, RandomAndTruncatedBytesNeverCrash) {
  std::mt19937 rng(1234);
  const std::string valid = node_to_json({"o1", "origin", "eu", "http://x", 0.1, 5, 1, 2, false});
  for (size_t cut = 0; cut < valid.size(); ++cut) {
    EXPECT_FALSE(node_from_json(std::string_view(valid).substr(0, cut)));
  }
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    node_from_json(junk);
    claim_from_json("s", junk);
    event_from_json(junk);
  }
}

TEST(MakeRegistry, UrlTable) {
  struct Case {
    const char* url;
    bool ok;
  };
  const Case cases[] = {
      {"memory", true},           {"redis://127.0.0.1:6380", true}, {"redis://localhost", true},
      {"redis://cache:6379/", true}, {"redis://[::1]:7000", true},  {"redis://[::1]", true},
      {"redis://", false},        {"redis://:6379", false},         {"redis://h:0", false},
      {"redis://h:65536", false}, {"redis://h:abc", false},         {"redis://h:", false},
      {"redis://[::1", false},    {"redis://[::1]x", false},        {"http://h:1", false},
      {"", false},                {"Memory", false},                {"redis://u@h:1", false},
  };
  FakeClock clock;
  for (const Case& c : cases) {
    std::string error;
    auto reg = make_registry(c.url, clock, &error);
    EXPECT_EQ(reg != nullptr, c.ok) << c.url << " error=" << error;
    if (!c.ok) {
      EXPECT_FALSE(error.empty()) << c.url;
    }
  }
  EXPECT_EQ(make_registry("bogus", clock, nullptr), nullptr);  // null error pointer is allowed
}

}  // namespace
}  // namespace strata::registry
