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

TEST(ScenarioTest, Churn) {
  std::string error;
  auto s = parse_scenario(R"({"hosts": 1, "duration_s": 1800, "churn": {"viewers": 300, "ramp": 20,
      "joins_per_s": 10, "leaves_per_s": 10, "host_restart_s": 300, "seed": 7}})", &error);
  ASSERT_TRUE(s) << error;
  ASSERT_TRUE(s->churn);
  EXPECT_FALSE(s->random);
  EXPECT_EQ(s->churn->viewers, 300);
  EXPECT_EQ(s->churn->ramp, 20);
  EXPECT_EQ(s->churn->joins_per_s, 10);
  EXPECT_EQ(s->churn->leaves_per_s, 10);
  EXPECT_EQ(s->churn->host_restart_s, 300);
  EXPECT_EQ(s->churn->seed, 7u);
  EXPECT_EQ(s->duration_s, 1800);
  EXPECT_EQ(s->total_viewers(), 300);
}

TEST(ScenarioTest, ChurnDefaults) {
  std::string error;
  auto s = parse_scenario(R"({"duration_s": 60, "churn": {"viewers": 50}})", &error);
  ASSERT_TRUE(s) << error;
  ASSERT_TRUE(s->churn);
  EXPECT_EQ(s->hosts, 1);
  EXPECT_EQ(s->churn->ramp, 10);
  EXPECT_EQ(s->churn->joins_per_s, 0);
  EXPECT_EQ(s->churn->leaves_per_s, 0);
  EXPECT_EQ(s->churn->host_restart_s, 0);  // never
  EXPECT_EQ(s->churn->seed, 1u);
  // ramp 0 = everyone at once, so even a short run fits.
  EXPECT_TRUE(parse_scenario(R"({"duration_s": 1, "churn": {"viewers": 5000, "ramp": 0}})", &error)) << error;
}

TEST(ScenarioTest, ChurnErrors) {
  struct Case { const char* json; const char* mentions; };
  std::vector<Case> cases = {
      {R"({"churn": 3})", "'churn' must be an object"},
      {R"({"churn": {}})", "churn.viewers"},
      {R"({"churn": {"viewers": 0}})", "viewers"},
      {R"({"churn": {"viewers": 10.5}})", "integer"},
      {R"({"churn": {"viewers": 10, "joins_per_s": -1}})", "joins_per_s"},
      {R"({"churn": {"viewers": 10, "leaves_per_s": "many"}})", "leaves_per_s"},
      {R"({"churn": {"viewers": 10, "ramp": -5}})", "ramp"},
      {R"({"churn": {"viewers": 10, "host_restart_s": 0.5}})", "at least 1"},
      {R"({"churn": {"viewers": 10, "host_restart_s": -1}})", "host_restart_s"},
      {R"({"churn": {"viewers": 10, "restart_every": 5}})", "unknown field 'restart_every' in 'churn'"},
      {R"({"duration_s": 60, "churn": {"viewers": 10, "host_restart_s": 60}})", "no host would restart"},
      {R"({"duration_s": 20, "churn": {"viewers": 300, "ramp": 10}})", "does not end within 'duration_s'"},
      {R"({"churn": {"viewers": 10}, "random": {"viewers": 10}})", "exclude each other"},
      {R"({"churn": {"viewers": 10}, "viewers_per_host": 10})", "belong to the fixed sequence"},
      {R"({"churn": {"viewers": 10}, "ramp": 10})", "churn.ramp"},
  };
  for (auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_scenario(c.json, &error)) << c.json;
    EXPECT_NE(error.find(c.mentions), std::string::npos) << c.json << " -> " << error;
  }
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
