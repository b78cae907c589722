// Cluster state (docs/ARCHITECTURE.md, "Cluster"): node records with load, stream claims, relay records and
// events. One interface, two backends: in-memory (`strata dev`, tests) and Redis.
//
// Every call is control plane, may block briefly (Redis round trip with a timeout) and
// never throws: failed writes return false; reads return a Read whose `ok` says whether the
// backend answered, so "no nodes" and "the registry did not answer" stay distinct for
// callers that must refuse rather than guess (the broker). The plain readers (nodes(),
// stream(), ...) give the value alone, empty on failure, for callers for which both mean
// "nothing to do now" (a node's heartbeat).
// Per-region state (node records, relay records) lives under region-prefixed keys so a
// region can later move to its own Redis; the stream directory is global.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/time.hpp"

namespace strata::registry {

struct NodeRecord {
  std::string id;
  std::string role;      // "origin" | "edge" | "dev"
  std::string region;
  std::string http_url;  // "http://host:port", where its WHIP/WHEP/relay endpoints are
  double cpu = 0;        // 0..1, process CPU share of the machine
  uint64_t egress_bps = 0;
  uint32_t sessions = 0;
  uint32_t capacity = 0;  // sessions it accepts; 0 = unknown
  bool draining = false;
  // Filled by reads, never stored: how long the record had left to live when it was read
  // (Redis PTTL, the memory backend's expiry), minus how old the answer is when it comes
  // from a cache. A node is alive while this is positive: the one rule the broker applies
  // to its node list and to its placements alike. Duration::max() = not known (the
  // backend keeps records without expiry).
  Duration ttl_left = Duration::max();
};

// A read's answer and whether the backend gave it (false: unreachable, timeout, malformed
// reply; the value is then empty).
template <typename T>
struct Read {
  T value{};
  bool ok = false;
};

// Which origin publishes a stream (set if absent, with a TTL the origin refreshes). In a
// live with several hosts every host has its own stream, named host_stream(live, host) =
// "{live}/{host}": the claim makes the host name unique in the live cluster-wide, and the
// live's hosts are the claims under "{live}/" (read_live).
struct StreamClaim {
  std::string stream;
  std::string origin_id;
  std::string origin_region;
  std::string origin_url;
};

// "{live}/{host}" ('/' is in neither name).
std::string host_stream(std::string_view live, std::string_view host);
// The live and host of a host stream; host is empty when `stream` has no '/'.
std::pair<std::string_view, std::string_view> split_host_stream(std::string_view stream);

enum class ClaimResult { kClaimed, kAlreadyOurs, kTaken, kError };

struct Event {
  enum class Kind { kStreamEnded, kStreamMoved };
  Kind kind = Kind::kStreamEnded;
  std::string stream;
  std::string origin_id;  // the origin that ended it / the new origin
};

class Registry {
 public:
  virtual ~Registry() = default;

  // Node records: written every second with a short TTL; a node that stops writing
  // disappears when the TTL runs out.
  virtual bool put_node(const NodeRecord& node, Duration ttl) = 0;
  virtual bool remove_node(const NodeRecord& node) = 0;
  virtual Read<std::vector<NodeRecord>> read_nodes(std::string_view region) = 0;
  std::vector<NodeRecord> nodes(std::string_view region) { return read_nodes(region).value; }

  // Stream directory. claim is atomic set-if-absent; refresh and release act only when
  // the claim is still this origin's (compare-and-set).
  virtual ClaimResult claim_stream(const StreamClaim& claim, Duration ttl) = 0;
  virtual bool refresh_claim(const StreamClaim& claim, Duration ttl) = 0;
  virtual bool release_claim(const StreamClaim& claim) = 0;
  virtual Read<std::optional<StreamClaim>> read_stream(std::string_view name) = 0;
  virtual Read<std::vector<StreamClaim>> read_streams() = 0;
  // A live's hosts: the claims of its host streams ("{live}/{host}") that are live now,
  // sorted by stream name. Claiming and releasing a host stream adds it to and removes it
  // from this list in the same atomic step; an expired claim is not listed.
  virtual Read<std::vector<StreamClaim>> read_live(std::string_view live) = 0;
  std::optional<StreamClaim> stream(std::string_view name) { return read_stream(name).value; }
  std::vector<StreamClaim> streams() { return read_streams().value; }

  // Relay records: edge `edge_id` in `region` relays `stream` (TTL, refreshed while it does).
  virtual bool put_relay(std::string_view region, std::string_view stream, std::string_view edge_id, Duration ttl) = 0;
  virtual bool remove_relay(std::string_view region, std::string_view stream, std::string_view edge_id) = 0;
  virtual Read<std::vector<std::string>> read_relays(std::string_view region, std::string_view stream) = 0;
  std::vector<std::string> relays(std::string_view region, std::string_view stream) {
    return read_relays(region, stream).value;
  }

  // Events (Redis pub/sub). The handler runs on a registry-owned thread.
  virtual bool publish(const Event& event) = 0;
  virtual void subscribe(std::function<void(const Event&)> handler) = 0;

  // False while the backend is unreachable (calls fail fast and reconnect in the background).
  virtual bool healthy() = 0;
};

// "memory" → in-process registry on `clock`; "redis://host:port" → Redis backend.
// nullptr with *error set on a bad URL.
std::unique_ptr<Registry> make_registry(std::string_view url, const Clock& clock, std::string* error);

}  // namespace strata::registry
