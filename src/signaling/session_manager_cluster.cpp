// SessionManager, cluster half (docs/ARCHITECTURE.md, "Cluster"): the relay sessions on this
// node (the origin's sending side, the edge's ingest and its re-attach), relay linger and
// the control poll. Talking to the registry and to other nodes is the ClusterLink's.
#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "signaling/session_manager.hpp"
#include "worker/relay_session.hpp"

namespace strata::signaling {

namespace {
// Two heartbeats: longer than an origin takes to claim its hosts again after a registry
// restart (its next heartbeat), so only a host whose origin is gone goes inactive.
constexpr Duration kUnlistedBeforeInactive = std::chrono::seconds(2);
}  // namespace

// Origin side: a request (from an edge, or from an origin whose hosts watch this host) for
// every track and layer of one host's stream, "{live}/{host}". The link checks the request;
// the relay session is ours to create. Only a host live here is served: a co-host relayed
// here from its own origin is pulled from there, so host media crosses the backbone once.
std::variant<nlohmann::json, ApiError> SessionManager::create_relay(const std::string& stream, const std::string& body,
                                                                    const std::optional<std::string>& authorization) {
  auto accepted = cluster_->accept_relay_request(body, authorization);
  if (auto* e = std::get_if<ApiError>(&accepted)) return *e;
  auto& [edge, config] = std::get<AcceptedRelay>(accepted);

  std::lock_guard lock(mu_);
  StreamRecord* found = find_source_locked(stream);
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
  rec.origin_region = plan.claim.origin_region;
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

// A viewer arrived (on an edge, or a host watching its co-hosts on its origin): every host
// of the live that is live on another origin is pulled here, one relay per (node, host).
// 503 when the registry does not answer; on an edge, the first failure when no host of
// the live could be brought here.
std::optional<ApiError> SessionManager::ensure_live_relays(const std::string& live) {
  auto hosts = cluster_->live_hosts(live);
  if (!hosts) return ApiError{503, "registry-unavailable", "the cluster registry is unreachable; retry shortly", 2};
  std::optional<ApiError> first_error;
  for (const auto& claim : *hosts) {
    if (claim.origin_id == cluster_->node_id()) continue;  // a host of ours
    if (auto e = ensure_relay(claim)) {
      spdlog::warn("relay: cannot pull '{}' from origin {}: {}", claim.stream, claim.origin_id, e->detail);
      if (!first_error) first_error = e;
    }
  }
  std::lock_guard lock(mu_);
  auto snap = directory_.snapshot(live);
  if ((!snap || snap->hosts.empty()) && first_error) return first_error;
  return std::nullopt;
}

// Makes sure the host stream of `claim` is fed here, pulling it from its origin on first
// use. Exactly one relay per (node, host stream): set-ups of a stream are serialized and
// re-check the directory.
std::optional<ApiError> SessionManager::ensure_relay(const registry::StreamClaim& claim) {
  RelaySetupLock setup = cluster_->lock_relay_setup(claim.stream);
  {
    std::lock_guard lock(mu_);
    if (find_source_locked(claim.stream)) return std::nullopt;
  }
  auto plan = cluster_->request_relay(claim.stream, claim);
  if (auto* e = std::get_if<ApiError>(&plan)) return *e;
  std::lock_guard lock(mu_);
  if (find_source_locked(claim.stream)) return std::nullopt;  // a local host of the same name went live meanwhile
  return add_relayed_stream_locked(std::get<RelayPlan>(plan));
}

// The relayed host joins the live here under its own name, fed by the relay.
std::optional<ApiError> SessionManager::add_relayed_stream_locked(const RelayPlan& plan) {
  auto [live, host] = registry::split_host_stream(plan.claim.stream);
  if (host.empty()) return ApiError{500, "relay-not-added", "'" + plan.claim.stream + "' names no host"};
  StreamRecord rec;
  rec.id = next_id_++;
  rec.live = std::string(live);
  rec.host = std::string(host);
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

// Drops a relayed host's ingest session; its record (and the slots showing it) stay.
void SessionManager::remove_ingest_session_locked(StreamRecord& rec) {
  uint64_t old = rec.publisher;
  rec.publisher = 0;
  auto sit = sessions_.find(old);
  if (sit == sessions_.end()) return;
  int old_worker = sit->second.worker;
  forget_session_locked(sit->second);
  sessions_.erase(sit);  // its end event is ignored from now on
  workers_.at(old_worker).post([old](worker::Worker& wk) { wk.remove_session(old); });
}

// The host's claim lapsed without a stream_ended: its origin died. The other hosts go on;
// this one's slots say inactive (the live's event) and get it back, without
// renegotiation, when it publishes again on another origin (sync_live re-attaches).
void SessionManager::mark_inactive_locked(StreamRecord& rec) {
  remove_ingest_session_locked(rec);
  rec.inactive = true;
  rec.inactive_since = now();
  spdlog::warn("relay: host '{}' of '{}' is gone from the registry (origin {} lost?): its slots are inactive",
               rec.host, rec.live, rec.origin_id);
  notify_live_locked(rec.live);
}

// The host's claim names another origin (its origin died and it published again through
// the broker), or it comes back after being inactive: pull from the claim's origin and move
// the viewers over without renegotiation. Their consumers see a new source and restart at a
// keyframe with SSRC and sequence continuity (docs/ARCHITECTURE.md, "Cluster", failures).
void SessionManager::reattach_relay(const registry::StreamClaim& claim) {
  RelaySetupLock setup = cluster_->lock_relay_setup(claim.stream);
  auto current = [&]() -> StreamRecord* {
    StreamRecord* rec = find_source_locked(claim.stream);
    if (!rec || !rec->relayed || (rec->origin_id == claim.origin_id && !rec->inactive)) return nullptr;  // done meanwhile
    return rec;
  };
  {
    std::lock_guard lock(mu_);
    if (!current()) return;
  }
  auto plan = cluster_->request_relay(claim.stream, claim);
  if (auto* e = std::get_if<ApiError>(&plan)) {
    spdlog::warn("relay: cannot re-attach '{}' to origin {}: {}", claim.stream, claim.origin_id, e->detail);
    return;
  }
  std::lock_guard lock(mu_);
  StreamRecord* found = current();
  if (!found) return;
  StreamRecord& rec = *found;
  remove_ingest_session_locked(rec);
  rec.inactive = false;
  rec.stalled = false;
  rec.unlisted_since = {};
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
  notify_live_locked(rec.live);
  spdlog::info("relay: '{}' now from origin {}; {} viewers re-attached", claim.stream, claim.origin_id,
               rec.viewers.size());
}

// Origins of the live's relayed hosts that may be dead: those whose relay went silent, and
// those an inactive host's claim still names. nullopt-free: an unanswered read counts as alive.
std::set<std::string> SessionManager::dead_origins(const std::string& live,
                                                   const std::vector<registry::StreamClaim>& hosts) {
  std::map<std::string, std::string> suspects;  // origin id -> region
  {
    std::lock_guard lock(mu_);
    const std::string prefix = live + "/";
    for (auto it = streams_.lower_bound(prefix); it != streams_.end() && it->first.starts_with(prefix); ++it) {
      const StreamRecord& rec = it->second;
      if (!rec.relayed) continue;
      if (!rec.inactive && rec.stalled) suspects.emplace(rec.origin_id, rec.origin_region);
      for (const auto& c : hosts)
        if (rec.inactive && c.stream == rec.name) suspects.emplace(c.origin_id, c.origin_region);
    }
  }
  std::set<std::string> dead;
  for (const auto& [id, region] : suspects) {
    if (cluster_->node_alive(id, region) == false) dead.insert(id);
  }
  return dead;
}

void SessionManager::sync_live(const std::string& live) {
  auto hosts = cluster_->live_hosts(live);
  if (!hosts) return;  // the registry did not answer: change nothing, the next beat looks again
  const std::set<std::string> dead = dead_origins(live, *hosts);
  for (const auto& claim : *hosts) {
    if (claim.origin_id == cluster_->node_id() || dead.count(claim.origin_id)) continue;
    enum class Need { kNothing, kPull, kReattach } need = Need::kNothing;
    {
      std::lock_guard lock(mu_);
      StreamRecord* rec = find_source_locked(claim.stream);
      if (!rec) {
        need = live_viewer_count_locked(live) > 0 ? Need::kPull : Need::kNothing;
      } else if (rec->relayed && (rec->inactive || rec->origin_id != claim.origin_id)) {
        need = Need::kReattach;
      }
    }
    if (need == Need::kPull) {
      if (auto e = ensure_relay(claim)) spdlog::warn("relay: cannot pull '{}': {}", claim.stream, e->detail);
    } else if (need == Need::kReattach) {
      reattach_relay(claim);
    }
  }
  std::lock_guard lock(mu_);
  std::vector<std::string> expired;
  const std::string prefix = live + "/";
  for (auto it = streams_.lower_bound(prefix); it != streams_.end() && it->first.starts_with(prefix); ++it) {
    StreamRecord& rec = it->second;
    if (!rec.relayed) continue;
    bool listed = std::any_of(hosts->begin(), hosts->end(), [&](const auto& c) { return c.stream == rec.name; });
    if (listed) rec.unlisted_since = {};
    else if (rec.unlisted_since == Timestamp{}) rec.unlisted_since = now();
    if (rec.inactive) {
      if (now() - rec.inactive_since > options_.host_return_grace) expired.push_back(rec.name);
      continue;
    }
    // The host's origin is gone: its relay is silent and its node record lapsed (3 s), which
    // comes before its claim does (5 s). Or the claim itself is gone, from two reads at least
    // kUnlistedBeforeInactive apart: a registry that restarted empty lists no claim (and no
    // node) until the origins' next heartbeat (≤ 1 s), and its relays keep flowing, so a
    // restart disturbs no viewer.
    if ((rec.stalled && dead.count(rec.origin_id)) ||
        (!listed && now() - rec.unlisted_since >= kUnlistedBeforeInactive))
      mark_inactive_locked(rec);
  }
  for (auto& name : expired) end_stream_locked(name, "did not come back within the grace period");
}

void SessionManager::on_upstream_stalled(uint64_t session_id, bool stalled) {
  std::lock_guard lock(mu_);
  auto sit = sessions_.find(session_id);
  if (sit == sessions_.end() || sit->second.kind != Kind::kRelayIngest) return;
  if (StreamRecord* rec = find_source_locked(sit->second.stream); rec && rec->publisher == session_id) {
    rec->stalled = stalled;
    if (stalled) spdlog::info("relay: '{}' from origin {} went silent", rec->name, rec->origin_id);
  }
}

void SessionManager::on_registry_event(const registry::Event& event) {
  std::lock_guard lock(mu_);
  auto [live, host] = registry::split_host_stream(event.stream);
  if (host.empty() || event.origin_id == cluster_->node_id()) return;
  StreamRecord* rec = find_source_locked(event.stream);
  if (rec && !rec->relayed) return;  // a host of ours
  if (event.kind == registry::Event::Kind::kStreamEnded) {
    // Only the origin we relay from can end it here (a late event of a dead origin must not
    // end the stream its host republished elsewhere).
    if (rec && event.origin_id == rec->origin_id) end_stream_locked(rec->name, "its origin ended the stream");
    return;
  }
  // A host joined (or moved): pull it (or re-attach) in poll(), as it may take an HTTP
  // round trip. Only lives watched here matter.
  const std::string name(live);
  if ((rec || live_viewer_count_locked(name) > 0) &&
      std::find(lives_to_sync_.begin(), lives_to_sync_.end(), name) == lives_to_sync_.end())
    lives_to_sync_.push_back(name);
}

// Collects under mu_ what the cluster must hear about, then talks to it without the lock
// (registry calls and relay set-ups may block).
void SessionManager::poll() {
  const Timestamp now = this->now();
  const bool beat = now >= next_heartbeat_;
  if (beat) next_heartbeat_ = now + std::chrono::seconds(1);
  NodeStreams kept;
  std::vector<std::string> sync;  // lives to bring in line with the registry
  NodeLoad load;
  {
    std::lock_guard lock(mu_);
    collect_poll_work_locked(now, beat, &kept, &sync);
    load.sessions = uint32_t(client_sessions_locked());
  }
  cluster_->send_queued();
  // The heartbeat before any relay work: a re-attach may wait on an origin, and a node
  // record that lapses makes the broker drop a healthy node.
  if (beat) {
    load.bytes_out = workers_.metrics().bytes_out;
    load.draining = draining_;
    cluster_->heartbeat(load, kept);
  }
  if (options_.role == NodeRole::kDev) return;
  for (const auto& live : sync) sync_live(live);
}

// Relay linger and the speaker's tick happen here; what the heartbeat keeps alive (claims of
// hosts here, relay records of lives watched here) and which lives to sync with the registry
// (every beat each live with relayed hosts or viewers here, else those events named) is
// returned.
void SessionManager::collect_poll_work_locked(Timestamp now, bool beat, NodeStreams* kept, std::vector<std::string>* sync) {
  sync->swap(lives_to_sync_);
  auto add_once = [](std::vector<std::string>* v, const std::string& s) {
    if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
  };
  std::vector<std::string> lingered;
  for (auto& [name, rec] : streams_) {
    const bool watched = live_viewer_count_locked(rec.live) > 0;
    if (rec.relayed) {
      // A live's relayed hosts stay while anyone watches the live here (a slot may pass to
      // any of them at once), and linger after the last viewer left.
      if (watched) rec.idle_since = now;
      else if (now - rec.idle_since > options_.relay_linger) lingered.push_back(name);
      if (beat) add_once(sync, rec.live);
      if (beat && watched) add_once(&kept->relayed, rec.live);
    } else if (beat) {
      kept->hosted.push_back(rec.name);
      if (watched && options_.role == NodeRole::kOrigin) add_once(sync, rec.live);
    }
  }
  for (auto& name : lingered) end_stream_locked(name, "no viewers left (relay linger)");
  if (now >= next_speaker_tick_) {
    next_speaker_tick_ = now + std::chrono::milliseconds(200);
    for (const auto& changes : directory_.on_tick(now)) apply_changes_locked(changes);
  }
}

}  // namespace strata::signaling
