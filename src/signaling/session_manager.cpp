#include "signaling/session_manager.hpp"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "codecs/codec.hpp"
#include "common/random.hpp"
#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"

namespace strata::signaling {

namespace {

sfu::MediaKind media_kind(sdp::MediaKind k) {
  return k == sdp::MediaKind::kAudio ? sfu::MediaKind::kAudio : sfu::MediaKind::kVideo;
}

sfu::CodecParams codec_params(const sdp::NegotiatedCodec& c) {
  sfu::CodecParams p;
  p.payload_type = c.payload_type;
  p.rtx_payload_type = c.rtx_payload_type;
  p.name = c.name;
  p.clock_rate = c.clock_rate;
  p.channels = c.channels;
  p.fmtp = c.fmtp;
  p.codec = codecs::codec_from_name(c.name);
  p.nack = c.nack;
  p.pli = c.nack_pli;
  p.fir = c.ccm_fir;
  return p;
}

rtp::HeaderExtensionIds extension_ids(const sdp::ExtensionIds& e) {
  rtp::HeaderExtensionIds ids;
  ids.mid = e.mid;
  ids.rid = e.rid;
  ids.repaired_rid = e.repaired_rid;
  ids.abs_send_time = e.abs_send_time;
  ids.transport_cc = e.transport_cc;
  ids.audio_level = e.audio_level;
  return ids;
}

ApiError offer_parse_error(const std::string& detail) { return ApiError{400, "bad-sdp", "the offer does not parse: " + detail}; }

}  // namespace

SessionManager::SessionManager(worker::WorkerGroup& workers, std::shared_ptr<const dtls::Certificate> cert,
                               SessionManagerOptions options)
    : workers_(workers), cert_(std::move(cert)), options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : steady_clock_),
      cpu_load_(options_.cpu_count ? options_.cpu_count : strata::cpu_count()),
      sessions_per_worker_(size_t(workers.size()), 0) {
  if (!options_.process_cpu_time) options_.process_cpu_time = process_cpu_time;
}

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

static std::variant<sdp::SessionDescription, ApiError> parse_offer(const std::string& offer) {
  if (offer.empty()) return ApiError{400, "bad-sdp", "the request body is empty; expected an SDP offer"};
  auto parsed = sdp::parse(offer);
  if (auto* e = std::get_if<sdp::ParseError>(&parsed)) return offer_parse_error(e->detail);
  return std::get<sdp::SessionDescription>(std::move(parsed));
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

// One m-line of the host's offer becomes one ingest track.
static sfu::IngestTrackInfo ingest_track(const sdp::NegotiatedMedia& m, uint32_t index) {
  sfu::IngestTrackInfo t;
  t.index = index;
  t.mid = m.mid;
  t.kind = media_kind(m.kind);
  t.codec = codec_params(m.codecs[0]);
  t.rids = m.rids;
  t.ssrcs = m.remote_ssrcs;
  t.rtx_ssrc = m.remote_rtx_ssrc;
  t.extensions = extension_ids(m.extensions);
  return t;
}

std::variant<SessionCreated, ApiError> SessionManager::publish(const std::string& stream, const std::string& offer_text) {
  if (options_.role == NodeRole::kEdge)
    return ApiError{403, "wrong-role", "this node is an edge: hosts publish on origins (use the broker)"};
  auto offer = parse_offer(offer_text);
  if (auto* e = std::get_if<ApiError>(&offer)) return *e;
  // One stream, one origin (docs/ARCHITECTURE.md, "Cluster"): claim it in the registry before serving it.
  registry::StreamClaim claim{stream, options_.node_id, options_.region, options_.http_url};
  if (options_.registry) {
    auto r = options_.registry->claim_stream(claim, options_.claim_ttl);
    if (r == registry::ClaimResult::kError)
      return ApiError{503, "registry-unavailable", "the cluster registry is unreachable; retry shortly", 2};
    if (r == registry::ClaimResult::kTaken)
      return ApiError{409, "stream-exists", "stream '" + stream + "' is already live on another origin"};
  }
  auto result = publish_claimed(stream, std::get<sdp::SessionDescription>(offer));
  if (options_.registry && std::holds_alternative<ApiError>(result) &&
      std::get<ApiError>(result).error != "stream-exists") {
    options_.registry->release_claim(claim);
  } else if (options_.registry && std::holds_alternative<SessionCreated>(result)) {
    // Edges still relaying this stream from an origin that died re-attach here at once
    // instead of at their next claim re-read (docs/ARCHITECTURE.md, "Cluster", failures).
    options_.registry->publish({registry::Event::Kind::kStreamMoved, stream, options_.node_id});
  }
  return result;
}

std::variant<SessionCreated, ApiError> SessionManager::publish_claimed(const std::string& stream,
                                                                       const sdp::SessionDescription& offer) {
  std::lock_guard lock(mu_);
  if (sessions_.size() >= options_.max_sessions)
    return ApiError{503, "overloaded", "this server has no capacity for another session", 5};
  if (streams_.count(stream)) {
    ++rejected_total_;
    return ApiError{409, "stream-exists", "stream '" + stream + "' already has a host publishing"};
  }
  int w = pick_worker_locked();
  sdp::AnswerOptions opts = answer_options(sdp::AnswerMode::kReceive, w);
  auto result = sdp::create_answer(offer, opts);
  if (auto* e = std::get_if<sdp::AnswerError>(&result)) {
    ++rejected_total_;
    return ApiError{e->http_status, e->error, e->detail};
  }
  auto& [answer, negotiated] = std::get<0>(result);

  StreamRecord rec;
  rec.id = next_id_++;
  rec.name = stream;
  for (auto& m : negotiated.media) {
    bool av = m.kind == sdp::MediaKind::kAudio || m.kind == sdp::MediaKind::kVideo;
    if (!m.rejected && !m.codecs.empty() && av) rec.tracks.push_back(ingest_track(m, uint32_t(rec.tracks.size())));
  }
  if (rec.tracks.empty()) {
    ++rejected_total_;
    return ApiError{400, "no-media", "the offer has no audio or video the server can receive"};
  }

  // A previous stream of this name may have queued its claim release and end event; they
  // must not hit the new stream's claim.
  std::erase(pending_releases_, stream);
  std::erase_if(pending_events_, [&](const registry::Event& e) { return e.stream == stream; });
  SessionRecord& s = add_session_locked(Kind::kPublisher, stream, w);
  rec.publisher = s.id;
  rec.publisher_worker = w;
  rec.started = now();
  uint64_t sid = s.id, stream_id = rec.id;
  workers_.at(w).post([this, sid, stream_id, config = transport_config(opts, negotiated), tracks = rec.tracks,
                       ufrag = opts.ice_ufrag](worker::Worker& wk) mutable {
    wk.add_session(std::make_unique<worker::PublisherSession>(wk, sid, stream_id, std::move(config), std::move(tracks), *this),
                   ufrag);
  });
  SessionCreated created{s.public_id, answer, "\"" + random_hex(12) + "\""};
  spdlog::info("whip: stream '{}' published, session {} on worker {} ({} tracks)", stream, created.session_id, w,
               rec.tracks.size());
  streams_[stream] = std::move(rec);
  ++publishes_total_;
  return created;
}

// What the viewer is offered: the host's tracks with their codecs and our SSRCs.
static std::vector<sdp::SendTrack> send_tracks(const std::vector<sfu::IngestTrackInfo>& tracks, const std::string& stream,
                                               const std::string& cname) {
  std::vector<sdp::SendTrack> out;
  for (auto& t : tracks) {
    sdp::SendTrack st;
    st.kind = t.kind == sfu::MediaKind::kAudio ? sdp::MediaKind::kAudio : sdp::MediaKind::kVideo;
    st.ssrc = random_u32();
    st.rtx_ssrc = t.kind == sfu::MediaKind::kVideo ? random_u32() : 0;
    st.cname = cname;
    st.stream_id = stream;
    st.track_id = std::string(sfu::to_string(t.kind)) + "-" + std::to_string(t.index);
    st.codec = sdp::Codec{t.codec.name, t.codec.clock_rate, t.codec.channels, t.codec.fmtp};
    out.push_back(std::move(st));
  }
  return out;
}

// Each accepted m-line of the viewer's answer becomes one egress track fed by a host track.
static std::vector<sfu::EgressTrackInfo> egress_tracks(const sdp::Negotiated& negotiated,
                                                       const std::vector<sdp::SendTrack>& offered,
                                                       const std::vector<sfu::IngestTrackInfo>& sources,
                                                       const std::string& cname) {
  std::vector<sfu::EgressTrackInfo> egress;
  for (auto& m : negotiated.media) {
    if (m.rejected || !m.send_track || m.codecs.empty()) continue;
    for (size_t i = 0; i < offered.size(); ++i) {
      if (offered[i].ssrc != m.send_track->ssrc) continue;
      sfu::EgressTrackInfo e;
      e.source_track = sources[i].index;
      e.mid = m.mid;
      e.kind = sources[i].kind;
      e.codec = codec_params(m.codecs[0]);
      e.codec.codec = sources[i].codec.codec;
      e.ssrc = m.send_track->ssrc;
      e.rtx_ssrc = m.send_track->rtx_ssrc;
      e.cname = cname;
      e.transport_cc_ext = m.codecs[0].transport_cc ? m.extensions.transport_cc : 0;
      egress.push_back(std::move(e));
    }
  }
  return egress;
}

// Index of rid `layer` among the stream's simulcast encodings; -1 for "" or "auto" (no
// cap: the downlink estimate alone decides).
static std::variant<int, ApiError> layer_index(const std::vector<sfu::IngestTrackInfo>& tracks, const std::string& layer) {
  if (layer.empty() || layer == "auto") return -1;
  std::string known;
  for (auto& t : tracks) {
    for (size_t i = 0; i < t.rids.size(); ++i) {
      if (t.rids[i] == layer) return int(i);
      known += (known.empty() ? "" : ", ") + t.rids[i];
    }
  }
  if (known.empty()) return -1;  // not simulcast: there is one layer, the viewer gets it
  return ApiError{400, "unknown-layer", "layer '" + layer + "' is not one of this stream's: " + known};
}

std::variant<SessionCreated, ApiError> SessionManager::view(const std::string& stream, const std::string& offer_text,
                                                            const std::string& layer) {
  if (options_.role == NodeRole::kOrigin)
    return ApiError{403, "wrong-role", "this node is an origin: viewers watch on edges (use the broker)"};
  auto offer = parse_offer(offer_text);
  if (auto* e = std::get_if<ApiError>(&offer)) return *e;
  if (options_.role == NodeRole::kEdge) {
    if (auto e = ensure_relay(stream)) return *e;
  }

  std::lock_guard lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    ++rejected_total_;
    return ApiError{409, "stream-not-live", "stream '" + stream + "' is not live yet; retry later", 2};
  }
  if (sessions_.size() >= options_.max_sessions)
    return ApiError{503, "overloaded", "this server has no capacity for another session", 5};
  StreamRecord& rec = it->second;
  int w = pick_worker_locked();
  sdp::AnswerOptions opts = answer_options(sdp::AnswerMode::kSend, w);
  std::string cname = random_hex(16);
  opts.send_tracks = send_tracks(rec.tracks, stream, cname);
  auto result = sdp::create_answer(std::get<sdp::SessionDescription>(offer), opts);
  if (auto* e = std::get_if<sdp::AnswerError>(&result)) {
    ++rejected_total_;
    return ApiError{e->http_status, e->error, e->detail};
  }
  auto& [answer, negotiated] = std::get<0>(result);
  auto max_layer = layer_index(rec.tracks, layer);
  if (auto* e = std::get_if<ApiError>(&max_layer)) return *e;
  auto egress = egress_tracks(negotiated, opts.send_tracks, rec.tracks, cname);
  for (auto& e : egress) {
    e.source_layers = uint32_t(std::max<size_t>(1, rec.tracks[e.source_track].rids.size()));
    e.max_layer = std::get<int>(max_layer);
  }
  if (egress.empty()) {
    ++rejected_total_;
    return ApiError{400, "no-common-codec", "the offer accepts none of the stream's tracks"};
  }

  SessionRecord& s = add_session_locked(Kind::kViewer, stream, w);
  s.layer_stats = std::make_shared<sfu::ViewerLayerStats>();
  uint64_t sid = s.id, stream_id = rec.id;
  size_t track_count = egress.size();
  worker::UpstreamRef up{rec.publisher_worker, rec.publisher};
  workers_.at(w).post([this, sid, stream_id, up, config = transport_config(opts, negotiated), egress = std::move(egress),
                       ufrag = opts.ice_ufrag, stats = s.layer_stats](worker::Worker& wk) mutable {
    auto session = std::make_unique<worker::ViewerSession>(wk, sid, stream_id, up, std::move(config), std::move(egress),
                                                           *this, std::move(stats));
    worker::ViewerSession* raw = session.get();
    wk.add_session(std::move(session), ufrag);
    // A simulcast viewer chooses its own layer, so it takes every layer.
    if (raw->selects_layers()) {
      wk.subscribe_local_all_layers(stream_id, raw);
    } else {
      wk.subscribe_local(stream_id, raw);
    }
  });
  subscribe_to_stream_locked(rec, w);
  rec.viewers.push_back(s.id);
  SessionCreated created{s.public_id, answer, "\"" + random_hex(12) + "\""};
  spdlog::info("whep: viewer session {} of '{}' on worker {} ({} tracks)", created.session_id, stream, w, track_count);
  ++views_total_;
  return created;
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
    workers_.at(s.worker).post([id, r, remote_ufrag, applied](worker::Worker& wk) {
      if (auto* t = wk.find<worker::TransportSession>(id))
        t->restart_ice(r.ice_ufrag, r.ice_pwd, remote_ufrag);
      applied->set_value();
    });
  }
  // Answer only once the worker knows the new credentials: the client's first checks with
  // them may arrive right after our answer (without the lock: the worker may need it).
  if (done.wait_for(std::chrono::seconds(1)) != std::future_status::ready)
    return ApiError{503, "worker-busy", "the media worker did not apply the ICE restart in time; retry", 1};
  return r;
}

// The host's worker feeds a worker's ring from its first viewer or relay of the stream on.
void SessionManager::subscribe_to_stream_locked(StreamRecord& rec, int w) {
  if (rec.viewers_per_worker[w]++ == 0 && w != rec.publisher_worker) {
    uint64_t stream_id = rec.id;
    workers_.at(rec.publisher_worker).post([stream_id, w](worker::Worker& wk) { wk.set_remote_subscriber(stream_id, w, true); });
  }
}

std::optional<ApiError> SessionManager::set_layer(const std::string& public_id, const std::string& layer) {
  std::lock_guard lock(mu_);
  auto it = by_public_id_.find(public_id);
  if (it == by_public_id_.end()) return ApiError{404, "unknown-session", "no session with this id on this server"};
  const SessionRecord& s = sessions_.at(it->second);
  if (s.kind != Kind::kViewer) return ApiError{400, "not-a-viewer", "only viewer (WHEP) sessions choose a layer"};
  auto st = streams_.find(s.stream);
  if (st == streams_.end()) return ApiError{404, "unknown-stream", "the session's stream has ended"};
  if (layer.empty()) return ApiError{400, "bad-layer", "expected JSON {\"layer\": \"<rid>\"}"};
  auto index = layer_index(st->second.tracks, layer);
  if (auto* e = std::get_if<ApiError>(&index)) return *e;
  uint64_t id = s.id;
  int max_layer = std::get<int>(index);
  workers_.at(s.worker).post([id, max_layer](worker::Worker& wk) {
    if (auto* v = wk.find<worker::ViewerSession>(id)) v->set_max_layer(max_layer);
  });
  return std::nullopt;
}

bool SessionManager::has_session(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  return by_public_id_.count(session_id) > 0;
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

void SessionManager::remove_viewer_locked(uint64_t viewer_id) {
  auto sit = sessions_.find(viewer_id);
  if (sit == sessions_.end()) return;
  SessionRecord s = sit->second;
  auto st = streams_.find(s.stream);
  if (st != streams_.end()) {
    StreamRecord& rec = st->second;
    std::erase(rec.viewers, viewer_id);
    std::erase(rec.relays, viewer_id);
    if (rec.relayed && rec.viewers.empty()) rec.idle_since = now();
    int& n = rec.viewers_per_worker[s.worker];
    if (--n == 0 && s.worker != rec.publisher_worker) {
      uint64_t stream_id = rec.id;
      int w = s.worker;
      workers_.at(rec.publisher_worker).post([stream_id, w](worker::Worker& wk) { wk.set_remote_subscriber(stream_id, w, false); });
    }
  }
  workers_.at(s.worker).post([viewer_id](worker::Worker& wk) { wk.remove_session(viewer_id); });
  sessions_per_worker_[size_t(s.worker)]--;
  by_public_id_.erase(s.public_id);
  sessions_.erase(viewer_id);
}

// The host is gone: every viewer gets RTCP BYE and its session closes, then the publisher's.
void SessionManager::end_stream_locked(const std::string& name, const char* reason) {
  auto st = streams_.find(name);
  if (st == streams_.end()) return;
  spdlog::info("stream '{}' ended ({}): closing {} viewers", name, reason, st->second.viewers.size());
  auto viewers = st->second.viewers;
  viewers.insert(viewers.end(), st->second.relays.begin(), st->second.relays.end());
  for (uint64_t v : viewers) remove_viewer_locked(v);
  if (options_.registry && !st->second.relayed) {
    // Origin: give the name back and tell the edges at once (they also see the relay close).
    pending_releases_.push_back(name);
    pending_events_.push_back(registry::Event{registry::Event::Kind::kStreamEnded, name, options_.node_id});
  }
  uint64_t pub = st->second.publisher;
  auto sit = sessions_.find(pub);
  if (sit != sessions_.end()) {
    workers_.at(sit->second.worker).post([pub](worker::Worker& wk) { wk.remove_session(pub); });
    sessions_per_worker_[size_t(sit->second.worker)]--;
    by_public_id_.erase(sit->second.public_id);
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
    s.name = name;
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
  return view;
}

std::vector<ViewerLayerView> SessionManager::viewer_layers_locked(const StreamRecord& rec) const {
  std::vector<ViewerLayerView> out;
  for (uint64_t id : rec.viewers) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !it->second.layer_stats) continue;
    const sfu::ViewerLayerStats& st = *it->second.layer_stats;
    auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
    out.push_back({it->second.public_id, get(st.current), get(st.target), get(st.requested), get(st.temporal),
                   get(st.estimate_bps), get(st.switches), get(st.probes)});
  }
  return out;
}

}  // namespace strata::signaling
