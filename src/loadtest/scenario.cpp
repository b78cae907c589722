#include "loadtest/scenario.hpp"

#include <nlohmann/json.hpp>

namespace strata::loadtest {
namespace {

using nlohmann::json;

// Reads an optional number field into *out with range checks; false sets *error.
template <typename T>
bool read_number(const json& obj, const char* key, T* out, double min, double max, std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (!it->is_number()) {
    *error = std::string("'") + key + "' must be a number";
    return false;
  }
  double v = it->get<double>();
  if (v < min || v > max) {
    *error = std::string("'") + key + "' out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    return false;
  }
  if constexpr (std::is_integral_v<T>) {
    if (v != double(int64_t(v))) {
      *error = std::string("'") + key + "' must be an integer";
      return false;
    }
  }
  *out = T(v);
  return true;
}

bool known_keys_only(const json& obj, std::initializer_list<const char*> keys, const char* where, std::string* error) {
  for (auto& [k, v] : obj.items()) {
    bool known = false;
    for (auto* key : keys) known = known || k == key;
    if (!known) {
      *error = std::string("unknown field '") + k + "' in " + where;
      return false;
    }
  }
  return true;
}

bool parse_random(const json& r, RandomBehaviour* out, std::string* error) {
  if (!r.is_object()) {
    *error = "'random' must be an object";
    return false;
  }
  if (!known_keys_only(r, {"viewers", "join_rate", "switch_host_prob", "leave_prob", "min_wait_ms", "max_wait_ms", "seed"},
                       "'random'", error))
    return false;
  if (!r.contains("viewers")) {
    *error = "'random.viewers' is required";
    return false;
  }
  return read_number(r, "viewers", &out->viewers, 1, 100000, error) &&
         read_number(r, "join_rate", &out->join_rate, 0.01, 100000, error) &&
         read_number(r, "switch_host_prob", &out->switch_host_prob, 0, 1, error) &&
         read_number(r, "leave_prob", &out->leave_prob, 0, 1, error) &&
         read_number(r, "min_wait_ms", &out->min_wait_ms, 0, 3'600'000, error) &&
         read_number(r, "max_wait_ms", &out->max_wait_ms, 0, 3'600'000, error) &&
         read_number(r, "seed", &out->seed, 0, 9.0e15, error);
}

bool parse_churn(const json& c, ChurnBehaviour* out, std::string* error) {
  if (!c.is_object()) {
    *error = "'churn' must be an object";
    return false;
  }
  if (!known_keys_only(c, {"viewers", "ramp", "joins_per_s", "leaves_per_s", "host_restart_s", "seed"}, "'churn'", error))
    return false;
  if (!c.contains("viewers")) {
    *error = "'churn.viewers' is required";
    return false;
  }
  if (!(read_number(c, "viewers", &out->viewers, 1, 100000, error) && read_number(c, "ramp", &out->ramp, 0, 100000, error) &&
        read_number(c, "joins_per_s", &out->joins_per_s, 0, 10000, error) &&
        read_number(c, "leaves_per_s", &out->leaves_per_s, 0, 10000, error) &&
        read_number(c, "host_restart_s", &out->host_restart_s, 0, 86400, error) &&
        read_number(c, "seed", &out->seed, 0, 9.0e15, error)))
    return false;
  // A restart takes a DELETE, a WHIP POST and a handshake; sooner than every second the
  // host would spend its life restarting.
  if (out->host_restart_s > 0 && out->host_restart_s < 1) {
    *error = "'churn.host_restart_s' must be 0 (never) or at least 1";
    return false;
  }
  return true;
}

// Churn replaces the fixed sequence's fields; timings must fit in the run.
bool check_churn(const json& j, const Scenario& s, std::string* error) {
  const ChurnBehaviour& c = *s.churn;
  if (j.contains("random")) return *error = "'churn' and 'random' exclude each other", false;
  if (j.contains("viewers_per_host") || j.contains("ramp"))
    return *error = "'viewers_per_host' and 'ramp' belong to the fixed sequence; with 'churn' use 'churn.viewers' and 'churn.ramp'",
           false;
  if (c.host_restart_s >= s.duration_s)
    return *error = "'churn.host_restart_s' is not shorter than 'duration_s': no host would restart", false;
  if (c.ramp > 0 && c.viewers / c.ramp >= s.duration_s)
    return *error = "the ramp ('churn.viewers' / 'churn.ramp' seconds) does not end within 'duration_s'", false;
  return true;
}

}  // namespace

std::optional<Scenario> parse_scenario(std::string_view text, std::string* error) {
  std::string err;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "scenario is not a JSON object";
    return std::nullopt;
  }
  Scenario s;
  bool ok = known_keys_only(j, {"hosts", "viewers_per_host", "ramp", "duration_s", "random", "churn"}, "the scenario", &err) &&
            read_number(j, "hosts", &s.hosts, 1, 1000, &err) &&
            read_number(j, "viewers_per_host", &s.viewers_per_host, 0, 100000, &err) &&
            read_number(j, "ramp", &s.ramp, 0, 100000, &err) &&
            read_number(j, "duration_s", &s.duration_s, 0.1, 86400, &err);
  if (ok && j.contains("churn")) {
    ChurnBehaviour c;
    ok = parse_churn(j["churn"], &c, &err);
    if (ok) s.churn = c, ok = check_churn(j, s, &err);
  }
  if (ok && j.contains("random")) {
    RandomBehaviour r;
    ok = parse_random(j["random"], &r, &err);
    if (ok && r.min_wait_ms > r.max_wait_ms) ok = false, err = "'random.min_wait_ms' exceeds 'random.max_wait_ms'";
    if (ok && r.switch_host_prob + r.leave_prob > 1) ok = false, err = "'random' probabilities add up to more than 1";
    if (ok) s.random = r;
  }
  if (ok && !s.random && !s.churn && s.viewers_per_host == 0)
    ok = false, err = "'viewers_per_host' (or 'random' or 'churn') is required";
  if (!ok) {
    *error = err;
    return std::nullopt;
  }
  return s;
}

}  // namespace strata::loadtest
