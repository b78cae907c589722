#include "broker/placement.hpp"

#include <random>

#include <gtest/gtest.h>

namespace strata::broker {
namespace {

using registry::NodeRecord;

NodeRecord node(std::string id, std::string role, uint32_t sessions, uint32_t capacity,
                double cpu = 0.1, bool draining = false, std::string region = "eu") {
  NodeRecord n;
  n.id = std::move(id);
  n.role = std::move(role);
  n.region = std::move(region);
  n.http_url = "http://" + n.id + ":8080";
  n.sessions = sessions;
  n.capacity = capacity;
  n.cpu = cpu;
  n.draining = draining;
  return n;
}

TEST(NodeLoad, FractionOfCapacityOrSessions) {
  struct Case {
    uint32_t sessions, capacity;
    double load;
  } cases[] = {{0, 0, 0.0}, {7, 0, 7.0}, {5, 10, 0.5}, {10, 10, 1.0}, {0, 100, 0.0}};
  for (const auto& c : cases) {
    EXPECT_DOUBLE_EQ(node_load(node("n", "origin", c.sessions, c.capacity)), c.load)
        << c.sessions << "/" << c.capacity;
  }
}

TEST(Eligibility, Table) {
  struct Case {
    const char* name;
    NodeRecord n;
    Role role;
    bool eligible;
  } cases[] = {
      {"origin ok", node("a", "origin", 1, 10), Role::kOrigin, true},
      {"edge is not an origin", node("a", "edge", 1, 10), Role::kOrigin, false},
      {"origin is not an edge", node("a", "origin", 1, 10), Role::kEdge, false},
      {"dev serves origin", node("a", "dev", 1, 10), Role::kOrigin, true},
      {"dev serves edge", node("a", "dev", 1, 10), Role::kEdge, true},
      {"draining", node("a", "origin", 1, 10, 0.1, true), Role::kOrigin, false},
      {"full by sessions", node("a", "origin", 10, 10), Role::kOrigin, false},
      {"above capacity", node("a", "origin", 11, 10), Role::kOrigin, false},
      {"full by cpu", node("a", "origin", 1, 10, 0.9), Role::kOrigin, false},
      {"cpu just under", node("a", "origin", 1, 10, 0.89), Role::kOrigin, true},
      {"unknown capacity never full by sessions", node("a", "origin", 5000, 0), Role::kOrigin,
       true},
      {"other region", node("a", "origin", 1, 10, 0.1, false, "us"), Role::kOrigin, false},
      {"unknown role", node("a", "broker", 1, 10), Role::kOrigin, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_eligible(c.n, c.role, "eu", 0.9), c.eligible) << c.name;
  }
  NodeRecord no_url = node("a", "origin", 1, 10);
  no_url.http_url.clear();
  EXPECT_FALSE(is_eligible(no_url, Role::kOrigin, "eu", 0.9));
}

// A 503 no-capacity says, per node of the role and region, why it takes nothing new.
TEST(NoCapacity, NamesEachNodesReason) {
  NodeRecord expired = node("gone", "edge", 0, 10);
  expired.ttl_left = Duration::zero();
  std::vector<NodeRecord> nodes = {
      node("busy", "edge", 1, 10, 0.95), node("drain", "edge", 1, 10, 0.1, true), node("full", "edge", 10, 10),
      expired, node("o", "origin", 0, 10), node("far", "edge", 0, 10, 0.1, false, "us"),
  };
  EXPECT_EQ(describe_no_capacity(nodes, Role::kEdge, "eu", 0.9),
            "no edge in region 'eu' can take a new session (busy: cpu 0.95 >= 0.90; drain: draining; "
            "full: full: 10 of 10 sessions; gone: record expired)");
  EXPECT_EQ(why_not_eligible(node("ok", "edge", 1, 10), Role::kEdge, "eu", 0.9), "");
  EXPECT_EQ(describe_no_capacity({node("o", "origin", 0, 10)}, Role::kEdge, "eu", 0.9),
            "no edge of region 'eu' is alive");
}

TEST(EligibleNodes, SortedByLoadThenCpuThenId) {
  std::vector<NodeRecord> nodes = {
      node("c", "origin", 5, 10, 0.2), node("b", "origin", 5, 10, 0.1),
      node("a", "origin", 5, 10, 0.1), node("d", "origin", 1, 10, 0.5),
      node("full", "origin", 10, 10),  node("e", "edge", 0, 10),
  };
  auto sorted = eligible_nodes(nodes, Role::kOrigin, "eu", 0.9);
  std::vector<std::string> ids;
  for (const auto* n : sorted) ids.push_back(n->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d", "a", "b", "c"}));
}

TEST(PickTwoChoice, EmptyAndSingle) {
  EXPECT_EQ(pick_two_choice({}, 1, 0.05), nullptr);
  NodeRecord only = node("a", "origin", 3, 10);
  for (uint64_t r : {0ull, 1ull, ~0ull}) EXPECT_EQ(pick_two_choice({&only}, r, 0.05), &only);
}

TEST(PickTwoChoice, TiedPairIsChosenAtRandom) {
  NodeRecord a = node("a", "origin", 3, 10), b = node("b", "origin", 3, 10),
             c = node("c", "origin", 3, 10);
  std::vector<const NodeRecord*> sorted = {&a, &b, &c};
  EXPECT_EQ(pick_two_choice(sorted, 0, 0.05), &a);
  EXPECT_EQ(pick_two_choice(sorted, 1, 0.05), &b);
  EXPECT_EQ(pick_two_choice(sorted, 2, 0.05), &a);
  EXPECT_EQ(pick_two_choice(sorted, 3, 0.05), &b);
}

TEST(PickTwoChoice, ClearlyLessLoadedWins) {
  struct Case {
    const char* name;
    NodeRecord least, next;
    bool random_between;
  } cases[] = {
      {"one apart, within tolerance", node("a", "o", 50, 100), node("b", "o", 51, 100), true},
      {"one apart, beyond relative tolerance", node("a", "o", 5, 10), node("b", "o", 6, 10), false},
      // Two or more sessions apart is a real difference even when it is a small share of
      // capacity (a burst against stale records must not pile onto one node).
      {"four apart at capacity 100", node("a", "o", 50, 100), node("b", "o", 54, 100), false},
      {"four apart at capacity 5000", node("a", "o", 0, 5000), node("b", "o", 4, 5000), false},
      {"unknown capacity, one apart", node("a", "o", 4, 0), node("b", "o", 5, 0), true},
      {"unknown capacity, two apart", node("a", "o", 3, 0), node("b", "o", 5, 0), false},
      {"mixed scales, one apart", node("a", "o", 4, 10), node("b", "o", 5, 0), true},
      {"mixed scales, far apart", node("a", "o", 0, 0), node("b", "o", 9, 10), false},
  };
  for (const auto& c : cases) {
    std::vector<const NodeRecord*> sorted = {&c.least, &c.next};
    EXPECT_EQ(pick_two_choice(sorted, 0, 0.05), &c.least) << c.name;
    EXPECT_EQ(pick_two_choice(sorted, 1, 0.05), c.random_between ? &c.next : &c.least) << c.name;
  }
}

// Property: over random clusters and random draws, the pick is always one of the two
// least-loaded eligible nodes.
TEST(PickTwoChoice, NeverOutsideTheTwoLeastLoaded) {
  std::mt19937_64 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    std::vector<NodeRecord> nodes;
    int count = int(rng() % 8);
    for (int i = 0; i < count; ++i) {
      uint32_t capacity = uint32_t(rng() % 3 == 0 ? 0 : 1 + rng() % 20);
      nodes.push_back(node("n" + std::to_string(i), rng() % 4 == 0 ? "edge" : "origin",
                           uint32_t(rng() % 22), capacity, double(rng() % 100) / 100.0,
                           rng() % 5 == 0));
    }
    auto sorted = eligible_nodes(nodes, Role::kOrigin, "eu", 0.9);
    const NodeRecord* pick = pick_two_choice(sorted, rng(), 0.05);
    if (sorted.empty()) {
      EXPECT_EQ(pick, nullptr);
      continue;
    }
    ASSERT_NE(pick, nullptr);
    EXPECT_TRUE(pick == sorted[0] || (sorted.size() > 1 && pick == sorted[1])) << round;
    EXPECT_TRUE(is_eligible(*pick, Role::kOrigin, "eu", 0.9));
    for (size_t i = 2; i < sorted.size(); ++i) {
      EXPECT_FALSE(less_loaded(*sorted[i], *pick)) << round;
    }
  }
}

}  // namespace
}  // namespace strata::broker
