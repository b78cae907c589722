#include "broker/placement.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace strata::broker {

using registry::NodeRecord;

bool serves_role(const NodeRecord& node, Role role) {
  if (node.role == "dev") return true;
  return node.role == (role == Role::kOrigin ? "origin" : "edge");
}

bool is_alive(const NodeRecord& node) { return node.ttl_left > Duration::zero(); }

bool is_full(const NodeRecord& node, double max_cpu) {
  if (node.capacity > 0 && node.sessions >= node.capacity) return true;
  return node.cpu >= max_cpu;
}

bool is_eligible(const NodeRecord& node, Role role, std::string_view region, double max_cpu) {
  return is_alive(node) && serves_role(node, role) && node.region == region && !node.http_url.empty() &&
         !node.draining && !is_full(node, max_cpu);
}

std::string why_not_eligible(const NodeRecord& node, Role role, std::string_view region, double max_cpu) {
  if (!serves_role(node, role) || node.region != region) return {};
  if (!is_alive(node)) return "record expired";
  if (node.http_url.empty()) return "no HTTP URL";
  if (node.draining) return "draining";
  if (node.capacity > 0 && node.sessions >= node.capacity)
    return "full: " + std::to_string(node.sessions) + " of " + std::to_string(node.capacity) + " sessions";
  if (node.cpu >= max_cpu) {
    char text[64];
    std::snprintf(text, sizeof text, "cpu %.2f >= %.2f", node.cpu, max_cpu);
    return text;
  }
  return {};
}

std::string describe_no_capacity(const std::vector<NodeRecord>& nodes, Role role, std::string_view region,
                                 double max_cpu) {
  const char* kind = role == Role::kOrigin ? "origin" : "edge";
  std::string reasons;
  for (const auto& node : nodes) {
    std::string why = why_not_eligible(node, role, region, max_cpu);
    if (why.empty()) continue;
    reasons.append(reasons.empty() ? "" : "; ").append(node.id).append(": ").append(why);
  }
  if (reasons.empty()) return "no " + std::string(kind) + " of region '" + std::string(region) + "' is alive";
  return "no " + std::string(kind) + " in region '" + std::string(region) + "' can take a new session (" + reasons + ")";
}

double node_load(const NodeRecord& node) {
  if (node.capacity > 0) return double(node.sessions) / double(node.capacity);
  return double(node.sessions);
}

bool less_loaded(const NodeRecord& a, const NodeRecord& b) {
  return std::tuple(node_load(a), a.cpu, std::string_view(a.id)) <
         std::tuple(node_load(b), b.cpu, std::string_view(b.id));
}

std::vector<const NodeRecord*> eligible_nodes(const std::vector<NodeRecord>& nodes, Role role,
                                              std::string_view region, double max_cpu) {
  std::vector<const NodeRecord*> out;
  for (const auto& node : nodes) {
    if (is_eligible(node, role, region, max_cpu)) out.push_back(&node);
  }
  std::sort(out.begin(), out.end(),
            [](const NodeRecord* a, const NodeRecord* b) { return less_loaded(*a, *b); });
  return out;
}

namespace {

// Loads of nodes with and without a known capacity are not on one scale (fraction vs
// sessions); compare in sessions then, where "one session apart" is still a tie.
bool loads_comparable(const NodeRecord& least, const NodeRecord& next, double load_tolerance) {
  // Within one session of each other, whatever the capacity: with large capacities a
  // relative tolerance alone would call 0 and 40 sessions "equal" and let a burst pile up.
  if (double(next.sessions) - double(least.sessions) > 1.0) return false;
  if (least.capacity > 0 && next.capacity > 0)
    return node_load(next) - node_load(least) <= load_tolerance + 1e-9;  // 0.55 - 0.5 > 0.05
  return true;
}

}  // namespace

const NodeRecord* pick_two_choice(const std::vector<const NodeRecord*>& sorted, uint64_t random,
                                  double load_tolerance) {
  if (sorted.empty()) return nullptr;
  if (sorted.size() == 1 || !loads_comparable(*sorted[0], *sorted[1], load_tolerance))
    return sorted[0];
  return sorted[random & 1];
}

}  // namespace strata::broker
