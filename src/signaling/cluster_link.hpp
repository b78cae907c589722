// What a node's SessionManager needs from the rest of the cluster (docs/ARCHITECTURE.md,
// "Cluster"): stream claims and events in the registry, the node's heartbeat, relay set-up
// with an origin over HTTP, and the origin's side of that handshake. The SessionManager
// knows its sessions and streams and decides what to claim, refresh or relay; the link
// talks to the registry and to other nodes.
//
// Two implementations: StandaloneClusterLink (`strata dev`: no registry, every claim
// succeeds, nothing is published, relays from origins are refused) and RegistryClusterLink
// (cluster nodes: a registry::Registry, an injected Clock and HTTP client, so tests run it
// on fake time and fake origins).
//
// Locking: the SessionManager never calls into the registry or the network while holding
// its own mutex. Only queue_stream_ended() and cancel_queued() may be called under it;
// they touch the link's own small queue and nothing else.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cpu_load.hpp"
#include "common/time.hpp"
#include "dtls/certificate.hpp"
#include "http/client.hpp"
#include "registry/registry.hpp"
#include "sfu/track.hpp"
#include "signaling/api_error.hpp"
#include "transport/webrtc_transport.hpp"

namespace strata::signaling {

enum class NodeRole { kDev, kOrigin, kEdge };
const char* to_string(NodeRole role);

// A server-to-server request (an edge asking an origin for a relay): http::http_request's
// signature, injected so tests answer without a network.
using HttpClient = std::function<std::optional<http::ClientResponse>(
    const std::string& method, const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body, Duration timeout, std::string* error)>;

// Who this node is and what it tells other nodes.
struct ClusterLinkOptions {
  NodeRole role = NodeRole::kDev;
  std::string node_id;
  std::string region = "local";
  std::string http_url;        // how other servers reach this node
  std::string public_ip = "127.0.0.1";  // the one candidate of relay answers
  std::string cluster_secret;  // authenticates relay requests; empty = relays refused
  std::shared_ptr<const dtls::Certificate> certificate;
  Duration consent_timeout = std::chrono::seconds(30);  // of relay transports
  Duration claim_ttl = std::chrono::seconds(5);         // claims and relay records
  Duration node_ttl = std::chrono::seconds(3);
  size_t capacity = 5000;                        // sessions, in the node record
  std::function<Duration()> process_cpu_time;    // empty = strata::process_cpu_time
  unsigned cpu_count = 0;                        // 0 = the machine's
};

// The node's load at a heartbeat, as the SessionManager sees it.
struct NodeLoad {
  uint32_t sessions = 0;
  uint64_t bytes_out = 0;  // every worker's egress so far (the link turns it into a rate)
  bool draining = false;
};

// What a heartbeat keeps alive in the registry besides the node record.
struct NodeStreams {
  std::vector<std::string> hosted;   // origin: host streams ("{live}/{host}") live here (their claims)
  std::vector<std::string> relayed;  // lives relayed here with viewers (relay records, per live)
};

// Edge: a relay the origin agreed to, ready for the ingest session.
struct RelayPlan {
  transport::TransportConfig config;
  std::vector<sfu::IngestTrackInfo> tracks;
  registry::StreamClaim claim;
  Duration setup_rtt{};  // the relay POST's round trip: a first RTT for NACK timing
};

// Origin: an edge's request that passed the checks, with the relay transport's config
// (our fresh ICE credentials, the edge's credentials and fingerprint).
struct AcceptedRelay {
  std::string edge_id;
  transport::TransportConfig config;
};

// Origin: what the edge needs to connect to the relay session.
struct RelayAnswer {
  std::string session;  // public id
  std::string ice_ufrag, ice_pwd;
  uint16_t port = 0;    // the relay session's worker port
  std::vector<sfu::IngestTrackInfo> tracks;
};

// Held while a stream's relay is set up here. Set-ups of one stream wait for each other
// (exactly one relay per edge and stream); other streams set up side by side, so one slow
// origin delays only its own streams. Default-constructed: holds nothing.
class RelaySetupLock {
 public:
  RelaySetupLock() = default;
  explicit RelaySetupLock(std::shared_ptr<std::mutex> mutex) : mutex_(std::move(mutex)), lock_(*mutex_) {}

 private:
  std::shared_ptr<std::mutex> mutex_;  // declared first: outlives lock_
  std::unique_lock<std::mutex> lock_;
};

class ClusterLink {
 public:
  virtual ~ClusterLink() = default;

  // This node's id in the registry (claims and relays name it).
  virtual const std::string& node_id() const = 0;

  // ---- origin: a host's stream ("{live}/{host}", registry::host_stream) ----
  // Before a host goes live: nullopt when the host's stream is this node's now, else 409
  // host-taken (the host is live on another origin) or 503 registry-unavailable.
  virtual std::optional<ApiError> claim_stream(const std::string& stream) = 0;
  // The host did not go live after all: give the name back now.
  virtual void release_stream(const std::string& stream) = 0;
  // A host went live here: edges relaying the stream from a dead origin re-attach now.
  virtual void announce_stream(const std::string& stream) = 0;
  // The stream's last host ended: release the claim and publish stream_ended, later, in
  // send_queued() (may be called under the SessionManager's lock).
  virtual void queue_stream_ended(const std::string& stream) = 0;
  // The stream went live here again before send_queued(): what was queued for its previous
  // run must not hit the new run's claim (may be called under the SessionManager's lock).
  virtual void cancel_queued(const std::string& stream) = 0;
  // Does the queued registry writes (the control thread, every poll).
  virtual void send_queued() = 0;

  // ---- heartbeat (the control thread, every second) ----
  // The node record first (a lapsed record makes the broker drop a healthy node), then the
  // claims of hosted streams (taken again if the registry lost them) and relay records.
  virtual void heartbeat(const NodeLoad& load, const NodeStreams& streams) = 0;

  // ---- edge, and origins whose hosts watch co-hosts elsewhere: relays from origins ----
  // The live's hosts as the registry lists them (registry::Registry::read_live); nullopt
  // when the registry did not answer.
  virtual std::optional<std::vector<registry::StreamClaim>> live_hosts(const std::string& live) = 0;
  // Whether node `id` of `region` has a live record (the broker's rule); nullopt when the
  // registry did not answer.
  virtual std::optional<bool> node_alive(const std::string& id, const std::string& region) = 0;
  virtual RelaySetupLock lock_relay_setup(const std::string& stream) = 0;
  // The origin that publishes `stream`, or 409 stream-not-live / 503 registry-unavailable.
  virtual std::variant<registry::StreamClaim, ApiError> find_origin(const std::string& stream) = 0;
  // The claim of a stream relayed here from `origin_id` when it names another origin now
  // (its host republished there); nullopt when unchanged, unknown or unreadable.
  virtual std::optional<registry::StreamClaim> moved_claim(const std::string& stream, const std::string& origin_id) = 0;
  // Asks the claim's origin for a relay of `stream` (an HTTP round trip): 502 when the
  // origin is unreachable, refuses or answers something this edge cannot use.
  virtual std::variant<RelayPlan, ApiError> request_relay(const std::string& stream,
                                                          const registry::StreamClaim& claim) = 0;

  // ---- origin: POST /relay/{stream} ----
  // The edge's request checked: 403 without the cluster secret or on an edge, 400 on a bad
  // body. The stream itself is the SessionManager's to check.
  virtual std::variant<AcceptedRelay, ApiError> accept_relay_request(
      const std::string& body, const std::optional<std::string>& authorization) const = 0;
  virtual nlohmann::json relay_answer(const RelayAnswer& answer) const = 0;
};

// `strata dev`: the node is the whole cluster.
class StandaloneClusterLink final : public ClusterLink {
 public:
  explicit StandaloneClusterLink(ClusterLinkOptions options) : options_(std::move(options)) {}

  const std::string& node_id() const override { return options_.node_id; }
  std::optional<ApiError> claim_stream(const std::string&) override { return std::nullopt; }
  void release_stream(const std::string&) override {}
  void announce_stream(const std::string&) override {}
  void queue_stream_ended(const std::string&) override {}
  void cancel_queued(const std::string&) override {}
  void send_queued() override {}
  void heartbeat(const NodeLoad&, const NodeStreams&) override {}
  std::optional<std::vector<registry::StreamClaim>> live_hosts(const std::string&) override {
    return std::vector<registry::StreamClaim>{};
  }
  std::optional<bool> node_alive(const std::string&, const std::string&) override { return true; }
  RelaySetupLock lock_relay_setup(const std::string&) override { return {}; }
  std::variant<registry::StreamClaim, ApiError> find_origin(const std::string& stream) override;
  std::optional<registry::StreamClaim> moved_claim(const std::string&, const std::string&) override {
    return std::nullopt;
  }
  std::variant<RelayPlan, ApiError> request_relay(const std::string& stream, const registry::StreamClaim&) override;
  std::variant<AcceptedRelay, ApiError> accept_relay_request(
      const std::string& body, const std::optional<std::string>& authorization) const override;
  nlohmann::json relay_answer(const RelayAnswer& answer) const override;

 private:
  ClusterLinkOptions options_;
};

// A cluster node: claims, events, heartbeats and relay records in `registry`.
class RegistryClusterLink final : public ClusterLink {
 public:
  // `registry` and `clock` outlive the link; `http` empty = http::http_request.
  RegistryClusterLink(registry::Registry& registry, const Clock& clock, HttpClient http, ClusterLinkOptions options);

  const std::string& node_id() const override { return options_.node_id; }
  std::optional<ApiError> claim_stream(const std::string& stream) override;
  void release_stream(const std::string& stream) override;
  void announce_stream(const std::string& stream) override;
  void queue_stream_ended(const std::string& stream) override;
  void cancel_queued(const std::string& stream) override;
  void send_queued() override;
  void heartbeat(const NodeLoad& load, const NodeStreams& streams) override;
  std::optional<std::vector<registry::StreamClaim>> live_hosts(const std::string& live) override;
  std::optional<bool> node_alive(const std::string& id, const std::string& region) override;
  RelaySetupLock lock_relay_setup(const std::string& stream) override;
  std::variant<registry::StreamClaim, ApiError> find_origin(const std::string& stream) override;
  std::optional<registry::StreamClaim> moved_claim(const std::string& stream, const std::string& origin_id) override;
  std::variant<RelayPlan, ApiError> request_relay(const std::string& stream, const registry::StreamClaim& claim) override;
  std::variant<AcceptedRelay, ApiError> accept_relay_request(
      const std::string& body, const std::optional<std::string>& authorization) const override;
  nlohmann::json relay_answer(const RelayAnswer& answer) const override;

 private:
  registry::StreamClaim own_claim(const std::string& stream) const;
  uint64_t egress_bps(uint64_t bytes_out, Timestamp now);

  registry::Registry& registry_;
  const Clock& clock_;
  HttpClient http_;
  ClusterLinkOptions options_;
  // Registry writes decided under the SessionManager's lock, done by send_queued().
  std::mutex queue_mu_;  // guards the two queues only; never held while calling the registry
  std::vector<std::string> queued_releases_;
  std::vector<registry::Event> queued_events_;
  std::mutex relay_setup_mu_;  // guards relay_setup_locks_ only
  std::map<std::string, std::weak_ptr<std::mutex>> relay_setup_locks_;
  // Heartbeat state (the control thread only).
  CpuLoad cpu_load_;
  uint64_t last_egress_bytes_ = 0, egress_bps_ = 0;
  Timestamp last_egress_at_{};
};

// The link for a node: RegistryClusterLink when it has a registry, else standalone.
std::unique_ptr<ClusterLink> make_cluster_link(registry::Registry* registry, const Clock& clock, HttpClient http,
                                               ClusterLinkOptions options);

}  // namespace strata::signaling
