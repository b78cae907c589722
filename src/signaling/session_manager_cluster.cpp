// SessionManager, cluster half (docs/ARCHITECTURE.md, "Cluster"): the relay sessions on this
// node (the origin's sending side, the edge's ingest and its re-attach), relay linger and
// the control poll. Talking to the registry and to other nodes is the ClusterLink's.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "signaling/session_manager.hpp"
#include "worker/relay_session.hpp"

namespace strata::signaling {

// Origin side: an edge's request for every track and layer of `stream`. The link checks
// the request; the relay session is ours to create.
std::variant<nlohmann::json, ApiError> SessionManager::create_relay(const std::string& stream, const std::string& body,
                                                                    const std::optional<std::string>& authorization) {
  auto accepted = cluster_->accept_relay_request(body, authorization);
  if (auto* e = std::get_if<ApiError>(&accepted)) return *e;
  auto& [edge, config] = std::get<AcceptedRelay>(accepted);

  std::lock_guard lock(mu_);
  StreamRecord* found = find_live_source_locked(stream);
  if (!found || found->relayed)
    return ApiError{404, "unknown-stream", "stream '" + stream + "' has no host on this origin"};
  StreamRecord& rec = *found;
  // On the host's worker: its keyframe cache holds the host's current pictures from the
  // start (another worker's cache would start empty with this relay), so the relay starts
  // from it at once; and the relay's packets need no ring hop.
  int w = rec.publisher_worker;
  SessionRecord& s = add_session_locked(Kind::kRelaySend, rec.name, w);
  s.live = rec.live;
  uint64_t sid = s.id, source = rec.id;
  worker::UpstreamRef up{rec.publisher_worker, rec.publisher};
  RelayAnswer answer{s.public_id, config.local_ufrag, config.local_pwd, workers_.at(w).port(), rec.tracks};
  workers_.at(w).post([this, sid, source, up, config = std::move(config),
                       ufrag = answer.ice_ufrag](worker::Worker& wk) mutable {
    auto session = std::make_unique<worker::RelaySendSession>(wk, sid, source, up, std::move(config), *this);
    worker::Session* raw = session.get();
    wk.add_session(std::move(session), ufrag);
    wk.subscribe(source, raw);
  });
  subscribe_to_stream_locked(rec, w);
  rec.relays.push_back(sid);
  spdlog::info("relay: edge '{}' relays '{}' (session {} on worker {})", edge, stream, s.public_id, w);
  return cluster_->relay_answer(answer);
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

// Edge side: make sure `stream` is fed here, pulling it from its origin on first use.
// Exactly one relay per (edge, stream): set-ups of a stream are serialized and re-check
// the directory.
std::optional<ApiError> SessionManager::ensure_relay(const std::string& stream) {
  RelaySetupLock setup = cluster_->lock_relay_setup(stream);
  {
    std::lock_guard lock(mu_);
    if (find_live_source_locked(stream)) return std::nullopt;
  }
  auto claim = cluster_->find_origin(stream);
  if (auto* e = std::get_if<ApiError>(&claim)) return *e;
  auto plan = cluster_->request_relay(stream, std::get<registry::StreamClaim>(claim));
  if (auto* e = std::get_if<ApiError>(&plan)) return *e;
  std::lock_guard lock(mu_);
  return add_relayed_stream_locked(stream, std::get<RelayPlan>(plan));
}

// The relayed stream joins the directory as its live's one host, fed by the relay.
std::optional<ApiError> SessionManager::add_relayed_stream_locked(const std::string& stream, const RelayPlan& plan) {
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
  install_relay_locked(rec, plan);
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
  RelaySetupLock setup = cluster_->lock_relay_setup(stream);
  {
    std::lock_guard lock(mu_);
    StreamRecord* rec = find_live_source_locked(stream);
    if (!rec || !rec->relayed || rec->origin_id == claim.origin_id) return;  // done meanwhile
  }
  auto plan = cluster_->request_relay(stream, claim);
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

// Collects under mu_ what the cluster must hear about, then talks to it without the lock
// (registry calls and relay set-ups may block).
void SessionManager::poll() {
  const Timestamp now = this->now();
  const bool beat = now >= next_heartbeat_;
  if (beat) next_heartbeat_ = now + std::chrono::seconds(1);
  NodeStreams kept;
  std::vector<std::pair<std::string, std::string>> relayed_from;  // stream, origin id
  NodeLoad load;
  {
    std::lock_guard lock(mu_);
    collect_poll_work_locked(now, beat, &kept, &relayed_from);
    load.sessions = uint32_t(sessions_.size());
  }
  cluster_->send_queued();
  // The heartbeat before any relay work: a re-attach may wait on an origin, and a node
  // record that lapses makes the broker drop a healthy node.
  if (beat) {
    load.bytes_out = workers_.metrics().bytes_out;
    load.draining = draining_;
    cluster_->heartbeat(load, kept);
  }
  reattach_moved_streams(relayed_from);
}

// Relay linger and the speaker's tick happen here; what the heartbeat keeps alive (claims of
// hosted streams, relay records of watched ones) and which relayed streams to re-check (every
// beat, or named by a stream_moved event) is returned.
void SessionManager::collect_poll_work_locked(Timestamp now, bool beat, NodeStreams* kept,
                                              std::vector<std::pair<std::string, std::string>>* relayed_from) {
  std::vector<std::string> moved;
  moved.swap(moved_streams_);
  std::vector<std::string> lingered;
  for (auto& [name, rec] : streams_) {
    if (rec.relayed && rec.viewers.empty() && now - rec.idle_since > options_.relay_linger) lingered.push_back(name);
    if (beat && !rec.relayed) kept->hosted.push_back(rec.live);
    if (beat && rec.relayed && !rec.viewers.empty()) kept->relayed.push_back(rec.live);
    bool was_moved = std::find(moved.begin(), moved.end(), rec.live) != moved.end();
    if (rec.relayed && (beat || was_moved)) relayed_from->emplace_back(rec.live, rec.origin_id);
  }
  for (auto& name : lingered) end_stream_locked(name, "no viewers left (relay linger)");
  if (now >= next_speaker_tick_) {
    next_speaker_tick_ = now + std::chrono::milliseconds(200);
    for (const auto& changes : directory_.on_tick(now)) apply_changes_locked(changes);
  }
}

// The claim of a relayed stream names another origin: its host republished there after its
// origin died. Pull from the new one; the viewers keep their sessions.
void SessionManager::reattach_moved_streams(const std::vector<std::pair<std::string, std::string>>& relayed_from) {
  for (auto& [name, origin] : relayed_from) {
    if (auto claim = cluster_->moved_claim(name, origin)) reattach_relay(name, *claim);
  }
}

}  // namespace strata::signaling
