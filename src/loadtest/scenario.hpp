// Scenario files for `strata bench --scenario FILE` (format: bench/scenarios/README.md).
//   fixed:  {"hosts": 3, "viewers_per_host": 500, "ramp": 100, "duration_s": 30}
//   random: {"hosts": 2, "duration_s": 60, "random": {"viewers": 200, "join_rate": 20,
//            "switch_host_prob": 0.1, "leave_prob": 0.05, "min_wait_ms": 500,
//            "max_wait_ms": 5000, "seed": 1}}
//   churn:  {"hosts": 1, "duration_s": 1800, "churn": {"viewers": 300, "ramp": 20,
//            "joins_per_s": 10, "leaves_per_s": 10, "host_restart_s": 300, "seed": 1}}
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

// A steady population for soak runs: `viewers` join at `ramp` per second, then every
// second ~joins_per_s new viewers join and ~leaves_per_s random ones leave, and every
// host_restart_s a host DELETEs its session and publishes again under the same name.
struct ChurnBehaviour {
  int viewers = 0;             // the population once the ramp is over
  double ramp = 10;            // joins per second while filling up, 0 = all at once
  double joins_per_s = 0, leaves_per_s = 0;
  double host_restart_s = 0;   // 0 = hosts never restart
  uint64_t seed = 1;           // which viewers leave
};

struct Scenario {
  int hosts = 1;             // streams (one publisher each with --publish)
  int viewers_per_host = 0;  // fixed mode
  double ramp = 0;           // joins per second, 0 = all at once
  double duration_s = 10;    // after the last join (fixed) or in total (random, churn)
  std::optional<RandomBehaviour> random;
  std::optional<ChurnBehaviour> churn;

  int total_viewers() const {
    return random ? random->viewers : churn ? churn->viewers : hosts * viewers_per_host;
  }
};

// Parses and validates; nullopt with *error naming the offending field.
std::optional<Scenario> parse_scenario(std::string_view json, std::string* error);

}  // namespace strata::loadtest
