// Scenario files for `strata bench --scenario FILE` (format: bench/scenarios/README.md).
//   fixed:  {"hosts": 3, "viewers_per_host": 500, "ramp": 100, "duration_s": 30}
//   random: {"hosts": 2, "duration_s": 60, "random": {"viewers": 200, "join_rate": 20,
//            "switch_host_prob": 0.1, "leave_prob": 0.05, "min_wait_ms": 500,
//            "max_wait_ms": 5000, "seed": 1}}
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::loadtest {

struct RandomBehaviour {
  int viewers = 0;           // viewers alive at once once everyone has joined
  double join_rate = 10;     // joins per second
  double switch_host_prob = 0;  // per decision: move to another host's stream
  double leave_prob = 0;        // per decision: leave (and a fresh viewer joins later)
  int min_wait_ms = 500, max_wait_ms = 5000;  // time between a viewer's decisions
  uint64_t seed = 1;
};

struct Scenario {
  int hosts = 1;             // streams (one publisher each with --publish)
  int viewers_per_host = 0;  // fixed mode
  double ramp = 0;           // joins per second, 0 = all at once
  double duration_s = 10;    // after the last join (fixed) or in total (random)
  std::optional<RandomBehaviour> random;

  int total_viewers() const { return random ? random->viewers : hosts * viewers_per_host; }
};

// Parses and validates; nullopt with *error naming the offending field.
std::optional<Scenario> parse_scenario(std::string_view json, std::string* error);

}  // namespace strata::loadtest
