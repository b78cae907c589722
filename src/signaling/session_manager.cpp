#include "signaling/session_manager.hpp"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "codecs/codec.hpp"
#include "common/random.hpp"
#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"
#include "signaling/negotiation.hpp"

namespace strata::signaling {

namespace {

ClusterLinkOptions cluster_link_options(const SessionManagerOptions& o, std::shared_ptr<const dtls::Certificate> cert) {
  ClusterLinkOptions c;
  c.role = o.role;
  c.node_id = o.node_id;
  c.region = o.region;
  c.http_url = o.http_url;
  c.public_ip = o.public_ip;
  c.cluster_secret = o.cluster_secret;
  c.certificate = std::move(cert);
  c.consent_timeout = o.consent_timeout;
  c.claim_ttl = o.claim_ttl;
  c.node_ttl = o.node_ttl;
  c.capacity = o.max_sessions;
  c.process_cpu_time = o.process_cpu_time;
  c.cpu_count = o.cpu_count;
  return c;
}

}  // namespace

SessionManager::SessionManager(worker::WorkerGroup& workers, std::shared_ptr<const dtls::Certificate> cert,
                               SessionManagerOptions options)
    : workers_(workers), cert_(std::move(cert)), options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : steady_clock_),
      cluster_(make_cluster_link(options_.registry, clock_, options_.http_request,
                                 cluster_link_options(options_, cert_))),
      sessions_per_worker_(size_t(workers.size()), 0),
      client_limiter_(options_.client_limits),
      directory_(room::Config{.max_hosts = options_.max_hosts, .max_slots = options_.max_hosts}) {}

SessionManager::~SessionManager() = default;

bool SessionManager::valid_stream_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// Sessions go to the worker with the fewest, so one popular stream's viewers spread over
// every core (its packets reach them through the rings).
int SessionManager::pick_worker_locked() const {
  int best = 0;
  for (int i = 1; i < int(sessions_per_worker_.size()); ++i) {
    if (sessions_per_worker_[size_t(i)] < sessions_per_worker_[size_t(best)]) best = i;
  }
  return best;
}

sdp::AnswerOptions SessionManager::answer_options(sdp::AnswerMode mode, int worker) const {
  sdp::AnswerOptions opts;
  opts.mode = mode;
  opts.ice_ufrag = random_ice_string(8);
  opts.ice_pwd = random_ice_string(24);
  opts.fingerprint_sha256 = cert_->fingerprint_sha256();
  opts.candidates = local_candidates(worker);
  return opts;
}

// Every advertised address on the worker's port (its socket takes all of them).
std::vector<sdp::Candidate> SessionManager::local_candidates(int worker) const {
  const uint16_t port = workers_.at(worker).port();
  std::vector<sdp::Candidate> out;
  for (const auto& c : options_.host_candidates) out.push_back({c.ip, port, c.priority, c.foundation});
  if (out.empty()) {
    auto one = ice::single_host_candidate(options_.public_ip);
    out.push_back({one.ip, port, one.priority, one.foundation});
  }
  return out;
}

transport::TransportConfig SessionManager::transport_config(const sdp::AnswerOptions& opts,
                                                            const sdp::Negotiated& negotiated) const {
  transport::TransportConfig c;
  c.local_ufrag = opts.ice_ufrag;
  c.local_pwd = opts.ice_pwd;
  c.remote_ufrag = negotiated.remote_ufrag;
  c.remote_pwd = negotiated.remote_pwd;  // keys the client-path verification (no amplification)
  c.dtls_role = negotiated.our_setup == sdp::Negotiated::Setup::kActive ? dtls::Role::kClient : dtls::Role::kServer;
  c.remote_fingerprint_algorithm = negotiated.remote_fingerprint_algorithm;
  c.remote_fingerprint = negotiated.remote_fingerprint;
  c.certificate = cert_;
  c.consent_timeout = options_.consent_timeout;
  c.previous_ice_generation_grace = options_.previous_ice_generation_grace;
  return c;
}

SessionManager::SessionRecord& SessionManager::add_session_locked(Kind kind, const std::string& stream, int worker) {
  SessionRecord s;
  s.id = next_id_++;
  s.public_id = random_hex(16);
  s.kind = kind;
  s.stream = stream;
  s.worker = worker;
  sessions_per_worker_[size_t(worker)]++;
  by_public_id_[s.public_id] = s.id;
  return sessions_[s.id] = std::move(s);
}

std::optional<ApiError> SessionManager::admit_client(const std::string& client) {
  std::lock_guard lock(mu_);
  auto refused = client_limiter_.admit(client, now());
  if (!refused) return std::nullopt;
  ++rejected_total_;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(refused->retry_after).count();
  const int retry = int(std::max<int64_t>(1, (ms + 999) / 1000));
  if (refused->rate) {
    ++client_rate_limited_total_;
    return ApiError{429, "too-many-requests", "this client opens new sessions too fast; retry later", retry};
  }
  ++client_session_cap_total_;
  return ApiError{429, "too-many-sessions",
                  "this client holds " + std::to_string(client_limiter_.sessions_of(client)) +
                      " sessions, the most one client may hold here",
                  retry};
}

void SessionManager::forget_session_locked(const SessionRecord& s) {
  sessions_per_worker_[size_t(s.worker)]--;
  by_public_id_.erase(s.public_id);
  client_limiter_.session_ended(s.client);
}

std::variant<SessionCreated, ApiError> SessionManager::publish(const std::string& stream, const std::string& offer_text,
                                                               const std::string& host_name, const std::string& client) {
  if (options_.role == NodeRole::kEdge)
    return ApiError{403, "wrong-role", "this node is an edge: hosts publish on origins (use the broker)"};
  const std::string host = host_name.empty() ? std::string(room::kDefaultHost) : host_name;
  if (!room::valid_host_name(host))
    return ApiError{400, "bad-host-name", "host names are 1-64 characters of A-Z a-z 0-9 '-' '_'"};
  if (auto refused = admit_client(client)) return *refused;
  auto offer = parse_offer(offer_text, max_media_sections(options_.max_hosts));
  if (auto* e = std::get_if<ApiError>(&offer)) return *e;
  // One host, one origin (docs/ARCHITECTURE.md, "Cluster"): claim the host's stream before
  // serving it; the claim makes the host name unique in the live across the cluster.
  const std::string key = source_key(stream, host);
  if (auto refused = cluster_->claim_stream(key)) return *refused;
  auto result = publish_claimed(stream, host, std::get<sdp::SessionDescription>(offer), client);
  if (std::holds_alternative<ApiError>(result)) {
    // Refused: give the name back, unless this host is live here (a second offer for it,
    // refused as host-taken, must not release the running host's claim).
    bool live_here = false;
    {
      std::lock_guard lock(mu_);
      live_here = find_source_locked(key) != nullptr;
    }
    if (!live_here) cluster_->release_stream(key);
  } else {
    cluster_->announce_stream(key);  // the live's other nodes pull the new host
  }
  return result;
}

std::variant<SessionManager::IceRestarted, ApiError> SessionManager::restart_ice(const std::string& public_id,
                                                                                 const std::string& remote_ufrag,
                                                                                 const std::string& remote_pwd) {
  if (remote_ufrag.empty() || remote_pwd.empty())
    return ApiError{400, "bad-sdpfrag", "an ICE restart needs both a=ice-ufrag and a=ice-pwd"};
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  IceRestarted r;
  {
    std::lock_guard lock(mu_);
    auto it = by_public_id_.find(public_id);
    if (it == by_public_id_.end()) return ApiError{404, "unknown-session", "no session with this id on this server"};
    const SessionRecord& s = sessions_.at(it->second);
    r = IceRestarted{random_ice_string(8), random_ice_string(24), local_candidates(s.worker), "\"" + random_hex(12) + "\""};
    uint64_t id = s.id;
    workers_.at(s.worker).post([id, r, remote_ufrag, remote_pwd, applied](worker::Worker& wk) {
      if (auto* t = wk.find<worker::TransportSession>(id))
        t->restart_ice(r.ice_ufrag, r.ice_pwd, remote_ufrag, remote_pwd);
      applied->set_value();
    });
  }
  // Answer only once the worker knows the new credentials: the client's first checks with
  // them may arrive right after our answer (without the lock: the worker may need it).
  if (done.wait_for(std::chrono::seconds(1)) != std::future_status::ready)
    return ApiError{503, "worker-busy", "the media worker did not apply the ICE restart in time; retry", 1};
  return r;
}

// The host's worker feeds a worker's ring from its first viewer or relay of the stream on,
// and stops with the last one.
void SessionManager::subscribe_to_stream_locked(StreamRecord& rec, int w) {
  if (rec.viewers_per_worker[w]++ == 0 && w != rec.publisher_worker) {
    uint64_t source = rec.id;
    workers_.at(rec.publisher_worker).post([source, w](worker::Worker& wk) { wk.set_remote_subscriber(source, w, true); });
  }
}

void SessionManager::unsubscribe_from_stream_locked(StreamRecord& rec, int w) {
  int& n = rec.viewers_per_worker[w];
  if (n > 0 && --n == 0 && w != rec.publisher_worker) {
    uint64_t source = rec.id;
    workers_.at(rec.publisher_worker).post([source, w](worker::Worker& wk) { wk.set_remote_subscriber(source, w, false); });
  }
}

bool SessionManager::has_session(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  return by_public_id_.count(session_id) > 0;
}

std::optional<std::string> SessionManager::session_live(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  auto it = by_public_id_.find(session_id);
  if (it == by_public_id_.end()) return std::nullopt;
  const SessionRecord& s = sessions_.at(it->second);
  if (s.kind != Kind::kPublisher && s.kind != Kind::kViewer) return std::nullopt;
  return s.live;
}

size_t SessionManager::end_live(const std::string& live) {
  std::lock_guard lock(mu_);
  std::vector<std::string> hosts;
  std::vector<uint64_t> viewers;
  for (const auto& [id, s] : sessions_) {
    if (s.live != live) continue;
    if (s.kind == Kind::kPublisher) hosts.push_back(s.stream);
    if (s.kind == Kind::kViewer) viewers.push_back(id);
  }
  const size_t ended = hosts.size() + viewers.size();
  // Viewers first, so each gets its RTCP BYE once (an edge has the live's viewers and no
  // host; an origin its hosts and their co-host viewers).
  for (uint64_t v : viewers) remove_viewer_locked(v);
  for (const std::string& stream : hosts) end_stream_locked(stream, "ended by an admin");
  spdlog::info("admin: live '{}' ended here ({} sessions)", live, ended);
  return ended;
}

bool SessionManager::end_session(const std::string& public_id) {
  std::lock_guard lock(mu_);
  auto it = by_public_id_.find(public_id);
  if (it == by_public_id_.end()) return false;
  auto& s = sessions_.at(it->second);
  if (s.kind == Kind::kPublisher || s.kind == Kind::kRelayIngest) {
    end_stream_locked(s.stream, "host ended the stream");
  } else {
    remove_viewer_locked(s.id);
  }
  return true;
}

// A viewer (its slots let go of their hosts) or an edge's relay on this origin.
void SessionManager::remove_viewer_locked(uint64_t viewer_id) {
  auto sit = sessions_.find(viewer_id);
  if (sit == sessions_.end()) return;
  if (sit->second.kind == Kind::kViewer) {
    apply_changes_locked(directory_.remove_viewer(viewer_id));
  } else if (auto st = streams_.find(sit->second.stream); st != streams_.end()) {
    std::erase(st->second.relays, viewer_id);
    unsubscribe_from_stream_locked(st->second, sit->second.worker);
  }
  const SessionRecord& s = sit->second;
  close_events_locked(viewer_id);
  workers_.at(s.worker).post([viewer_id](worker::Worker& wk) { wk.remove_session(viewer_id); });
  forget_session_locked(s);
  sessions_.erase(sit);
}

// A host leaves its live. While other hosts stay, its slots pass to the next host not
// shown (or go empty); with the last host the live ends: every viewer gets RTCP BYE and its
// session closes, then the publisher's.
void SessionManager::end_stream_locked(const std::string& name, const char* reason) {
  auto st = streams_.find(name);
  if (st == streams_.end()) return;
  StreamRecord& rec = st->second;
  const std::string live = rec.live;
  for (uint64_t r : std::vector<uint64_t>(rec.relays)) remove_viewer_locked(r);
  room::Changes changes = directory_.remove_host(rec.id);
  auto snap = directory_.snapshot(live);
  const bool last_host = !snap || snap->hosts.empty();
  spdlog::info("host '{}' left live '{}' ({}){}", rec.host, live, reason,
               last_host ? ": the live ended, closing its viewers" : "");
  // Slots first (handed on or emptied, and the event says so), then, with the last host,
  // the viewers go.
  apply_changes_locked(changes);
  if (last_host) end_live_viewers_locked(live);
  if (!rec.relayed) cluster_->queue_stream_ended(rec.name);  // sent by poll(), without mu_
  uint64_t pub = rec.publisher;
  if (auto sit = sessions_.find(pub); sit != sessions_.end()) {
    close_events_locked(pub);
    workers_.at(sit->second.worker).post([pub](worker::Worker& wk) { wk.remove_session(pub); });
    forget_session_locked(sit->second);
    sessions_.erase(sit);
  }
  streams_.erase(st);
}

// Kept in the stream's track info so relays to edges can name every layer's SSRC.
void SessionManager::on_layer_ssrc_learned(uint64_t session_id, uint32_t track, int layer, uint32_t ssrc, bool rtx) {
  std::lock_guard lock(mu_);
  auto s = sessions_.find(session_id);
  if (s == sessions_.end()) return;
  auto st = streams_.find(s->second.stream);
  if (st == streams_.end() || st->second.publisher != session_id || track >= st->second.tracks.size()) return;
  sfu::IngestTrackInfo& t = st->second.tracks[track];
  if (layer < 0 || size_t(layer) >= std::max<size_t>(t.rids.size(), 1)) return;
  auto& v = rtx ? t.layer_rtx_ssrcs : t.layer_ssrcs;
  if (v.size() < t.rids.size()) v.resize(t.rids.size(), 0);
  v[size_t(layer)] = ssrc;
}

void SessionManager::on_session_connected(uint64_t session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  it->second.connected = true;
  spdlog::info("session {} connected (ICE + DTLS up)", it->second.public_id);
  if (it->second.kind == Kind::kPublisher) notify_live_locked(it->second.live);  // the host is live now
}

void SessionManager::on_session_ended(uint64_t session_id, std::string reason) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  spdlog::info("session {} ended: {}", it->second.public_id, reason);
  if (it->second.kind == Kind::kPublisher || it->second.kind == Kind::kRelayIngest) {
    end_stream_locked(it->second.stream, reason.c_str());
  } else {
    remove_viewer_locked(session_id);
  }
}

size_t SessionManager::client_sessions_locked() const {
  return size_t(std::count_if(sessions_.begin(), sessions_.end(), [](const auto& kv) {
    return kv.second.kind == Kind::kPublisher || kv.second.kind == Kind::kViewer;
  }));
}

size_t SessionManager::session_count() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

DirectoryView SessionManager::directory_view() const {
  std::lock_guard lock(mu_);
  DirectoryView view;
  const Timestamp now = this->now();
  for (auto& [name, rec] : streams_) {
    StreamView& s = view.streams.emplace_back();
    s.name = rec.live;
    s.host = rec.host;
    s.tracks = rec.tracks;
    auto pub = sessions_.find(rec.publisher);
    if (pub != sessions_.end()) {
      s.publisher_session = pub->second.public_id;
      s.publisher_connected = pub->second.connected;
    }
    s.publisher_worker = rec.publisher_worker;
    s.viewers = rec.viewers.size();
    s.relays = rec.relays.size();
    s.relayed = rec.relayed;
    s.uptime = now - rec.started;
    s.viewer_layers = viewer_layers_locked(rec);
  }
  for (auto& [id, s] : sessions_) {
    if (s.kind == Kind::kPublisher) ++view.publishers;
    if (s.kind == Kind::kViewer) ++view.viewers;
    if (s.kind == Kind::kRelaySend) ++view.relays_out;
    if (s.kind == Kind::kRelayIngest) ++view.relays_in;
  }
  view.publishes_total = publishes_total_;
  view.views_total = views_total_;
  view.rejected_total = rejected_total_;
  view.client_rate_limited_total = client_rate_limited_total_;
  view.client_session_cap_total = client_session_cap_total_;
  return view;
}

SlotLayerView slot_layer_view(const sfu::SlotLayerStats& st) {
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  return {get(st.current), get(st.target), get(st.requested), get(st.temporal), get(st.switches), get(st.share_bps),
          get(st.layer_bps)};
}

std::vector<ViewerLayerView> SessionManager::viewer_layers_locked(const StreamRecord& rec) const {
  std::vector<ViewerLayerView> out;
  for (uint64_t id : rec.viewers) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !it->second.layer_stats) continue;
    const SessionRecord& viewer = it->second;
    const sfu::ViewerLayerStats& st = *viewer.layer_stats;
    // The slot showing this host: its selector's choice, not the session's first slot.
    for (size_t i = 0; i < viewer.slots.size(); ++i) {
      if (viewer.slots[i].host != rec.host) continue;
      const sfu::SlotLayerStats* slot = st.slot(i);
      if (slot == nullptr) continue;
      out.push_back({viewer.public_id, int(i), viewer.slots[i].video_mid, slot_layer_view(*slot),
                     st.estimate_bps.load(std::memory_order_relaxed), st.probes.load(std::memory_order_relaxed)});
    }
  }
  return out;
}

}  // namespace strata::signaling
