// The cluster glue of a node (docs/ARCHITECTURE.md, "Cluster"): registry claims, events and
// heartbeats, the edge's relay request to an origin and the origin's checks and answer.
#include "signaling/cluster_link.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/random.hpp"
#include "signaling/api_bodies.hpp"
#include "signaling/track_json.hpp"

namespace strata::signaling {

const char* to_string(NodeRole role) {
  switch (role) {
    case NodeRole::kDev: return "dev";
    case NodeRole::kOrigin: return "origin";
    case NodeRole::kEdge: return "edge";
  }
  return "?";
}

namespace {

// Constant time: the secret must not leak through how long a refusal takes.
bool secret_matches(const std::optional<std::string>& authorization, const std::string& secret) {
  if (secret.empty() || !authorization) return false;
  const std::string want = "Bearer " + secret;
  return authorization->size() == want.size() && CRYPTO_memcmp(authorization->data(), want.data(), want.size()) == 0;
}

std::string our_fingerprint(const ClusterLinkOptions& o) { return "sha-256 " + o.certificate->fingerprint_sha256(); }

ApiError stream_not_live(const std::string& stream, const char* detail) {
  return ApiError{409, "stream-not-live", "stream '" + stream + "' " + detail, 2};
}

// Origin side of POST /relay/{stream}. Every field is checked before anything is created,
// so a refused request leaves no session behind. Both links serve it: a node without a
// registry still answers edges that know its secret.
std::variant<AcceptedRelay, ApiError> check_relay_request(const ClusterLinkOptions& o, const std::string& body,
                                                          const std::optional<std::string>& authorization) {
  if (!secret_matches(authorization, o.cluster_secret))
    return ApiError{403, "forbidden", "relay requests need 'Authorization: Bearer <cluster secret>'"};
  if (o.role == NodeRole::kEdge)
    return ApiError{403, "wrong-role", "this node is an edge: relays are served by origins"};
  auto parsed = parse_relay_request(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return *e;
  auto& req = std::get<RelayRequest>(parsed);
  AcceptedRelay out;
  out.edge_id = req.edge_id;
  transport::TransportConfig& config = out.config;
  config.remote_fingerprint_algorithm = req.fingerprint_algorithm;
  config.remote_fingerprint = req.fingerprint;
  config.local_ufrag = random_ice_string(8);
  config.local_pwd = random_ice_string(24);
  config.remote_ufrag = req.ice_ufrag;
  config.remote_pwd = req.ice_pwd;
  config.dtls_role = dtls::Role::kServer;  // the edge is the DTLS client (and ICE controlling)
  config.certificate = o.certificate;
  config.consent_timeout = o.consent_timeout;
  return out;
}

nlohmann::json render_relay_answer(const ClusterLinkOptions& o, const RelayAnswer& a) {
  return nlohmann::json{{"session", "/session/" + a.session},
                        {"ice_ufrag", a.ice_ufrag},
                        {"ice_pwd", a.ice_pwd},
                        {"fingerprint", our_fingerprint(o)},
                        {"candidates", nlohmann::json::array({{{"ip", o.public_ip}, {"port", a.port}}})},
                        {"tracks", tracks_to_json(a.tracks)}};
}

}  // namespace

// ---- standalone (`strata dev`) ----

// No registry names an origin: a stream is live here or not at all.
std::variant<registry::StreamClaim, ApiError> StandaloneClusterLink::find_origin(const std::string& stream) {
  return stream_not_live(stream, "is not live");
}

std::variant<RelayPlan, ApiError> StandaloneClusterLink::request_relay(const std::string& stream,
                                                                       const registry::StreamClaim&) {
  return stream_not_live(stream, "is not live");
}

std::variant<AcceptedRelay, ApiError> StandaloneClusterLink::accept_relay_request(
    const std::string& body, const std::optional<std::string>& authorization) const {
  return check_relay_request(options_, body, authorization);
}

nlohmann::json StandaloneClusterLink::relay_answer(const RelayAnswer& answer) const {
  return render_relay_answer(options_, answer);
}

// ---- registry ----

RegistryClusterLink::RegistryClusterLink(registry::Registry& registry, const Clock& clock, HttpClient http,
                                         ClusterLinkOptions options)
    : registry_(registry), clock_(clock), http_(http ? std::move(http) : HttpClient(http::http_request)),
      options_(std::move(options)), cpu_load_(options_.cpu_count ? options_.cpu_count : strata::cpu_count()) {
  if (!options_.process_cpu_time) options_.process_cpu_time = strata::process_cpu_time;
}

registry::StreamClaim RegistryClusterLink::own_claim(const std::string& stream) const {
  return {stream, options_.node_id, options_.region, options_.http_url};
}

// One host, one origin: the host's claim is taken before its offer is answered, so a host
// name is unique in its live across the cluster.
std::optional<ApiError> RegistryClusterLink::claim_stream(const std::string& stream) {
  switch (registry_.claim_stream(own_claim(stream), options_.claim_ttl)) {
    case registry::ClaimResult::kClaimed:
    case registry::ClaimResult::kAlreadyOurs: return std::nullopt;
    case registry::ClaimResult::kTaken: {
      auto [live, host] = registry::split_host_stream(stream);
      return ApiError{409, "host-taken",
                      "host '" + std::string(host) + "' is already live in '" + std::string(live) + "' on another origin",
                      2};
    }
    case registry::ClaimResult::kError: break;
  }
  return ApiError{503, "registry-unavailable", "the cluster registry is unreachable; retry shortly", 2};
}

void RegistryClusterLink::release_stream(const std::string& stream) { registry_.release_claim(own_claim(stream)); }

// Edges still relaying this stream from an origin that died re-attach here at once instead
// of at their next claim re-read (docs/ARCHITECTURE.md, "Cluster", failures).
void RegistryClusterLink::announce_stream(const std::string& stream) {
  registry_.publish({registry::Event::Kind::kStreamMoved, stream, options_.node_id});
}

// Origin: give the name back and tell the edges at once (they also see the relay close).
void RegistryClusterLink::queue_stream_ended(const std::string& stream) {
  std::lock_guard lock(queue_mu_);
  queued_releases_.push_back(stream);
  queued_events_.push_back({registry::Event::Kind::kStreamEnded, stream, options_.node_id});
}

void RegistryClusterLink::cancel_queued(const std::string& stream) {
  std::lock_guard lock(queue_mu_);
  std::erase(queued_releases_, stream);
  std::erase_if(queued_events_, [&](const registry::Event& e) { return e.stream == stream; });
}

void RegistryClusterLink::send_queued() {
  std::vector<std::string> releases;
  std::vector<registry::Event> events;
  {
    std::lock_guard lock(queue_mu_);
    releases.swap(queued_releases_);
    events.swap(queued_events_);
  }
  for (auto& name : releases) release_stream(name);
  for (auto& e : events) registry_.publish(e);
}

void RegistryClusterLink::heartbeat(const NodeLoad& load, const NodeStreams& streams) {
  const Timestamp now = clock_.now();
  registry::NodeRecord n;
  n.id = options_.node_id;
  n.role = to_string(options_.role);
  n.region = options_.region;
  n.http_url = options_.http_url;
  n.sessions = load.sessions;
  n.capacity = uint32_t(options_.capacity);
  // Process CPU over the last heartbeat period (about a second): the broker skips nodes at
  // or above its --max-cpu.
  n.cpu = cpu_load_.sample(options_.process_cpu_time(), now);
  n.draining = load.draining;
  n.egress_bps = egress_bps(load.bytes_out, now);
  registry_.put_node(n, options_.node_ttl);
  for (auto& stream : streams.hosted) {
    // A registry that lost its data (restarted empty) no longer has the claim: take it again.
    auto c = own_claim(stream);
    if (!registry_.refresh_claim(c, options_.claim_ttl) &&
        registry_.claim_stream(c, options_.claim_ttl) == registry::ClaimResult::kTaken)
      spdlog::warn("stream '{}' is now claimed by another origin", stream);
  }
  for (auto& stream : streams.relayed) registry_.put_relay(options_.region, stream, options_.node_id, options_.claim_ttl);
}

// Egress over the interval since the previous heartbeat; the first one reports 0.
uint64_t RegistryClusterLink::egress_bps(uint64_t bytes_out, Timestamp now) {
  if (last_egress_at_ != Timestamp{}) {
    double secs = std::chrono::duration<double>(now - last_egress_at_).count();
    if (secs > 0) egress_bps_ = uint64_t(double(bytes_out - last_egress_bytes_) * 8 / secs);
  }
  last_egress_bytes_ = bytes_out;
  last_egress_at_ = now;
  return egress_bps_;
}

std::optional<std::vector<registry::StreamClaim>> RegistryClusterLink::live_hosts(const std::string& live) {
  auto read = registry_.read_live(live);
  if (!read.ok) return std::nullopt;
  return std::move(read.value);
}

std::optional<bool> RegistryClusterLink::node_alive(const std::string& id, const std::string& region) {
  auto read = registry_.read_nodes(region);
  if (!read.ok) return std::nullopt;
  return std::any_of(read.value.begin(), read.value.end(),
                     [&](const registry::NodeRecord& n) { return n.id == id && n.ttl_left > Duration::zero(); });
}

RelaySetupLock RegistryClusterLink::lock_relay_setup(const std::string& stream) {
  std::shared_ptr<std::mutex> strong;
  {
    std::lock_guard lock(relay_setup_mu_);
    std::erase_if(relay_setup_locks_, [](const auto& kv) { return kv.second.expired(); });
    auto& weak = relay_setup_locks_[stream];
    strong = weak.lock();
    if (!strong) weak = strong = std::make_shared<std::mutex>();
  }
  return RelaySetupLock(std::move(strong));  // waits without relay_setup_mu_: other streams go on
}

std::variant<registry::StreamClaim, ApiError> RegistryClusterLink::find_origin(const std::string& stream) {
  auto claim = registry_.stream(stream);
  if (claim) return *claim;
  if (!registry_.healthy())
    return ApiError{503, "registry-unavailable", "the cluster registry is unreachable; retry shortly", 2};
  return stream_not_live(stream, "is not live yet; retry later");
}

std::optional<registry::StreamClaim> RegistryClusterLink::moved_claim(const std::string& stream,
                                                                      const std::string& origin_id) {
  auto claim = registry_.read_stream(stream);
  // Unreadable, or not live again yet: the next heartbeat looks again.
  if (!claim.ok || !claim.value || claim.value->origin_id == origin_id) return std::nullopt;
  return claim.value;
}

// Edge side: our fresh ICE credentials and fingerprint to the claim's origin; its answer
// becomes the relay transport's config.
std::variant<RelayPlan, ApiError> RegistryClusterLink::request_relay(const std::string& stream,
                                                                     const registry::StreamClaim& claim) {
  std::string ufrag = random_ice_string(8), pwd = random_ice_string(24);
  nlohmann::json req = {
      {"edge_id", options_.node_id}, {"ice_ufrag", ufrag}, {"ice_pwd", pwd}, {"fingerprint", our_fingerprint(options_)}};
  std::string error;
  const Timestamp sent_at = clock_.now();
  auto res = http_("POST", claim.origin_url + "/relay/" + stream,
                   {{"Authorization", "Bearer " + options_.cluster_secret}, {"Content-Type", "application/json"}},
                   req.dump(), std::chrono::seconds(3), &error);
  if (!res) return ApiError{502, "origin-unreachable", "relay from origin " + claim.origin_id + ": " + error, 2};
  if (res->status != 201)
    return ApiError{502, "relay-refused", "origin " + claim.origin_id + " answered " + std::to_string(res->status) + ": " +
                                              res->body.substr(0, 200), 2};
  auto plan = parse_relay_answer(res->body);
  if (!plan)
    return ApiError{502, "bad-relay-answer", "origin " + claim.origin_id + " sent a relay answer this edge cannot use"};
  plan->setup_rtt = clock_.now() - sent_at;
  plan->config.local_ufrag = ufrag;
  plan->config.local_pwd = pwd;
  plan->config.certificate = options_.certificate;
  plan->config.consent_timeout = options_.consent_timeout;
  plan->claim = claim;
  return std::move(*plan);
}

std::variant<AcceptedRelay, ApiError> RegistryClusterLink::accept_relay_request(
    const std::string& body, const std::optional<std::string>& authorization) const {
  return check_relay_request(options_, body, authorization);
}

nlohmann::json RegistryClusterLink::relay_answer(const RelayAnswer& answer) const {
  return render_relay_answer(options_, answer);
}

std::unique_ptr<ClusterLink> make_cluster_link(registry::Registry* registry, const Clock& clock, HttpClient http,
                                               ClusterLinkOptions options) {
  if (!registry) return std::make_unique<StandaloneClusterLink>(std::move(options));
  return std::make_unique<RegistryClusterLink>(*registry, clock, std::move(http), std::move(options));
}

}  // namespace strata::signaling
