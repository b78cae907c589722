// A read-through cache in front of a Registry, for brokers far from their Redis (docs/ARCHITECTURE.md, "Cluster",
// regions: one Redis in region A serves region B's broker over a 150 ms backbone, and a WHEP
// placement reads the registry four or five times — most of a second per viewer).
//
// Kept warm: every entry read within `keep_warm` is refreshed ahead of use (every
// `refresh_after` / 2, one refresh per key in flight), so while the backend answers, a read is
// served from the cache at once with data at most about `refresh_after` + one round trip old
// and never waits for Redis. (Refreshing only on use served an entry that had sat unread for
// seconds: aged, it no longer listed nodes whose records were fine, and the next refresh
// listed them again.) A read of an entry older than `refresh_after` also schedules a refresh.
// An entry older than `max_stale` is not served: that read goes to the backend (as does a
// miss). Entries unread for `keep_warm` and older than `max_stale` are dropped.
//
// Only answers the backend really gave are kept (Read::ok): a failed refresh leaves the last
// good answer in place, so one slow or lost read across a backbone refuses nothing; a read
// reports failure (ok == false) only when the backend has not answered that key for
// max_stale. Node records age while cached: each answer's ttl_left is reduced by the
// entry's age and records whose TTL has run out are dropped, so the cache never shows a
// node longer than its own record lives in the backend (a killed node disappears within its
// TTL whatever the refresh timing), and every reader of nodes() sees the same rule.
//
// Cached: nodes(region), relays(region, stream), stream(name) when it exists (a stream that is
// not live yet is always looked up, so it shows up at once when its host starts), read_live(live)
// when it lists a host (likewise, a live's first host shows up at once), healthy() (a PING;
// false once no PING has succeeded for max_stale).
// Writes go straight to the backend and drop the entries they affect (a claim or release of a
// host stream also drops its live's entry). streams() and events pass
// through.
//
// Thread-safe. Refreshes run on one registry-owned thread, which also looks for entries due
// every `refresh_after` / 4 of real time (or inline, on the reading thread and in
// refresh_due_entries(), with Options::background_refresh = false, which tests use with a
// FakeClock).
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "registry/registry.hpp"

namespace strata::registry {

class CachedRegistry final : public Registry {
 public:
  struct Options {
    Duration refresh_after = std::chrono::milliseconds(500);
    Duration max_stale = std::chrono::seconds(3);
    Duration keep_warm = std::chrono::seconds(10);
    bool background_refresh = true;
  };

  CachedRegistry(std::unique_ptr<Registry> backend, const Clock& clock, Options options);
  ~CachedRegistry() override;
  CachedRegistry(const CachedRegistry&) = delete;
  CachedRegistry& operator=(const CachedRegistry&) = delete;

  bool put_node(const NodeRecord& node, Duration ttl) override;
  bool remove_node(const NodeRecord& node) override;
  Read<std::vector<NodeRecord>> read_nodes(std::string_view region) override;

  ClaimResult claim_stream(const StreamClaim& claim, Duration ttl) override;
  bool refresh_claim(const StreamClaim& claim, Duration ttl) override;
  bool release_claim(const StreamClaim& claim) override;
  Read<std::optional<StreamClaim>> read_stream(std::string_view name) override;
  Read<std::vector<StreamClaim>> read_streams() override;
  Read<std::vector<StreamClaim>> read_live(std::string_view live) override;

  bool put_relay(std::string_view region, std::string_view stream, std::string_view edge_id, Duration ttl) override;
  bool remove_relay(std::string_view region, std::string_view stream, std::string_view edge_id) override;
  Read<std::vector<std::string>> read_relays(std::string_view region, std::string_view stream) override;

  bool publish(const Event& event) override;
  void subscribe(std::function<void(const Event&)> handler) override;

  bool healthy() override;

  // Reads answered by the backend (misses, too-stale entries and refreshes), for tests and metrics.
  uint64_t backend_reads() const;
  // Refreshes the entries read within keep_warm that are refresh_after / 2 old, and drops the
  // ones unread for keep_warm; what the refresher thread does on its timer. Without a
  // background refresher the refreshes run here, inline.
  void refresh_due_entries();

 private:
  // One answer. Key: kind prefix + arguments ("n|eu", "r|eu|cam", "s|cam", "l|cam", "h|").
  struct Entry {
    bool ok = false;  // the backend answered (only such entries are stored)
    std::vector<NodeRecord> nodes;
    std::vector<std::string> relays;
    std::optional<StreamClaim> claim;
    std::vector<StreamClaim> hosts;  // read_live
    bool healthy = false;
    Timestamp fetched{};  // when the read that gave this answer started
    Timestamp last_read{};  // when a caller last asked for it (kept warm while recent)
    bool refreshing = false;
  };
  enum class Kind : char { kNodes = 'n', kRelays = 'r', kStream = 's', kLive = 'l', kHealthy = 'h' };
  struct Key {
    Kind kind;
    std::string a, b;  // region / stream name / live / -, stream / - / - / -
    std::string text() const { return std::string(1, char(kind)) + "|" + a + "|" + b; }
  };

  // The cached entry for `key` if fresh enough (scheduling a refresh when due), else a backend
  // read stored in the cache. Returns a copy, node records aged to `now`.
  Entry get(const Key& key);
  Entry fetch(const Key& key);  // backend read, no lock held
  // Keeps a successful answer unless a read that started later is already stored.
  void store_locked(const Key& key, Entry entry);
  void invalidate(const std::string& key_text);
  // A claim or release of `stream` changes its stream entry and, for a host stream, its live's.
  void invalidate_claim(std::string_view stream);
  void refresh_loop();
  // Queues the keys due for a refresh (marking them refreshing) and drops cold entries.
  std::vector<Key> collect_due_locked(Timestamp now);

  std::unique_ptr<Registry> backend_;
  const Clock& clock_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
  std::deque<Key> refresh_queue_;
  uint64_t backend_reads_ = 0;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace strata::registry
