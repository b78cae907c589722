#include "registry/memory_registry.hpp"

#include <algorithm>

namespace strata::registry {
namespace {

// Redis rejects PX 0; both backends treat a TTL under 1 ms as an invalid call.
bool valid_ttl(Duration ttl) { return ttl >= std::chrono::milliseconds(1); }

template <typename Map, typename Pred>
void erase_if_expired(Map& map, Pred expired) {
  for (auto it = map.begin(); it != map.end();) {
    it = expired(it->second) ? map.erase(it) : std::next(it);
  }
}

}  // namespace

MemoryRegistry::MemoryRegistry(const Clock& clock) : clock_(clock) {}

MemoryRegistry::~MemoryRegistry() {
  {
    std::lock_guard lock(events_mu_);
    stopping_ = true;
  }
  events_cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

std::string MemoryRegistry::relay_key(std::string_view region, std::string_view stream) {
  std::string key(region);
  key.push_back('\0');  // cannot occur in either part's meaningful content
  key.append(stream);
  return key;
}

bool MemoryRegistry::put_node(const NodeRecord& node, Duration ttl) {
  if (!valid_ttl(ttl) || node.id.empty()) return false;
  std::lock_guard lock(mu_);
  auto& region = nodes_[node.region];
  region.insert_or_assign(node.id, Expiring<NodeRecord>{node, clock_.now() + ttl});
  return true;
}

bool MemoryRegistry::remove_node(const NodeRecord& node) {
  std::lock_guard lock(mu_);
  auto region = nodes_.find(node.region);
  if (region == nodes_.end()) return true;
  region->second.erase(node.id);
  if (region->second.empty()) nodes_.erase(region);
  return true;
}

Read<std::vector<NodeRecord>> MemoryRegistry::read_nodes(std::string_view region) {
  std::lock_guard lock(mu_);
  Read<std::vector<NodeRecord>> out{{}, true};
  auto it = nodes_.find(region);
  if (it == nodes_.end()) return out;
  const Timestamp now = clock_.now();
  erase_if_expired(it->second, [now](const auto& e) { return e.expires <= now; });
  for (const auto& [id, entry] : it->second) {  // sorted by id
    out.value.push_back(entry.value);
    out.value.back().ttl_left = entry.expires - now;
  }
  if (it->second.empty()) nodes_.erase(it);
  return out;
}

void MemoryRegistry::prune_claims(Timestamp now) {
  erase_if_expired(claims_, [now](const auto& e) { return e.expires <= now; });
}

ClaimResult MemoryRegistry::claim_stream(const StreamClaim& claim, Duration ttl) {
  if (!valid_ttl(ttl) || claim.stream.empty() || claim.origin_id.empty()) return ClaimResult::kError;
  std::lock_guard lock(mu_);
  const Timestamp now = clock_.now();
  auto it = claims_.find(claim.stream);
  if (it != claims_.end() && it->second.expires > now) {
    if (it->second.value.origin_id != claim.origin_id) return ClaimResult::kTaken;
    it->second = {claim, now + ttl};  // ours: refresh and take the latest URL/region
    return ClaimResult::kAlreadyOurs;
  }
  claims_.insert_or_assign(claim.stream, Expiring<StreamClaim>{claim, now + ttl});
  return ClaimResult::kClaimed;
}

bool MemoryRegistry::refresh_claim(const StreamClaim& claim, Duration ttl) {
  if (!valid_ttl(ttl)) return false;
  std::lock_guard lock(mu_);
  const Timestamp now = clock_.now();
  auto it = claims_.find(claim.stream);
  if (it == claims_.end() || it->second.expires <= now) return false;
  if (it->second.value.origin_id != claim.origin_id) return false;
  it->second.expires = now + ttl;
  return true;
}

bool MemoryRegistry::release_claim(const StreamClaim& claim) {
  std::lock_guard lock(mu_);
  auto it = claims_.find(claim.stream);
  if (it == claims_.end() || it->second.expires <= clock_.now()) return false;
  if (it->second.value.origin_id != claim.origin_id) return false;
  claims_.erase(it);
  return true;
}

Read<std::optional<StreamClaim>> MemoryRegistry::read_stream(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = claims_.find(name);
  if (it == claims_.end()) return {std::nullopt, true};
  if (it->second.expires <= clock_.now()) {
    claims_.erase(it);
    return {std::nullopt, true};
  }
  return {it->second.value, true};
}

Read<std::vector<StreamClaim>> MemoryRegistry::read_streams() {
  std::lock_guard lock(mu_);
  prune_claims(clock_.now());
  Read<std::vector<StreamClaim>> out{{}, true};
  out.value.reserve(claims_.size());
  for (const auto& [name, entry] : claims_) out.value.push_back(entry.value);  // sorted by name
  return out;
}

// A live's hosts are the claims under "{live}/": one range of the name-sorted map.
Read<std::vector<StreamClaim>> MemoryRegistry::read_live(std::string_view live) {
  std::lock_guard lock(mu_);
  Read<std::vector<StreamClaim>> out{{}, true};
  if (live.empty()) return out;
  const std::string prefix = host_stream(live, "");
  const Timestamp now = clock_.now();
  for (auto it = claims_.lower_bound(prefix); it != claims_.end() && it->first.starts_with(prefix);) {
    if (it->second.expires <= now) {
      it = claims_.erase(it);
      continue;
    }
    out.value.push_back(it->second.value);
    ++it;
  }
  return out;
}

bool MemoryRegistry::put_relay(std::string_view region, std::string_view stream,
                               std::string_view edge_id, Duration ttl) {
  if (!valid_ttl(ttl) || stream.empty() || edge_id.empty()) return false;
  std::lock_guard lock(mu_);
  relays_[relay_key(region, stream)].insert_or_assign(std::string(edge_id), clock_.now() + ttl);
  return true;
}

bool MemoryRegistry::remove_relay(std::string_view region, std::string_view stream,
                                  std::string_view edge_id) {
  std::lock_guard lock(mu_);
  auto it = relays_.find(relay_key(region, stream));
  if (it == relays_.end()) return true;
  if (auto edge = it->second.find(edge_id); edge != it->second.end()) it->second.erase(edge);
  if (it->second.empty()) relays_.erase(it);
  return true;
}

Read<std::vector<std::string>> MemoryRegistry::read_relays(std::string_view region, std::string_view stream) {
  std::lock_guard lock(mu_);
  Read<std::vector<std::string>> out{{}, true};
  auto it = relays_.find(relay_key(region, stream));
  if (it == relays_.end()) return out;
  const Timestamp now = clock_.now();
  erase_if_expired(it->second, [now](Timestamp expires) { return expires <= now; });
  for (const auto& [edge, expires] : it->second) out.value.push_back(edge);  // sorted by edge id
  if (it->second.empty()) relays_.erase(it);
  return out;
}

bool MemoryRegistry::publish(const Event& event) {
  {
    std::lock_guard lock(events_mu_);
    if (handlers_.empty() || stopping_) return true;  // pub/sub: nobody listening, dropped
    queue_.push_back(event);
  }
  events_cv_.notify_one();
  return true;
}

void MemoryRegistry::subscribe(std::function<void(const Event&)> handler) {
  if (!handler) return;
  std::lock_guard lock(events_mu_);
  handlers_.push_back(std::move(handler));
  if (!dispatcher_.joinable()) dispatcher_ = std::thread([this] { dispatch_loop(); });
}

void MemoryRegistry::dispatch_loop() {
  std::unique_lock lock(events_mu_);
  while (true) {
    events_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Event event = std::move(queue_.front());
    queue_.pop_front();
    std::vector<Handler> handlers = handlers_;  // a handler may subscribe() meanwhile
    lock.unlock();
    for (const auto& handler : handlers) handler(event);
    lock.lock();
  }
}

}  // namespace strata::registry
