#include "loadtest/scenario.hpp"

#include <gtest/gtest.h>

namespace strata::loadtest {
namespace {

TEST(ScenarioTest, FixedSequence) {
  std::string error;
  auto s = parse_scenario(R"({"hosts": 3, "viewers_per_host": 500, "ramp": 100, "duration_s": 30})", &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->hosts, 3);
  EXPECT_EQ(s->viewers_per_host, 500);
  EXPECT_EQ(s->ramp, 100);
  EXPECT_EQ(s->duration_s, 30);
  EXPECT_FALSE(s->random);
  EXPECT_EQ(s->total_viewers(), 1500);
}

TEST(ScenarioTest, RandomBehaviour) {
  std::string error;
  auto s = parse_scenario(R"({"hosts": 2, "duration_s": 60, "random": {"viewers": 200, "join_rate": 20,
      "switch_host_prob": 0.1, "leave_prob": 0.05, "min_wait_ms": 500, "max_wait_ms": 5000, "seed": 1}})", &error);
  ASSERT_TRUE(s) << error;
  ASSERT_TRUE(s->random);
  EXPECT_EQ(s->random->viewers, 200);
  EXPECT_EQ(s->random->join_rate, 20);
  EXPECT_DOUBLE_EQ(s->random->switch_host_prob, 0.1);
  EXPECT_DOUBLE_EQ(s->random->leave_prob, 0.05);
  EXPECT_EQ(s->random->min_wait_ms, 500);
  EXPECT_EQ(s->random->max_wait_ms, 5000);
  EXPECT_EQ(s->random->seed, 1u);
  EXPECT_EQ(s->total_viewers(), 200);
}

TEST(ScenarioTest, Errors) {
  struct Case { const char* json; const char* mentions; };
  std::vector<Case> cases = {
      {"", "JSON"},
      {"[1,2]", "JSON object"},
      {R"({"hosts": 1})", "viewers_per_host"},
      {R"({"viewers_per_host": "ten"})", "viewers_per_host"},
      {R"({"viewers_per_host": 1.5})", "integer"},
      {R"({"viewers_per_host": 10, "hosts": 0})", "hosts"},
      {R"({"viewers_per_host": 10, "ramp": -1})", "ramp"},
      {R"({"viewers_per_host": 10, "viewers": 3})", "unknown field 'viewers'"},
      {R"({"random": 5})", "'random' must be an object"},
      {R"({"random": {}})", "random.viewers"},
      {R"({"random": {"viewers": 5, "leave_prob": 2}})", "leave_prob"},
      {R"({"random": {"viewers": 5, "min_wait_ms": 10, "max_wait_ms": 5}})", "min_wait_ms"},
      {R"({"random": {"viewers": 5, "leave_prob": 0.6, "switch_host_prob": 0.6}})", "probabilities"},
      {R"({"random": {"viewers": 5, "speed": 1}})", "unknown field 'speed'"},
  };
  for (auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_scenario(c.json, &error)) << c.json;
    EXPECT_NE(error.find(c.mentions), std::string::npos) << c.json << " -> " << error;
  }
}

}  // namespace
}  // namespace strata::loadtest
