// The broker (docs/ARCHITECTURE.md, "Cluster"): a stateless HTTP front that places WHIP hosts on origins and
// WHEP viewers on edges of a region and answers 307 Temporary Redirect to the chosen node
// (RFC 9725 §4.5 allows redirects for load balancing; the client repeats the POST, body
// included, so the broker never reads the SDP offer).
//
//   POST /whip/{live}?host=H → the origin holding host H of the live, else (guest mode) the
//                           least loaded origin of the broker's region that holds another
//                           host of the live and has headroom, else a least-loaded origin of
//                           the region (two-choice; battle mode when the live's other hosts
//                           are elsewhere); 503 + Retry-After when none fits
//   POST /whep/{live}     → 409 + Retry-After unless the live has a host; ?exclude=H naming
//                           one of its hosts → that host's origin (hosts watch co-hosts
//                           there); else an edge of the viewer's region (?region=, default
//                           the broker's) that already relays the live and has headroom,
//                           else a least-loaded edge; 503 if none
//   GET /api/v1/nodes     → {"region", "nodes":[...]}; ?region=R, ?region=all
//   GET /api/v1/streams   → {"region", "streams":[{name ("{live}/{host}"), live, host,
//                           origin_id, origin_region, origin_url, relays:[edge ids of the
//                           region relaying the live]}]}; ?region=R
//   GET /healthz          → 200 {"status":"ok","registry":"ok"|"unreachable"}
//
// A node is alive while the registry lists it with time left on its record (alive_nodes):
// the node list and placements read that one rule, and this broker's own recent placements
// only add to listed nodes' loads. A read the registry did not answer (and, with a cache,
// could not serve from an answer within max_stale) is 503 registry-unavailable.
//
// The query string of a WHIP/WHEP request is kept in the Location. Handlers may run on
// several HTTP threads at once: the broker has no mutable state of its own, the registry
// must be thread-safe and so must the injected random source.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/access_policy.hpp"
#include "auth/ticket.hpp"
#include "broker/placement.hpp"
#include "http/access_gate.hpp"
#include "http/message.hpp"
#include "common/time.hpp"
#include "http/router.hpp"
#include "registry/registry.hpp"

namespace strata::broker {

struct BrokerOptions {
  std::string region;
  int retry_after_seconds = 2;
  double max_cpu = 0.9;  // nodes at or above are full
  // See PlacementLimits::load_tolerance.
  double load_tolerance = 0.05;
  // Placements this broker made within this window add to the nodes' session counts
  // (their records lag by up to a heartbeat). 0 = off: decide from the records alone.
  Duration recent_placement_window{0};
  // Access control (README, "Access control"): off by default. When on, WHIP/WHEP need a
  // publish/view token and /api/v1/* an admin one, and every redirect carries a ticket for
  // the chosen node (`tickets`, signed with the cluster secret), so a client whose browser
  // drops Authorization on the cross-origin redirect still gets in.
  auth::AccessPolicy access;
  std::shared_ptr<const auth::TicketSigner> tickets;
  std::function<int64_t()> unix_now;  // wall-clock seconds; empty = the system clock
};

class Broker {
 public:
  // `random` defaults to strata::random_u64.
  Broker(registry::Registry& registry, BrokerOptions options,
         std::function<uint64_t()> random = {});

  void add_routes(http::Router& router);

  // The handlers, public so tests and `strata dev` can call them without a Router.
  http::Response handle_whip(const http::Request& request);
  http::Response handle_whep(const http::Request& request);
  http::Response handle_nodes(const http::Request& request);
  http::Response handle_streams(const http::Request& request);
  http::Response handle_healthz(const http::Request& request);

  const BrokerOptions& options() const { return options_; }

 private:
  // ?region= if present (validated), else the broker's own region. nullopt = invalid.
  std::optional<std::string> viewer_region(const http::Request& request) const;
  http::Response retry_later(int status, std::string_view error, std::string_view detail) const;
  http::Response registry_unavailable() const;
  // A 307 to `base_url`'s WHIP/WHEP for the live, with the request's query and, when
  // access control is on, a ticket for `node_id`.
  http::Response redirect_to(const http::Request& request, std::string_view base_url, std::string_view kind,
                             const std::string& live, const std::string& node_id, auth::Action action,
                             const auth::Permit& permit) const;

  // The one source of truth for "alive", used by the node list and by placements: nodes the
  // registry lists (through its cache, if any) whose records have time left (is_alive).
  registry::Read<std::vector<registry::NodeRecord>> alive_nodes(std::string_view region);

  // Node records refresh once a second, so a burst of requests would see the same loads
  // and pile onto one node: this broker's own placements of the last
  // `recent_placement_window` count as sessions the records do not show yet.
  void add_recent_placements(std::vector<registry::NodeRecord>& nodes);
  void record_placement(const std::string& node_id);

  registry::Registry& registry_;
  BrokerOptions options_;
  http::AccessGate gate_;
  std::function<uint64_t()> random_;
  std::mutex recent_mu_;
  std::unordered_map<std::string, std::deque<Timestamp>> recent_;
};

// [A-Za-z0-9_.-]{1,64}, the rule the nodes apply to stream names (and the broker to regions).
bool valid_name(std::string_view name);

// base + "/" + kind + "/" + stream (+ "?" + query when not empty); a trailing '/' of the
// base URL is dropped. kind is "whip" or "whep".
std::string redirect_location(std::string_view base_url, std::string_view kind,
                              std::string_view stream, std::string_view query);

nlohmann::json node_to_json(const registry::NodeRecord& node);

}  // namespace strata::broker
