// In-process registry (`strata dev`, tests): the same contract as the Redis backend.
//
// Thread-safe: one mutex guards all state. TTLs run on the injected Clock (a FakeClock in
// tests); an expired entry is invisible at once and pruned lazily by the next call that
// touches its map.
//
// Events: publish() only enqueues; a dedicated dispatcher thread (started by the first
// subscribe()) drains the queue and calls the handlers with no registry lock held, so a
// handler may call back into the registry (even publish) without deadlocking. As with
// Redis pub/sub, an event published while nobody is subscribed is dropped, and every
// subscriber (including the publisher itself) receives every event, in publish order.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "registry/registry.hpp"

namespace strata::registry {

class MemoryRegistry final : public Registry {
 public:
  explicit MemoryRegistry(const Clock& clock);
  ~MemoryRegistry() override;
  MemoryRegistry(const MemoryRegistry&) = delete;
  MemoryRegistry& operator=(const MemoryRegistry&) = delete;

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

  bool healthy() override { return true; }

 private:
  template <typename T>
  struct Expiring {
    T value;
    Timestamp expires;
  };
  using NodeMap = std::map<std::string, Expiring<NodeRecord>, std::less<>>;       // by id
  using EdgeMap = std::map<std::string, Timestamp, std::less<>>;                  // edge → expiry
  using Handler = std::function<void(const Event&)>;

  static std::string relay_key(std::string_view region, std::string_view stream);
  void prune_claims(Timestamp now);  // mu_ held
  void dispatch_loop();

  const Clock& clock_;

  std::mutex mu_;
  std::map<std::string, NodeMap, std::less<>> nodes_;  // by region
  std::map<std::string, Expiring<StreamClaim>, std::less<>> claims_;
  std::map<std::string, EdgeMap, std::less<>> relays_;  // by relay_key(region, stream)

  // Event delivery: guarded by events_mu_ (never held while a handler runs).
  std::mutex events_mu_;
  std::condition_variable events_cv_;
  std::deque<Event> queue_;
  std::vector<Handler> handlers_;
  bool stopping_ = false;
  std::thread dispatcher_;
};

}  // namespace strata::registry
