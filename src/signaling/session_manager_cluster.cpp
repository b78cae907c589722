// SessionManager, cluster half (docs/ARCHITECTURE.md, "Cluster"): the origin's relay endpoint, the edge's
// relay set-up on its first viewer, registry heartbeats, claims, relay records, linger.
#include <openssl/crypto.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/random.hpp"
#include "dtls/certificate.hpp"
#include "http/client.hpp"
#include "signaling/session_manager.hpp"
#include "signaling/track_json.hpp"
#include "worker/relay_session.hpp"

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

bool secret_matches(const std::optional<std::string>& authorization, const std::string& secret) {
  if (secret.empty() || !authorization) return false;
  const std::string want = "Bearer " + secret;
  return authorization->size() == want.size() && CRYPTO_memcmp(authorization->data(), want.data(), want.size()) == 0;
}

// "sha-256 AB:CD:..." → algorithm and digest bytes.
bool parse_fingerprint_attr(const std::string& text, std::string* algorithm, Bytes* digest) {
  auto space = text.find(' ');
  if (space == std::string::npos) return false;
  *algorithm = text.substr(0, space);
  auto bytes = dtls::parse_fingerprint(text.substr(space + 1));
  if (!bytes) return false;
  *digest = *bytes;
  return true;
}

// A string member, or nullopt when absent or of another type (peers' JSON is untrusted).
std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

// Origin side: an edge's request for every track and layer of `stream`.
std::variant<nlohmann::json, ApiError> SessionManager::create_relay(const std::string& stream, const std::string& body,
                                                                    const std::optional<std::string>& authorization) {
  if (!secret_matches(authorization, options_.cluster_secret))
    return ApiError{403, "forbidden", "relay requests need 'Authorization: Bearer <cluster secret>'"};
  if (options_.role == NodeRole::kEdge)
    return ApiError{403, "wrong-role", "this node is an edge: relays are served by origins"};
  nlohmann::json req = nlohmann::json::parse(body, nullptr, false);
  auto edge_ufrag = req.is_object() ? string_field(req, "ice_ufrag") : std::nullopt;
  auto edge_pwd = req.is_object() ? string_field(req, "ice_pwd") : std::nullopt;
  auto fingerprint = req.is_object() ? string_field(req, "fingerprint") : std::nullopt;
  auto edge = req.is_object() ? string_field(req, "edge_id") : std::nullopt;
  if (!edge || !edge_ufrag || !edge_pwd || !fingerprint || edge_ufrag->empty() || edge_pwd->empty())
    return ApiError{400, "bad-relay-request", "expected JSON {edge_id, ice_ufrag, ice_pwd, fingerprint} (strings)"};
  transport::TransportConfig config;
  if (!parse_fingerprint_attr(*fingerprint, &config.remote_fingerprint_algorithm, &config.remote_fingerprint))
    return ApiError{400, "bad-relay-request", "fingerprint must be '<algorithm> <hex:hex:...>'"};

  std::lock_guard lock(mu_);
  StreamRecord* found = find_live_source_locked(stream);
  if (!found || found->relayed)
    return ApiError{404, "unknown-stream", "stream '" + stream + "' has no host on this origin"};
  StreamRecord& rec = *found;
  int w = pick_worker_locked();
  config.local_ufrag = random_ice_string(8);
  config.local_pwd = random_ice_string(24);
  config.remote_ufrag = *edge_ufrag;
  config.remote_pwd = *edge_pwd;
  config.dtls_role = dtls::Role::kServer;  // the edge is the DTLS client (and ICE controlling)
  config.certificate = cert_;
  config.consent_timeout = options_.consent_timeout;
  SessionRecord& s = add_session_locked(Kind::kRelaySend, rec.name, w);
  s.live = rec.live;
  uint64_t sid = s.id, source = rec.id;
  worker::UpstreamRef up{rec.publisher_worker, rec.publisher};
  std::string ufrag = config.local_ufrag;
  workers_.at(w).post([this, sid, source, up, config, ufrag](worker::Worker& wk) mutable {
    auto session = std::make_unique<worker::RelaySendSession>(wk, sid, source, up, std::move(config), *this);
    worker::Session* raw = session.get();
    wk.add_session(std::move(session), ufrag);
    wk.subscribe(source, raw);
  });
  subscribe_to_stream_locked(rec, w);
  rec.relays.push_back(sid);
  spdlog::info("relay: edge '{}' relays '{}' (session {} on worker {})", *edge, stream, s.public_id, w);
  return nlohmann::json{{"session", "/session/" + s.public_id},
                        {"ice_ufrag", ufrag},
                        {"ice_pwd", config.local_pwd},
                        {"fingerprint", "sha-256 " + cert_->fingerprint_sha256()},
                        {"candidates", nlohmann::json::array({{{"ip", options_.public_ip}, {"port", workers_.at(w).port()}}})},
                        {"tracks", tracks_to_json(rec.tracks)}};
}

// Edge side: ask the claim's origin for a relay of `stream` (HTTP, no lock held).
std::variant<SessionManager::RelayPlan, ApiError> SessionManager::request_relay(const std::string& stream,
                                                                                const registry::StreamClaim& claim) {
  std::string ufrag = random_ice_string(8), pwd = random_ice_string(24);
  nlohmann::json req = {{"edge_id", options_.node_id},
                        {"ice_ufrag", ufrag},
                        {"ice_pwd", pwd},
                        {"fingerprint", "sha-256 " + cert_->fingerprint_sha256()}};
  std::string error;
  const Timestamp sent_at = now();
  auto res = options_.http_request("POST", claim.origin_url + "/relay/" + stream,
                                {{"Authorization", "Bearer " + options_.cluster_secret}, {"Content-Type", "application/json"}},
                                req.dump(), std::chrono::seconds(3), &error);
  if (!res) return ApiError{502, "origin-unreachable", "relay from origin " + claim.origin_id + ": " + error, 2};
  if (res->status != 201)
    return ApiError{502, "relay-refused", "origin " + claim.origin_id + " answered " + std::to_string(res->status) + ": " +
                                              res->body.substr(0, 200), 2};
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  RelayPlan plan;
  plan.setup_rtt = now() - sent_at;
  transport::TransportConfig& config = plan.config;
  const ApiError bad{502, "bad-relay-answer", "origin " + claim.origin_id + " sent a relay answer this edge cannot use"};
  if (!j.is_object()) return bad;
  auto tracks = tracks_from_json(j.value("tracks", nlohmann::json()));
  auto fingerprint = string_field(j, "fingerprint");
  auto remote_ufrag = string_field(j, "ice_ufrag");
  auto remote_pwd = string_field(j, "ice_pwd");
  auto candidates = j.find("candidates");
  if (!tracks || !fingerprint || !remote_ufrag || !remote_pwd || candidates == j.end() || !candidates->is_array() ||
      !parse_fingerprint_attr(*fingerprint, &config.remote_fingerprint_algorithm, &config.remote_fingerprint))
    return bad;
  for (auto& c : *candidates) {
    auto ip = c.is_object() ? string_field(c, "ip") : std::nullopt;
    auto port = c.is_object() ? c.find("port") : c.end();
    if (!ip || port == c.end() || !port->is_number_unsigned() || port->get<uint64_t>() > 65535) return bad;
    if (auto a = SocketAddress::from_ip_port(*ip, uint16_t(port->get<uint64_t>()))) config.remote_candidates.push_back(*a);
  }
  if (config.remote_candidates.empty()) return bad;
  config.local_ufrag = ufrag;
  config.local_pwd = pwd;
  config.remote_ufrag = *remote_ufrag;
  config.remote_pwd = *remote_pwd;
  config.ice_controlling = true;
  config.dtls_role = dtls::Role::kClient;
  config.certificate = cert_;
  config.consent_timeout = options_.consent_timeout;
  plan.tracks = *tracks;
  plan.claim = claim;
  return plan;
}

// Puts the relay's ingest session on a worker as the stream's publisher.
void SessionManager::install_relay_locked(StreamRecord& rec, const RelayPlan& plan) {
  int w = pick_worker_locked();
  SessionRecord& s = add_session_locked(Kind::kRelayIngest, rec.name, w);
  s.live = rec.live;
  rec.publisher = s.id;
  rec.publisher_worker = w;
  rec.tracks = plan.tracks;
  rec.origin_id = plan.claim.origin_id;
  uint64_t sid = s.id, source = rec.id;
  workers_.at(w).post([this, sid, source, config = plan.config, tracks = plan.tracks,
                       rtt = plan.setup_rtt](worker::Worker& wk) mutable {
    // A relay crosses a long backbone path: NACK retries follow its RTT (issue 6).
    auto session = std::make_unique<worker::PublisherSession>(wk, sid, source, std::move(config), std::move(tracks),
                                                              *this, sfu::relay_nack_config());
    worker::PublisherSession* raw = session.get();
    raw->set_path_rtt(rtt);
    std::string error;
    // Its own socket: every relay from one origin gets a 5-tuple of its own.
    worker::SendBatch* own = wk.open_session_socket(raw, &error);
    if (!own) {
      spdlog::error("relay: no socket for the relay session: {}", error);
      on_session_ended(sid, "no socket for the relay: " + error);
      return;
    }
    raw->use_own_socket(own);
    wk.add_session(std::move(session), "");
  });
  spdlog::info("relay: pulling '{}' from origin {} ({}), session {} on worker {}", rec.live, plan.claim.origin_id,
               plan.claim.origin_url, s.public_id, w);
}

std::shared_ptr<std::mutex> SessionManager::relay_setup_lock(const std::string& stream) {
  std::lock_guard lock(relay_setup_mu_);
  std::erase_if(relay_setup_locks_, [](const auto& kv) { return kv.second.expired(); });
  auto& weak = relay_setup_locks_[stream];
  auto strong = weak.lock();
  if (!strong) weak = strong = std::make_shared<std::mutex>();
  return strong;
}

// Edge side: make sure `stream` is fed here, pulling it from its origin on first use.
// Exactly one relay per (edge, stream): set-ups of a stream are serialized and re-check
// the directory.
std::optional<ApiError> SessionManager::ensure_relay(const std::string& stream) {
  auto stream_lock = relay_setup_lock(stream);
  std::lock_guard setup(*stream_lock);
  {
    std::lock_guard lock(mu_);
    if (find_live_source_locked(stream)) return std::nullopt;
  }
  if (!options_.registry) return ApiError{409, "stream-not-live", "stream '" + stream + "' is not live", 2};
  auto claim = options_.registry->stream(stream);
  if (!claim) {
    if (!options_.registry->healthy())
      return ApiError{503, "registry-unavailable", "the cluster registry is unreachable; retry shortly", 2};
    return ApiError{409, "stream-not-live", "stream '" + stream + "' is not live yet; retry later", 2};
  }
  auto plan = request_relay(stream, *claim);
  if (auto* e = std::get_if<ApiError>(&plan)) return *e;
  std::lock_guard lock(mu_);
  StreamRecord rec;
  rec.id = next_id_++;
  // The origin's one host of the live, here under the default name (lives whose hosts
  // span origins come with cluster rooms).
  rec.live = stream;
  rec.host = std::string(room::kDefaultHost);
  rec.name = source_key(rec.live, rec.host);
  rec.relayed = true;
  rec.started = rec.idle_since = now();
  auto joined = directory_.add_host(rec.live, rec.host, rec.id, now());
  if (auto* e = std::get_if<room::Error>(&joined))
    return ApiError{500, "relay-not-added", "the relayed host could not join the live here: " + e->detail};
  install_relay_locked(rec, std::get<RelayPlan>(plan));
  const std::string key = rec.name;
  streams_[key] = std::move(rec);
  apply_changes_locked(std::get<room::Changes>(joined));
  return std::nullopt;
}

// The stream's claim now names another origin (its origin died and the host published
// again through the broker): pull from the new origin and move the edge's viewers over
// without renegotiation. Their consumers see a new source and restart at a keyframe with
// SSRC and sequence continuity (docs/ARCHITECTURE.md, "Cluster", failures).
void SessionManager::reattach_relay(const std::string& stream, const registry::StreamClaim& claim) {
  auto stream_lock = relay_setup_lock(stream);
  std::lock_guard setup(*stream_lock);
  {
    std::lock_guard lock(mu_);
    StreamRecord* rec = find_live_source_locked(stream);
    if (!rec || !rec->relayed || rec->origin_id == claim.origin_id) return;  // done meanwhile
  }
  auto plan = request_relay(stream, claim);
  if (auto* e = std::get_if<ApiError>(&plan)) {
    spdlog::warn("relay: cannot re-attach '{}' to origin {}: {}", stream, claim.origin_id, e->detail);
    return;
  }
  std::lock_guard lock(mu_);
  StreamRecord* found = find_live_source_locked(stream);
  if (!found || !found->relayed) return;
  StreamRecord& rec = *found;
  uint64_t old = rec.publisher;
  int old_worker = rec.publisher_worker;
  if (auto sit = sessions_.find(old); sit != sessions_.end()) {
    by_public_id_.erase(sit->second.public_id);
    sessions_per_worker_[size_t(sit->second.worker)]--;
    sessions_.erase(sit);  // its end event is ignored from now on
  }
  workers_.at(old_worker).post([old](worker::Worker& wk) { wk.remove_session(old); });
  install_relay_locked(rec, std::get<RelayPlan>(plan));
  // The new ingest worker feeds every worker that has viewers of the stream.
  uint64_t source = rec.id;
  for (auto& [w, n] : rec.viewers_per_worker) {
    if (n > 0 && w != rec.publisher_worker) {
      int target = w;
      workers_.at(rec.publisher_worker).post([source, target](worker::Worker& wk) { wk.set_remote_subscriber(source, target, true); });
    }
  }
  // The slots showing this host keep their consumers and restart at a keyframe.
  reshow_locked(rec);
  spdlog::info("relay: '{}' moved to origin {}; {} viewers re-attached", stream, claim.origin_id, rec.viewers.size());
}

void SessionManager::on_registry_event(const registry::Event& event) {
  std::lock_guard lock(mu_);
  StreamRecord* rec = find_live_source_locked(event.stream);
  if (!rec || !rec->relayed) return;
  if (event.kind == registry::Event::Kind::kStreamEnded) {
    // Only the origin we relay from can end it here (a late event of a dead origin must not
    // end the stream its host republished elsewhere).
    if (event.origin_id == rec->origin_id) end_stream_locked(rec->name, "origin ended the stream");
  } else if (event.origin_id != rec->origin_id) {
    moved_streams_.push_back(event.stream);  // poll() re-attaches (it may take an HTTP round trip)
  }
}

void SessionManager::poll() {
  std::vector<registry::Event> events;
  std::vector<std::string> releases;
  std::vector<registry::StreamClaim> claims;
  std::vector<std::string> relayed;
  std::vector<std::pair<std::string, std::string>> relayed_from;  // stream, origin id
  const Timestamp now = this->now();
  bool beat = now >= next_heartbeat_;
  {
    std::lock_guard lock(mu_);
    events.swap(pending_events_);
    releases.swap(pending_releases_);
    std::vector<std::string> moved;
    moved.swap(moved_streams_);
    std::vector<std::string> lingered;
    for (auto& [name, rec] : streams_) {
      if (rec.relayed && rec.viewers.empty() && now - rec.idle_since > options_.relay_linger) lingered.push_back(name);
      if (beat && !rec.relayed) claims.push_back({rec.live, options_.node_id, options_.region, options_.http_url});
      if (beat && rec.relayed && !rec.viewers.empty()) relayed.push_back(rec.live);
      bool was_moved = std::find(moved.begin(), moved.end(), rec.live) != moved.end();
      if (rec.relayed && (beat || was_moved)) relayed_from.emplace_back(rec.live, rec.origin_id);
    }
    for (auto& name : lingered) end_stream_locked(name, "no viewers left (relay linger)");
    if (now >= next_speaker_tick_) {
      next_speaker_tick_ = now + std::chrono::milliseconds(200);
      for (const auto& changes : directory_.on_tick(now)) apply_changes_locked(changes);
    }
  }
  if (beat) next_heartbeat_ = now + std::chrono::seconds(1);
  registry::Registry* reg = options_.registry;
  if (!reg) return;
  for (auto& name : releases) reg->release_claim({name, options_.node_id, options_.region, options_.http_url});
  for (auto& e : events) reg->publish(e);
  // The node record first: relay work below may wait on an origin, and a record that
  // lapses makes the broker drop a healthy node.
  if (beat) heartbeat(now);
  reattach_moved_streams(relayed_from);
  if (!beat) return;
  for (auto& c : claims) {
    // A registry that lost its data (restarted empty) no longer has the claim: take it again.
    if (!reg->refresh_claim(c, options_.claim_ttl) && reg->claim_stream(c, options_.claim_ttl) == registry::ClaimResult::kTaken)
      spdlog::warn("stream '{}' is now claimed by another origin", c.stream);
  }
  for (auto& name : relayed) reg->put_relay(options_.region, name, options_.node_id, options_.claim_ttl);
}

// The claim of a relayed stream names another origin: its host republished there after its
// origin died. Pull from the new one; the viewers keep their sessions.
void SessionManager::reattach_moved_streams(const std::vector<std::pair<std::string, std::string>>& relayed_from) {
  for (auto& [name, origin] : relayed_from) {
    auto claim = options_.registry->read_stream(name);
    if (!claim.ok || !claim.value) continue;  // unknown now, or not live again yet: next heartbeat
    if (claim.value->origin_id != origin) reattach_relay(name, *claim.value);
  }
}

void SessionManager::heartbeat(Timestamp now) {
  registry::NodeRecord n;
  n.id = options_.node_id;
  n.role = to_string(options_.role);
  n.region = options_.region;
  n.http_url = options_.http_url;
  n.sessions = uint32_t(session_count());
  n.capacity = uint32_t(options_.max_sessions);
  // Process CPU over the last heartbeat period (about a second): the broker skips nodes at
  // or above its --max-cpu.
  n.cpu = cpu_load_.sample(options_.process_cpu_time(), now);
  n.draining = draining_;
  auto m = workers_.metrics();
  uint64_t bytes = m.bytes_out;
  if (last_egress_at_ != Timestamp{}) {
    double secs = std::chrono::duration<double>(now - last_egress_at_).count();
    if (secs > 0) egress_bps_ = uint64_t(double(bytes - last_egress_bytes_) * 8 / secs);
  }
  last_egress_bytes_ = bytes;
  last_egress_at_ = now;
  n.egress_bps = egress_bps_;
  options_.registry->put_node(n, options_.node_ttl);
}

}  // namespace strata::signaling
