#include "registry/cached_registry.hpp"

namespace strata::registry {

CachedRegistry::CachedRegistry(std::unique_ptr<Registry> backend, const Clock& clock, Options options)
    : backend_(std::move(backend)), clock_(clock), options_(options) {
  if (options_.background_refresh) refresher_ = std::thread([this] { refresh_loop(); });
}

CachedRegistry::~CachedRegistry() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

uint64_t CachedRegistry::backend_reads() const {
  std::lock_guard lock(mu_);
  return backend_reads_;
}

// `fetched` is when the read *started*: of two reads racing (a background refresh and a
// miss), the one that started later must win, however long each took.
CachedRegistry::Entry CachedRegistry::fetch(const Key& key) {
  Entry e;
  e.fetched = clock_.now();
  switch (key.kind) {
    case Kind::kNodes: e.nodes = backend_->nodes(key.a); break;
    case Kind::kRelays: e.relays = backend_->relays(key.a, key.b); break;
    case Kind::kStream: e.claim = backend_->stream(key.a); break;
    case Kind::kHealthy: e.healthy = backend_->healthy(); break;
  }
  return e;
}

// A stream that is not live is not kept (it must show up as soon as its host starts).
void CachedRegistry::store(const Key& key, Entry entry) {
  const bool keep = key.kind != Kind::kStream || entry.claim.has_value();
  std::lock_guard lock(mu_);
  ++backend_reads_;
  auto it = entries_.find(key.text());
  if (it != entries_.end() && it->second.fetched > entry.fetched) return;  // a newer read landed first
  if (!keep) {
    if (it != entries_.end()) entries_.erase(it);
    return;
  }
  entries_[key.text()] = std::move(entry);
}

CachedRegistry::Entry CachedRegistry::get(const Key& key) {
  const std::string text = key.text();
  const Timestamp now = clock_.now();
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(text);
    if (it != entries_.end() && now - it->second.fetched <= options_.max_stale) {
      Entry& e = it->second;
      if (now - e.fetched < options_.refresh_after || e.refreshing) return e;
      if (options_.background_refresh) {
        e.refreshing = true;
        refresh_queue_.push_back(key);
        cv_.notify_one();
        return e;
      }
      // No refresher: a stale entry is read again like a miss.
    }
  }
  Entry fresh = fetch(key);
  store(key, fresh);
  return fresh;
}

void CachedRegistry::refresh_loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !refresh_queue_.empty(); });
    if (stopping_) return;
    Key key = std::move(refresh_queue_.front());
    refresh_queue_.pop_front();
    lock.unlock();
    Entry fresh = fetch(key);
    // A backend that is down answers empty: keep serving the previous answer then (up to
    // max_stale) and retry on a later read. The health entry itself always takes the news.
    bool failed = key.kind != Kind::kHealthy && !backend_->healthy();
    lock.lock();
    auto it = entries_.find(key.text());
    // Backends answer a failed read with an empty list, indistinguishable from "no nodes":
    // an empty node list does not replace a non-empty one until that one is max_stale old
    // (then a read is a miss and takes whatever the backend says). Nodes that really all
    // died stay listed at most max_stale longer; a transient read error no longer empties
    // the placement list (the cluster test saw a killed edge "gone" 5 ms after kill -9,
    // then placed again).
    if (key.kind == Kind::kNodes && fresh.nodes.empty() && it != entries_.end() && !it->second.nodes.empty())
      failed = true;
    if (failed) {
      if (it != entries_.end()) it->second.refreshing = false;
      continue;
    }
    ++backend_reads_;
    if (it != entries_.end() && it->second.fetched > fresh.fetched) {
      it->second.refreshing = false;  // a read that started later already stored its answer
      continue;
    }
    if (key.kind == Kind::kStream && !fresh.claim) {
      entries_.erase(key.text());  // the stream ended: look it up again next time
    } else {
      entries_[key.text()] = std::move(fresh);
    }
  }
}

void CachedRegistry::invalidate(const std::string& key_text) {
  std::lock_guard lock(mu_);
  entries_.erase(key_text);
}

bool CachedRegistry::put_node(const NodeRecord& node, Duration ttl) {
  bool ok = backend_->put_node(node, ttl);
  invalidate(Key{Kind::kNodes, node.region, ""}.text());
  return ok;
}

bool CachedRegistry::remove_node(const NodeRecord& node) {
  bool ok = backend_->remove_node(node);
  invalidate(Key{Kind::kNodes, node.region, ""}.text());
  return ok;
}

std::vector<NodeRecord> CachedRegistry::nodes(std::string_view region) {
  return get(Key{Kind::kNodes, std::string(region), ""}).nodes;
}

ClaimResult CachedRegistry::claim_stream(const StreamClaim& claim, Duration ttl) {
  auto r = backend_->claim_stream(claim, ttl);
  invalidate(Key{Kind::kStream, claim.stream, ""}.text());
  return r;
}

bool CachedRegistry::refresh_claim(const StreamClaim& claim, Duration ttl) { return backend_->refresh_claim(claim, ttl); }

bool CachedRegistry::release_claim(const StreamClaim& claim) {
  bool ok = backend_->release_claim(claim);
  invalidate(Key{Kind::kStream, claim.stream, ""}.text());
  return ok;
}

std::optional<StreamClaim> CachedRegistry::stream(std::string_view name) {
  return get(Key{Kind::kStream, std::string(name), ""}).claim;
}

std::vector<StreamClaim> CachedRegistry::streams() { return backend_->streams(); }

bool CachedRegistry::put_relay(std::string_view region, std::string_view stream, std::string_view edge_id,
                               Duration ttl) {
  bool ok = backend_->put_relay(region, stream, edge_id, ttl);
  invalidate(Key{Kind::kRelays, std::string(region), std::string(stream)}.text());
  return ok;
}

bool CachedRegistry::remove_relay(std::string_view region, std::string_view stream, std::string_view edge_id) {
  bool ok = backend_->remove_relay(region, stream, edge_id);
  invalidate(Key{Kind::kRelays, std::string(region), std::string(stream)}.text());
  return ok;
}

std::vector<std::string> CachedRegistry::relays(std::string_view region, std::string_view stream) {
  return get(Key{Kind::kRelays, std::string(region), std::string(stream)}).relays;
}

bool CachedRegistry::publish(const Event& event) { return backend_->publish(event); }

void CachedRegistry::subscribe(std::function<void(const Event&)> handler) { backend_->subscribe(std::move(handler)); }

bool CachedRegistry::healthy() { return get(Key{Kind::kHealthy, "", ""}).healthy; }

}  // namespace strata::registry
