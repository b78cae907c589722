// A minimal in-test Registry: plain containers, no TTLs (set_ttl_left fakes what a read
// reports), a switch that makes every read fail and healthy() false.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace strata::broker::testing {

class FakeRegistry final : public registry::Registry {
 public:
  bool put_node(const registry::NodeRecord& node, Duration) override {
    for (auto& n : nodes_) {
      if (n.id == node.id) {
        n = node;
        return true;
      }
    }
    nodes_.push_back(node);
    return true;
  }
  bool remove_node(const registry::NodeRecord& node) override {
    return std::erase_if(nodes_, [&](const auto& n) { return n.id == node.id; }) > 0;
  }
  registry::Read<std::vector<registry::NodeRecord>> read_nodes(std::string_view region) override {
    ++node_queries;
    if (!is_healthy) return {};
    registry::Read<std::vector<registry::NodeRecord>> out{{}, true};
    for (const auto& n : nodes_) {
      if (n.region == region) out.value.push_back(n);
    }
    return out;
  }
  registry::ClaimResult claim_stream(const registry::StreamClaim& claim, Duration) override {
    if (auto it = claims_.find(claim.stream); it != claims_.end()) {
      return it->second.origin_id == claim.origin_id ? registry::ClaimResult::kAlreadyOurs
                                                     : registry::ClaimResult::kTaken;
    }
    claims_[claim.stream] = claim;
    return registry::ClaimResult::kClaimed;
  }
  bool refresh_claim(const registry::StreamClaim&, Duration) override { return true; }
  bool release_claim(const registry::StreamClaim& claim) override {
    return claims_.erase(claim.stream) > 0;
  }
  registry::Read<std::optional<registry::StreamClaim>> read_stream(std::string_view name) override {
    if (!is_healthy) return {};
    auto it = claims_.find(std::string(name));
    if (it == claims_.end()) return {std::nullopt, true};
    return {it->second, true};
  }
  registry::Read<std::vector<registry::StreamClaim>> read_streams() override {
    if (!is_healthy) return {};
    registry::Read<std::vector<registry::StreamClaim>> out{{}, true};
    for (const auto& [name, claim] : claims_) out.value.push_back(claim);
    return out;
  }
  registry::Read<std::vector<registry::StreamClaim>> read_live(std::string_view live) override {
    if (!is_healthy) return {};
    registry::Read<std::vector<registry::StreamClaim>> out{{}, true};
    const std::string prefix = registry::host_stream(live, "");
    for (auto it = claims_.lower_bound(prefix); it != claims_.end() && it->first.starts_with(prefix); ++it) {
      out.value.push_back(it->second);  // sorted by name
    }
    return out;
  }
  bool put_relay(std::string_view region, std::string_view stream, std::string_view edge_id,
                 Duration) override {
    relays_[key(region, stream)].push_back(std::string(edge_id));
    return true;
  }
  bool remove_relay(std::string_view region, std::string_view stream,
                    std::string_view edge_id) override {
    return std::erase(relays_[key(region, stream)], std::string(edge_id)) > 0;
  }
  registry::Read<std::vector<std::string>> read_relays(std::string_view region, std::string_view stream) override {
    if (!is_healthy) return {};
    auto it = relays_.find(key(region, stream));
    return {it == relays_.end() ? std::vector<std::string>{} : it->second, true};
  }
  bool publish(const registry::Event&) override { return true; }
  void subscribe(std::function<void(const registry::Event&)>) override {}
  bool healthy() override { return is_healthy; }

  // Test helper: what a read reports as the record's remaining TTL.
  void set_ttl_left(std::string_view id, Duration left) {
    for (auto& n : nodes_) {
      if (n.id == id) n.ttl_left = left;
    }
  }

  // Test helper: bump a node's session count, as its next load report would.
  void add_session(std::string_view id) {
    for (auto& n : nodes_) {
      if (n.id == id) ++n.sessions;
    }
  }

  bool is_healthy = true;
  int node_queries = 0;

 private:
  static std::string key(std::string_view region, std::string_view stream) {
    return std::string(region) + "/" + std::string(stream);
  }
  std::vector<registry::NodeRecord> nodes_;
  std::map<std::string, registry::StreamClaim> claims_;
  std::map<std::string, std::vector<std::string>> relays_;
};

}  // namespace strata::broker::testing
