#include "broker/broker.hpp"

#include <algorithm>
#include <set>

#include "common/random.hpp"

namespace strata::broker {
namespace {

using registry::NodeRecord;
using registry::StreamClaim;

constexpr std::string_view kNameRule = "1-64 characters of A-Z a-z 0-9 '-' '_' '.'";

http::Response redirect(std::string location) {
  http::Response response;
  response.status = 307;  // RFC 9110 §15.4.8: method and body are kept on the retry
  response.set_header("Location", std::move(location));
  response.set_header("Cache-Control", "no-store");  // placement changes with load
  return response;
}

http::Response bad_name(std::string_view what) {
  return http::error_response(400, "bad-" + std::string(what) + "-name",
                              std::string(what) + " names are " + std::string(kNameRule));
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

std::string redirect_location(std::string_view base_url, std::string_view kind,
                              std::string_view stream, std::string_view query) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string out;
  out.reserve(base_url.size() + kind.size() + stream.size() + query.size() + 3);
  out.append(base_url).append("/").append(kind).append("/").append(stream);
  if (!query.empty()) out.append("?").append(query);
  return out;
}

nlohmann::json node_to_json(const NodeRecord& node) {
  return {{"id", node.id},
          {"role", node.role},
          {"region", node.region},
          {"http_url", node.http_url},
          {"cpu", node.cpu},
          {"egress_bps", node.egress_bps},
          {"sessions", node.sessions},
          {"capacity", node.capacity},
          {"draining", node.draining},
          {"ttl_left_ms", node.ttl_left == Duration::max() ? -1 : to_millis(node.ttl_left)}};
}

Broker::Broker(registry::Registry& registry, BrokerOptions options,
               std::function<uint64_t()> random)
    : registry_(registry),
      options_(std::move(options)),
      gate_(options_.access, options_.unix_now),
      random_(std::move(random)) {
  if (!random_) random_ = [] { return random_u64(); };
}

void Broker::add_routes(http::Router& router) {
  router.add("POST", "/whip/{stream}", [this](const http::Request& r) { return handle_whip(r); });
  router.add("POST", "/whep/{stream}", [this](const http::Request& r) { return handle_whep(r); });
  router.add("GET", "/api/v1/nodes", [this](const http::Request& r) { return handle_nodes(r); });
  router.add("GET", "/api/v1/streams",
             [this](const http::Request& r) { return handle_streams(r); });
  router.add("GET", "/healthz", [this](const http::Request& r) { return handle_healthz(r); });
}

http::Response Broker::retry_later(int status, std::string_view error,
                                   std::string_view detail) const {
  auto response = http::error_response(status, error, detail);
  response.set_header("Retry-After", std::to_string(options_.retry_after_seconds));
  return response;
}

http::Response Broker::redirect_to(const http::Request& request, std::string_view base_url, std::string_view kind,
                                   const std::string& live, const std::string& node_id, auth::Action action,
                                   const auth::Permit& permit) const {
  std::string query = request.query;
  if (options_.access.enabled() && options_.tickets) {
    auth::Ticket t{action, live, action == auth::Action::kPublish ? permit.host : "", node_id, permit.subject,
                   gate_.unix_now() + auth::kTicketLifetimeSeconds};
    // Any ticket the client brought is replaced, not repeated. The ticket is base64url and
    // '.', all URL-safe (RFC 3986 §2.3), so it needs no escaping.
    query.clear();
    for (std::string_view rest = request.query; !rest.empty();) {
      const size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (pair.empty() || http::percent_decode(pair.substr(0, pair.find('=')), true) == "ticket") continue;
      query.append(query.empty() ? "" : "&").append(pair);
    }
    query += (query.empty() ? "" : "&") + std::string("ticket=") + options_.tickets->issue(t);
  }
  return redirect(redirect_location(base_url, kind, live, query));
}

http::Response Broker::registry_unavailable() const {
  return retry_later(503, "registry-unavailable",
                     "the cluster registry is unreachable; placements resume when it is back");
}

std::optional<std::string> Broker::viewer_region(const http::Request& request) const {
  auto it = request.query_params.find("region");
  if (it == request.query_params.end() || it->second.empty()) return options_.region;
  if (!valid_name(it->second)) return std::nullopt;
  return it->second;
}

registry::Read<std::vector<NodeRecord>> Broker::alive_nodes(std::string_view region) {
  auto read = registry_.read_nodes(region);
  std::erase_if(read.value, [](const NodeRecord& n) { return !is_alive(n); });
  return read;
}

// Adds to the session counts of listed nodes only: bookkeeping never brings a node back.
void Broker::add_recent_placements(std::vector<NodeRecord>& nodes) {
  if (options_.recent_placement_window == Duration{0}) return;
  auto cutoff = SteadyClock().now() - options_.recent_placement_window;
  for (auto it = recent_.begin(); it != recent_.end();) {
    while (!it->second.empty() && it->second.front() < cutoff) it->second.pop_front();
    it = it->second.empty() ? recent_.erase(it) : std::next(it);
  }
  for (auto& n : nodes) {
    auto it = recent_.find(n.id);
    if (it != recent_.end()) n.sessions += uint32_t(it->second.size());
  }
}

void Broker::record_placement(const std::string& node_id) {
  if (options_.recent_placement_window != Duration{0}) recent_[node_id].push_back(SteadyClock().now());
}

// Host `?host=H` (default "host") of live L → the origin that already holds "L/H" (its WHIP
// answers 409 itself, so that rule lives in one place; 409 here while that origin is gone
// and its claim has not lapsed yet). Else, guest mode: the least loaded origin of this
// region that already has a host of L and headroom, so host-to-guest is one hop. Else a
// least-loaded origin of the region (a first host, or battle mode: the live's other hosts
// are in other regions and stay on their own origins).
// Every read must have been answered (from the registry or, with a CachedRegistry, from an
// answer within its max_stale): guessing from a failed read would place on nodes that are
// gone or call a live stream unknown.
http::Response Broker::handle_whip(const http::Request& request) {
  const std::string& live = request.path_params.at("stream");
  if (!valid_name(live)) return bad_name("stream");
  auto host_param = request.query_params.find("host");
  const std::string asked = host_param == request.query_params.end() ? "" : host_param->second;
  if (host_param != request.query_params.end() && (!valid_name(asked) || asked.find('.') != std::string::npos))
    return bad_name("host");
  auto permit = gate_.check(request, auth::Action::kPublish, live, asked);
  if (auto* refused = std::get_if<http::Response>(&permit)) return std::move(*refused);
  const auth::Permit& allowed = std::get<auth::Permit>(permit);
  // A token pinning its host (sub) names the host when the request does not.
  const std::string host = !allowed.host.empty() ? allowed.host : asked.empty() ? "host" : asked;
  const auth::Permit as_host{allowed.subject, host};  // the ticket names the host it admits

  auto claim = registry_.read_stream(registry::host_stream(live, host));
  if (!claim.ok) return registry_unavailable();
  if (claim.value && !claim.value->origin_url.empty()) {
    auto nodes = alive_nodes(claim.value->origin_region);
    if (!nodes.ok) return registry_unavailable();
    bool alive = std::any_of(nodes.value.begin(), nodes.value.end(),
                             [&](const NodeRecord& n) { return n.id == claim.value->origin_id; });
    if (alive)
      return redirect_to(request, claim.value->origin_url, "whip", live, claim.value->origin_id, auth::Action::kPublish,
                         as_host);
    return retry_later(409, "host-taken",
                       "host '" + host + "' of '" + live + "' is still claimed by origin " + claim.value->origin_id +
                           ", which is gone; its claim lapses within seconds");
  }
  auto hosts = registry_.read_live(live);
  if (!hosts.ok) return registry_unavailable();

  auto alive = alive_nodes(options_.region);
  if (!alive.ok) return registry_unavailable();
  std::vector<NodeRecord>& nodes = alive.value;
  std::lock_guard lock(recent_mu_);
  add_recent_placements(nodes);
  auto candidates = eligible_nodes(nodes, Role::kOrigin, options_.region, options_.max_cpu);
  const NodeRecord* origin = nullptr;
  // candidates is sorted least loaded first: the first one holding a host of the live.
  for (const NodeRecord* c : candidates) {
    bool holds = std::any_of(hosts.value.begin(), hosts.value.end(),
                             [&](const StreamClaim& h) { return h.origin_id == c->id; });
    if (holds) {
      origin = c;
      break;
    }
  }
  if (!origin) origin = pick_two_choice(candidates, random_(), options_.load_tolerance);
  if (!origin) {
    return retry_later(503, "no-capacity", describe_no_capacity(nodes, Role::kOrigin, options_.region, options_.max_cpu));
  }
  record_placement(origin->id);
  return redirect_to(request, origin->http_url, "whip", live, origin->id, auth::Action::kPublish, as_host);
}

// Viewer → an edge of its region already relaying the live while it has headroom (one
// relay per host serves many viewers), else a least-loaded edge, which will open the
// relays. A host watching its co-hosts (?exclude=<its name>) → its own origin, which pulls
// co-hosts on other origins once for all its hosts.
http::Response Broker::handle_whep(const http::Request& request) {
  const std::string& live = request.path_params.at("stream");
  if (!valid_name(live)) return bad_name("stream");
  auto region = viewer_region(request);
  if (!region) return bad_name("region");
  auto permit = gate_.check(request, auth::Action::kView, live);
  if (auto* refused = std::get_if<http::Response>(&permit)) return std::move(*refused);
  const auth::Permit& allowed = std::get<auth::Permit>(permit);

  auto hosts = registry_.read_live(live);
  if (!hosts.ok) return registry_unavailable();
  if (hosts.value.empty()) {
    // RFC 9725 leaves the status open; 409 + Retry-After matches the nodes (the README's HTTP API).
    return retry_later(409, "stream-not-live", "stream '" + live + "' is not being published");
  }
  if (auto ex = request.query_params.find("exclude"); ex != request.query_params.end() && valid_name(ex->second)) {
    // The host's own claim, not the live's list: a cached list may predate a host that has
    // just gone live and now watches its co-hosts (a missing claim is never cached).
    auto self = registry_.read_stream(registry::host_stream(live, ex->second));
    if (!self.ok) return registry_unavailable();
    if (self.value && !self.value->origin_url.empty())
      return redirect_to(request, self.value->origin_url, "whep", live, self.value->origin_id, auth::Action::kView,
                         allowed);
  }

  auto alive = alive_nodes(*region);
  if (!alive.ok) return registry_unavailable();
  // Relay records only prefer an edge; without them any alive edge will do.
  std::vector<std::string> relaying = registry_.read_relays(*region, live).value;
  std::vector<NodeRecord>& nodes = alive.value;
  std::lock_guard lock(recent_mu_);
  add_recent_placements(nodes);
  auto candidates = eligible_nodes(nodes, Role::kEdge, *region, options_.max_cpu);
  // candidates is sorted least loaded first, so the first relaying one is the best.
  for (const NodeRecord* edge : candidates) {
    if (std::find(relaying.begin(), relaying.end(), edge->id) != relaying.end())
      return redirect_to(request, edge->http_url, "whep", live, edge->id, auth::Action::kView, allowed);
  }
  const NodeRecord* edge = pick_two_choice(candidates, random_(), options_.load_tolerance);
  if (!edge) {
    return retry_later(503, "no-capacity", describe_no_capacity(nodes, Role::kEdge, *region, options_.max_cpu));
  }
  record_placement(edge->id);
  return redirect_to(request, edge->http_url, "whep", live, edge->id, auth::Action::kView, allowed);
}

// ?region=all lists the broker's region plus every region that hosts a stream's origin:
// the registry keeps node records per region and has no list of regions, so an edge-only
// region with no local origin and no broker of its own is not shown (ask ?region=R).
http::Response Broker::handle_nodes(const http::Request& request) {
  if (auto permit = gate_.check(request, auth::Action::kAdmin, ""); std::holds_alternative<http::Response>(permit))
    return std::get<http::Response>(std::move(permit));
  auto it = request.query_params.find("region");
  const bool all = it != request.query_params.end() && it->second == "all";
  std::optional<std::string> region = all ? std::optional<std::string>("all") : viewer_region(request);
  if (!region) return bad_name("region");

  std::set<std::string> regions;
  if (all) {
    auto claims = registry_.read_streams();
    if (!claims.ok) return registry_unavailable();
    regions.insert(options_.region);
    for (const StreamClaim& claim : claims.value) {
      if (valid_name(claim.origin_region)) regions.insert(claim.origin_region);
    }
  } else {
    regions.insert(*region);
  }
  // The same list placements choose from (alive_nodes), so what this shows is what they see.
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& r : regions) {
    auto alive = alive_nodes(r);
    if (!alive.ok) return registry_unavailable();
    for (const NodeRecord& node : alive.value) list.push_back(node_to_json(node));
  }
  return http::json_response(200, {{"region", *region}, {"nodes", std::move(list)}});
}

http::Response Broker::handle_streams(const http::Request& request) {
  if (auto permit = gate_.check(request, auth::Action::kAdmin, ""); std::holds_alternative<http::Response>(permit))
    return std::get<http::Response>(std::move(permit));
  auto region = viewer_region(request);
  if (!region) return bad_name("region");

  auto read = registry_.read_streams();
  if (!read.ok) return registry_unavailable();
  std::vector<StreamClaim>& claims = read.value;
  std::sort(claims.begin(), claims.end(),
            [](const StreamClaim& a, const StreamClaim& b) { return a.stream < b.stream; });
  nlohmann::json list = nlohmann::json::array();
  for (const StreamClaim& claim : claims) {
    auto [live, host] = registry::split_host_stream(claim.stream);
    list.push_back({{"name", claim.stream},
                    {"live", live},
                    {"host", host},
                    {"origin_id", claim.origin_id},
                    {"origin_region", claim.origin_region},
                    {"origin_url", claim.origin_url},
                    {"relays", registry_.relays(*region, live)}});
  }
  return http::json_response(200, {{"region", *region}, {"streams", std::move(list)}});
}

// 200 while the broker serves HTTP, even with the registry down: every broker shares the
// registry, so failing health checks then would take the whole tier out of DNS/L4 at once.
http::Response Broker::handle_healthz(const http::Request&) {
  return http::json_response(
      200, {{"status", "ok"},
            {"region", options_.region},
            {"registry", registry_.healthy() ? "ok" : "unreachable"}});
}

}  // namespace strata::broker
