#include "registry/cached_registry.hpp"

#include <algorithm>

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

namespace {

// A cached answer `age` old: each record has that much less to live; expired ones are gone.
void age_nodes(std::vector<NodeRecord>& nodes, Duration age) {
  std::erase_if(nodes, [age](const NodeRecord& n) { return n.ttl_left != Duration::max() && n.ttl_left <= age; });
  for (auto& n : nodes) {
    if (n.ttl_left != Duration::max()) n.ttl_left -= age;
  }
}

}  // namespace

// `fetched` is when the read *started*: of two reads racing (a background refresh and a
// miss), the one that started later must win, however long each took.
CachedRegistry::Entry CachedRegistry::fetch(const Key& key) {
  Entry e;
  e.fetched = clock_.now();
  switch (key.kind) {
    case Kind::kNodes: {
      auto r = backend_->read_nodes(key.a);
      e.ok = r.ok;
      e.nodes = std::move(r.value);
      break;
    }
    case Kind::kRelays: {
      auto r = backend_->read_relays(key.a, key.b);
      e.ok = r.ok;
      e.relays = std::move(r.value);
      break;
    }
    case Kind::kStream: {
      auto r = backend_->read_stream(key.a);
      e.ok = r.ok;
      e.claim = std::move(r.value);
      break;
    }
    case Kind::kLive: {
      auto r = backend_->read_live(key.a);
      e.ok = r.ok;
      e.hosts = std::move(r.value);
      break;
    }
    case Kind::kHealthy:
      e.healthy = backend_->healthy();
      e.ok = e.healthy;  // a failed PING is a failed read: the last success stands, up to max_stale
      break;
  }
  return e;
}

// A stream that is not live, or a live with no host, is not kept (it must show up as soon as
// its (first) host starts).
void CachedRegistry::store_locked(const Key& key, Entry entry) {
  ++backend_reads_;
  const std::string text = key.text();
  auto it = entries_.find(text);
  if (!entry.ok) {
    if (it != entries_.end()) it->second.refreshing = false;  // keep the last good answer
    return;
  }
  if (it != entries_.end() && it->second.fetched > entry.fetched) {
    it->second.refreshing = false;  // a read that started later already stored its answer
    return;
  }
  if ((key.kind == Kind::kStream && !entry.claim) || (key.kind == Kind::kLive && entry.hosts.empty())) {
    if (it != entries_.end()) entries_.erase(it);
    return;
  }
  entry.refreshing = false;
  entry.last_read = it != entries_.end() ? std::max(it->second.last_read, entry.last_read) : entry.last_read;
  entries_[text] = std::move(entry);
}

CachedRegistry::Entry CachedRegistry::get(const Key& key) {
  const std::string text = key.text();
  const Timestamp now = clock_.now();
  Entry out;
  bool hit = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(text);
    if (it != entries_.end()) it->second.last_read = now;
    if (it != entries_.end() && now - it->second.fetched <= options_.max_stale) {
      Entry& e = it->second;
      hit = now - e.fetched < options_.refresh_after || e.refreshing || options_.background_refresh;
      if (hit && now - e.fetched >= options_.refresh_after && !e.refreshing) {
        e.refreshing = true;
        refresh_queue_.push_back(key);
        cv_.notify_one();
      }
      if (hit) out = e;
      // No refresher: a stale entry is read again like a miss (below), and kept if that fails.
    }
  }
  if (!hit) {
    Entry fresh = fetch(key);
    fresh.last_read = now;
    std::lock_guard lock(mu_);
    store_locked(key, fresh);
    auto it = entries_.find(text);
    if (fresh.ok) {
      out = std::move(fresh);
    } else if (it != entries_.end() && now - it->second.fetched <= options_.max_stale) {
      out = it->second;  // the backend failed, the last good answer is still within bounds
    } else {
      return Entry{};  // nothing good within max_stale: a failed read
    }
  }
  age_nodes(out.nodes, now - out.fetched);
  return out;
}

std::vector<CachedRegistry::Key> CachedRegistry::collect_due_locked(Timestamp now) {
  std::vector<Key> due;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    const bool warm = now - e.last_read <= options_.keep_warm;
    if (!warm && now - e.fetched > options_.max_stale) {
      it = entries_.erase(it);
      continue;
    }
    if (warm && !e.refreshing && now - e.fetched >= options_.refresh_after / 2) {
      e.refreshing = true;
      // Back from the text form: kind, then the two arguments ('|' never occurs in names).
      const std::string& text = it->first;
      size_t bar2 = text.find('|', 2);
      due.push_back(Key{Kind(text[0]), text.substr(2, bar2 - 2), text.substr(bar2 + 1)});
    }
    ++it;
  }
  return due;
}

void CachedRegistry::refresh_due_entries() {
  std::vector<Key> due;
  {
    std::lock_guard lock(mu_);
    due = collect_due_locked(clock_.now());
    if (options_.background_refresh) {
      for (auto& key : due) refresh_queue_.push_back(std::move(key));
      if (!due.empty()) cv_.notify_one();
      return;
    }
  }
  for (const Key& key : due) {
    Entry fresh = fetch(key);
    std::lock_guard lock(mu_);
    store_locked(key, std::move(fresh));
  }
}

void CachedRegistry::refresh_loop() {
  // Real time between looks for due entries; which entries are due is the injected clock's call.
  const auto look_every = std::max<Duration>(options_.refresh_after / 4, std::chrono::milliseconds(10));
  std::unique_lock lock(mu_);
  while (true) {
    if (!cv_.wait_for(lock, look_every, [this] { return stopping_ || !refresh_queue_.empty(); })) {
      for (auto& key : collect_due_locked(clock_.now())) refresh_queue_.push_back(std::move(key));
      continue;
    }
    if (stopping_) return;
    Key key = std::move(refresh_queue_.front());
    refresh_queue_.pop_front();
    lock.unlock();
    Entry fresh = fetch(key);
    lock.lock();
    store_locked(key, std::move(fresh));
  }
}

void CachedRegistry::invalidate(const std::string& key_text) {
  std::lock_guard lock(mu_);
  entries_.erase(key_text);
}

void CachedRegistry::invalidate_claim(std::string_view stream) {
  invalidate(Key{Kind::kStream, std::string(stream), ""}.text());
  if (stream.find('/') != std::string_view::npos) {
    invalidate(Key{Kind::kLive, std::string(split_host_stream(stream).first), ""}.text());
  }
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

Read<std::vector<NodeRecord>> CachedRegistry::read_nodes(std::string_view region) {
  Entry e = get(Key{Kind::kNodes, std::string(region), ""});
  return {std::move(e.nodes), e.ok};
}

ClaimResult CachedRegistry::claim_stream(const StreamClaim& claim, Duration ttl) {
  auto r = backend_->claim_stream(claim, ttl);
  invalidate_claim(claim.stream);
  return r;
}

bool CachedRegistry::refresh_claim(const StreamClaim& claim, Duration ttl) { return backend_->refresh_claim(claim, ttl); }

bool CachedRegistry::release_claim(const StreamClaim& claim) {
  bool ok = backend_->release_claim(claim);
  invalidate_claim(claim.stream);
  return ok;
}

Read<std::optional<StreamClaim>> CachedRegistry::read_stream(std::string_view name) {
  Entry e = get(Key{Kind::kStream, std::string(name), ""});
  return {std::move(e.claim), e.ok};
}

Read<std::vector<StreamClaim>> CachedRegistry::read_streams() { return backend_->read_streams(); }

Read<std::vector<StreamClaim>> CachedRegistry::read_live(std::string_view live) {
  Entry e = get(Key{Kind::kLive, std::string(live), ""});
  return {std::move(e.hosts), e.ok};
}

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

Read<std::vector<std::string>> CachedRegistry::read_relays(std::string_view region, std::string_view stream) {
  Entry e = get(Key{Kind::kRelays, std::string(region), std::string(stream)});
  return {std::move(e.relays), e.ok};
}

bool CachedRegistry::publish(const Event& event) { return backend_->publish(event); }

void CachedRegistry::subscribe(std::function<void(const Event&)> handler) { backend_->subscribe(std::move(handler)); }

bool CachedRegistry::healthy() { return get(Key{Kind::kHealthy, "", ""}).healthy; }

}  // namespace strata::registry
