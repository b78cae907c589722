// Node selection for the broker (docs/ARCHITECTURE.md, "Cluster"): which origin takes a new host, which edge
// takes a new viewer. Pure functions over registry::NodeRecord snapshots, so the policy is
// tested without HTTP or a registry.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/registry.hpp"

namespace strata::broker {

enum class Role { kOrigin, kEdge };

struct PlacementLimits {
  double max_cpu = 0.9;  // a node at or above this CPU share is full
  // Two least-loaded nodes whose loads differ by at most this much (fraction of capacity;
  // one session when a capacity is unknown) count as equal, and one is chosen at random.
  double load_tolerance = 0.05;
};

// A "dev" node (`strata dev`: origin and edge in one process) serves both roles.
bool serves_role(const registry::NodeRecord& node, Role role);
// Its record has time left (NodeRecord::ttl_left > 0, or not known).
bool is_alive(const registry::NodeRecord& node);
// sessions >= capacity (when capacity is known), or cpu >= max_cpu.
bool is_full(const registry::NodeRecord& node, double max_cpu);
// Alive, right role and region, an HTTP URL to redirect to, not draining, not full.
bool is_eligible(const registry::NodeRecord& node, Role role, std::string_view region,
                 double max_cpu);

// Why a node of `role` in `region` takes no new session ("draining", "cpu 0.93 >= 0.90",
// "full: 5000 of 5000 sessions", "record expired"); empty when it is eligible or is of
// another role or region.
std::string why_not_eligible(const registry::NodeRecord& node, Role role, std::string_view region,
                             double max_cpu);
// The detail of a 503 no-capacity: every node of `role` in `region` with its reason, or that
// there is none alive.
std::string describe_no_capacity(const std::vector<registry::NodeRecord>& nodes, Role role,
                                 std::string_view region, double max_cpu);

// sessions / capacity, or sessions when the capacity is unknown (0).
double node_load(const registry::NodeRecord& node);
// Orders by load, then CPU, then id (so equal records sort the same on every broker).
bool less_loaded(const registry::NodeRecord& a, const registry::NodeRecord& b);

// Eligible nodes, least loaded first. Pointers into `nodes`.
std::vector<const registry::NodeRecord*> eligible_nodes(
    const std::vector<registry::NodeRecord>& nodes, Role role, std::string_view region,
    double max_cpu);

// "Power of two choices" restricted to the two least-loaded of `sorted` (least loaded
// first): when their loads are within the tolerance, `random` picks one of them, so
// brokers acting on the same (up to a second old) load records do not all herd onto one
// node; otherwise the least loaded wins. Never returns a node outside the first two.
// nullptr when `sorted` is empty.
const registry::NodeRecord* pick_two_choice(const std::vector<const registry::NodeRecord*>& sorted,
                                            uint64_t random, double load_tolerance);

}  // namespace strata::broker
