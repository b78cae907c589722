// SessionManager, lives half: hosts going live in a live, viewers and their slots, the
// rewiring of fan-out when a slot changes hands, and the live's events. The directory
// (room::LiveDirectory) decides; this file carries its decisions out on the workers.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/random.hpp"
#include "http/message.hpp"
#include "signaling/negotiation.hpp"
#include "signaling/session_manager.hpp"
#include "signaling/track_json.hpp"

namespace strata::signaling {

namespace {

ApiError room_error(const room::Error& e) {
  switch (e.code) {
    case room::ErrorCode::kHostTaken:
    case room::ErrorCode::kTooManyHosts: return ApiError{409, room::to_string(e.code), e.detail};
    case room::ErrorCode::kUnknownHost: return ApiError{404, "unknown-host", e.detail};
    case room::ErrorCode::kBadSlotCount: return ApiError{400, "too-many-slots", e.detail};
    case room::ErrorCode::kBadHostName: return ApiError{400, "bad-host-name", e.detail};
    case room::ErrorCode::kSessionInUse: break;
  }
  return ApiError{500, room::to_string(e.code), e.detail};
}

const sfu::IngestTrackInfo* first_track(const std::vector<sfu::IngestTrackInfo>& tracks, sfu::MediaKind kind) {
  for (auto& t : tracks) {
    if (t.kind == kind) return &t;
  }
  return nullptr;
}

const sfu::IngestTrackInfo* first_track(const std::vector<const sfu::IngestTrackInfo*>& tracks, sfu::MediaKind kind) {
  for (auto* t : tracks) {
    if (t->kind == kind) return t;
  }
  return nullptr;
}

std::string filter_text(const room::ViewerFilter& f) {
  switch (f.kind) {
    case room::ViewerFilter::Kind::kAll: return "all";
    case room::ViewerFilter::Kind::kOnly: return "only:" + f.host;
    case room::ViewerFilter::Kind::kExclude: return "exclude:" + f.host;
  }
  return "all";
}

// The slots of a viewer's offer: its video m-lines (one slot each), or its audio m-lines
// when it offers no video (an audio-only player).
size_t slot_count(const sdp::SessionDescription& offer) {
  size_t video = 0, audio = 0;
  for (const auto& m : offer.media) {
    if (m.port == 0) continue;  // rejected by the offerer itself
    if (m.kind == sdp::MediaKind::kVideo) ++video;
    if (m.kind == sdp::MediaKind::kAudio) ++audio;
  }
  return video ? video : audio;
}

// Index of rid `layer` among any host's simulcast encodings; -1 for "" or "auto" (no cap:
// the downlink estimate alone decides) and for a live without simulcast.
std::variant<int, ApiError> layer_index(const std::vector<const sfu::IngestTrackInfo*>& tracks, const std::string& layer) {
  if (layer.empty() || layer == "auto") return -1;
  std::string known;
  for (auto* t : tracks) {
    for (size_t i = 0; i < t->rids.size(); ++i) {
      if (t->rids[i] == layer) return int(i);
      if (known.find(t->rids[i]) == std::string::npos) known += (known.empty() ? "" : ", ") + t->rids[i];
    }
  }
  if (known.empty()) return -1;  // not simulcast: there is one layer, the viewer gets it
  return ApiError{400, "unknown-layer", "layer '" + layer + "' is not one of this live's: " + known};
}

}  // namespace

std::string SessionManager::source_key(std::string_view live, std::string_view host) {
  // '/' is in neither name, so the key is unambiguous, and a live's hosts sort together. It
  // is also the host's stream name in the registry (its claim, relays and events).
  return registry::host_stream(live, host);
}

SessionManager::StreamRecord* SessionManager::find_source_locked(std::string_view live, std::string_view host) {
  auto it = streams_.find(source_key(live, host));
  return it == streams_.end() ? nullptr : &it->second;
}

SessionManager::StreamRecord* SessionManager::find_source_locked(std::string_view stream_key) {
  auto it = streams_.find(std::string(stream_key));
  return it == streams_.end() ? nullptr : &it->second;
}

size_t SessionManager::live_viewer_count_locked(const std::string& live) const { return directory_.viewer_count(live); }

// A slot shows the host's first video and first audio track.
worker::SlotSource SessionManager::slot_source(const StreamRecord& rec) const {
  worker::SlotSource src;
  src.source = rec.id;
  src.upstream = worker::UpstreamRef{rec.publisher_worker, rec.publisher};
  if (auto* v = first_track(rec.tracks, sfu::MediaKind::kVideo)) {
    src.video_track = v->index;
    src.video_layers = uint32_t(std::max<size_t>(1, v->rids.size()));
  }
  if (auto* a = first_track(rec.tracks, sfu::MediaKind::kAudio)) src.audio_track = a->index;
  return src;
}

std::vector<const sfu::IngestTrackInfo*> SessionManager::live_tracks_locked(const std::string& live) const {
  std::vector<const sfu::IngestTrackInfo*> out;
  auto snap = directory_.snapshot(live);
  if (!snap) return out;
  for (const auto& h : snap->hosts) {
    auto it = streams_.find(source_key(live, h.name));
    if (it == streams_.end()) continue;
    for (auto& t : it->second.tracks) out.push_back(&t);
  }
  return out;
}

// Every slot of every viewer of a live is negotiated with the live's codecs (its first
// video and audio track in join order, as view() does): a later host must send the same,
// or no viewer could show it.
std::optional<ApiError> SessionManager::check_host_codecs_locked(const std::string& live,
                                                                 const std::vector<sfu::IngestTrackInfo>& tracks) const {
  const auto live_tracks = live_tracks_locked(live);
  for (sfu::MediaKind kind : {sfu::MediaKind::kVideo, sfu::MediaKind::kAudio}) {
    auto* mine = first_track(tracks, kind);
    auto* theirs = first_track(live_tracks, kind);
    if (mine && theirs && !http::iequals(mine->codec.name, theirs->codec.name))
      return ApiError{409, "codec-mismatch",
                      std::string("the live's ") + sfu::to_string(kind) + " is " + theirs->codec.name +
                          "; this offer sends " + mine->codec.name};
  }
  return std::nullopt;
}

std::variant<SessionCreated, ApiError> SessionManager::publish_claimed(const std::string& live, const std::string& host,
                                                                       const sdp::SessionDescription& offer,
                                                                       const std::string& client) {
  std::lock_guard lock(mu_);
  if (client_sessions_locked() >= options_.max_sessions)
    return ApiError{503, "overloaded", "this server has no capacity for another session", 5};
  if (find_source_locked(live, host)) {
    ++rejected_total_;
    return ApiError{409, "host-taken", "host '" + host + "' is already live in '" + live + "'"};
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
  for (auto& m : negotiated.media) {
    bool av = m.kind == sdp::MediaKind::kAudio || m.kind == sdp::MediaKind::kVideo;
    if (!m.rejected && !m.codecs.empty() && av) rec.tracks.push_back(ingest_track(m, uint32_t(rec.tracks.size())));
  }
  if (rec.tracks.empty()) {
    ++rejected_total_;
    return ApiError{400, "no-media", "the offer has no audio or video the server can receive"};
  }
  if (auto e = check_host_codecs_locked(live, rec.tracks)) {
    ++rejected_total_;
    return *e;
  }
  rec.id = next_id_++;
  auto joined = directory_.add_host(live, host, rec.id, now());
  if (auto* e = std::get_if<room::Error>(&joined)) {
    ++rejected_total_;
    return room_error(*e);
  }
  // A previous run of this host may have queued its claim release and end event; they
  // must not hit the new run's claim.
  cluster_->cancel_queued(source_key(live, host));
  rec.name = source_key(live, host);
  rec.live = live;
  rec.host = host;
  SessionRecord& s = add_session_locked(Kind::kPublisher, rec.name, w);
  s.live = live;
  s.client = client;
  client_limiter_.session_started(client);
  rec.publisher = s.id;
  rec.publisher_worker = w;
  rec.started = now();
  uint64_t sid = s.id, source = rec.id;
  workers_.at(w).post([this, sid, source, config = transport_config(opts, negotiated), tracks = rec.tracks,
                       ufrag = opts.ice_ufrag](worker::Worker& wk) mutable {
    wk.add_session(std::make_unique<worker::PublisherSession>(wk, sid, source, std::move(config), std::move(tracks), *this),
                   ufrag);
  });
  SessionCreated created{s.public_id, answer, "\"" + random_hex(12) + "\""};
  spdlog::info("whip: host '{}' live in '{}', session {} on worker {} ({} tracks)", host, live, created.session_id, w,
               rec.tracks.size());
  const std::string key = rec.name;
  streams_[key] = std::move(rec);
  ++publishes_total_;
  apply_changes_locked(std::get<room::Changes>(joined));
  return created;
}

std::variant<SessionCreated, ApiError> SessionManager::view(const std::string& live, const std::string& offer_text,
                                                            const ViewOptions& options) {
  if (options.host && options.exclude)
    return ApiError{400, "bad-filter", "give ?host= (watch one host) or ?exclude= (all but one), not both"};
  room::ViewerFilter filter = options.host      ? room::ViewerFilter::only(*options.host)
                              : options.exclude ? room::ViewerFilter::exclude(*options.exclude)
                                                : room::ViewerFilter::all();
  if (filter.kind != room::ViewerFilter::Kind::kAll && !room::valid_host_name(filter.host))
    return ApiError{400, "bad-host-name", "host names are 1-64 characters of A-Z a-z 0-9 '-' '_'"};
  if (auto refused = admit_client(options.client)) return *refused;
  auto parsed = parse_offer(offer_text, max_media_sections(options_.max_hosts));
  if (auto* e = std::get_if<ApiError>(&parsed)) return *e;
  const auto& offer = std::get<sdp::SessionDescription>(parsed);
  const size_t slots = slot_count(offer);
  if (slots == 0) return ApiError{400, "no-media", "the offer has no audio or video m-line to receive on"};
  if (slots > options_.max_hosts)
    return ApiError{400, "too-many-slots", "a viewer has at most " + std::to_string(options_.max_hosts) +
                                               " slots (video m-lines); the offer has " + std::to_string(slots)};
  if (options_.role == NodeRole::kOrigin) {
    // Hosts watch their co-hosts on their own origin (?exclude=<their name>); every other
    // viewer watches on an edge.
    std::lock_guard lock(mu_);
    StreamRecord* self = options.exclude ? find_source_locked(live, *options.exclude) : nullptr;
    if (!self || self->relayed)
      return ApiError{403, "wrong-role",
                      "this node is an origin: only its hosts watch here (?exclude=<host>); viewers watch on edges "
                      "(use the broker)"};
  }
  if (options_.role != NodeRole::kDev) {
    if (auto e = ensure_live_relays(live)) return *e;
  }

  std::lock_guard lock(mu_);
  auto snap = directory_.snapshot(live);
  if (!snap || snap->hosts.empty()) {
    ++rejected_total_;
    return ApiError{409, "stream-not-live", "live '" + live + "' has no host yet; retry later", 2};
  }
  if (client_sessions_locked() >= options_.max_sessions)
    return ApiError{503, "overloaded", "this server has no capacity for another session", 5};
  // Every slot is negotiated with the live's codecs (its hosts all send the same ones).
  const auto host_tracks = live_tracks_locked(live);
  const sfu::IngestTrackInfo* video = first_track(host_tracks, sfu::MediaKind::kVideo);
  const sfu::IngestTrackInfo* audio = first_track(host_tracks, sfu::MediaKind::kAudio);
  auto max_layer = layer_index(host_tracks, options.layer);
  if (auto* e = std::get_if<ApiError>(&max_layer)) return *e;
  int w = pick_worker_locked();
  sdp::AnswerOptions opts = answer_options(sdp::AnswerMode::kSend, w);
  const std::string cname = random_hex(16);
  for (size_t i = 0; i < slots; ++i) {
    // One MediaStream per slot (msid), so a browser pairs each slot's audio and video.
    for (const sfu::IngestTrackInfo* t : {video, audio}) {
      if (!t) continue;
      sdp::SendTrack st;
      st.kind = t->kind == sfu::MediaKind::kAudio ? sdp::MediaKind::kAudio : sdp::MediaKind::kVideo;
      st.ssrc = random_u32();
      st.rtx_ssrc = t->kind == sfu::MediaKind::kVideo ? random_u32() : 0;
      st.cname = cname;
      st.stream_id = live + "-slot-" + std::to_string(i);
      st.track_id = std::string(sfu::to_string(t->kind)) + "-slot-" + std::to_string(i);
      st.codec = sdp::Codec{t->codec.name, t->codec.clock_rate, t->codec.channels, t->codec.fmtp};
      opts.send_tracks.push_back(std::move(st));
    }
  }
  auto result = sdp::create_answer(offer, opts);
  if (auto* e = std::get_if<sdp::AnswerError>(&result)) {
    ++rejected_total_;
    return ApiError{e->http_status, e->error, e->detail};
  }
  auto& [answer, negotiated] = std::get<0>(result);

  // Slot i: the i-th video m-line that got a track, and the i-th such audio m-line.
  std::vector<worker::SlotTracks> slot_tracks(slots);
  std::vector<SlotRecord> slot_records(slots);
  size_t next_video = 0, next_audio = 0, egress = 0;
  for (auto& m : negotiated.media) {
    if (m.rejected || !m.send_track || m.codecs.empty()) continue;
    const bool is_video = m.kind == sdp::MediaKind::kVideo;
    size_t& next = is_video ? next_video : next_audio;
    if (next >= slots) continue;
    const sfu::IngestTrackInfo* source = is_video ? video : audio;
    sfu::EgressTrackInfo e;
    e.mid = m.mid;
    e.kind = media_kind(m.kind);
    e.codec = codec_params(m.codecs[0]);
    e.codec.codec = source->codec.codec;
    e.ssrc = m.send_track->ssrc;
    e.rtx_ssrc = m.send_track->rtx_ssrc;
    e.cname = cname;
    e.transport_cc_ext = m.codecs[0].transport_cc ? m.extensions.transport_cc : 0;
    e.max_layer = std::get<int>(max_layer);
    if (is_video) {
      slot_records[next].video_mid = m.mid;
      slot_tracks[next].video = std::move(e);
    } else {
      slot_records[next].audio_mid = m.mid;
      slot_tracks[next].audio = std::move(e);
    }
    ++next;
    ++egress;
  }
  if (egress == 0) {
    ++rejected_total_;
    return ApiError{400, "no-common-codec", "the offer accepts none of the live's tracks"};
  }
  const uint64_t id = next_id_;  // add_session_locked takes it next
  auto added = directory_.add_viewer(live, id, slots, filter);
  if (auto* e = std::get_if<room::Error>(&added)) {
    ++rejected_total_;
    return room_error(*e);
  }
  SessionRecord& s = add_session_locked(Kind::kViewer, "", w);
  s.live = live;
  s.client = options.client;
  client_limiter_.session_started(options.client);
  s.slots = std::move(slot_records);
  s.pinned = filter.kind == room::ViewerFilter::Kind::kOnly;
  s.layer_stats = std::make_shared<sfu::ViewerLayerStats>(s.slots.size());
  workers_.at(w).post([this, id, config = transport_config(opts, negotiated), slot_tracks = std::move(slot_tracks),
                       ufrag = opts.ice_ufrag, stats = s.layer_stats](worker::Worker& wk) mutable {
    wk.add_session(std::make_unique<worker::ViewerSession>(wk, id, std::move(config), std::move(slot_tracks), *this,
                                                           std::move(stats)),
                   ufrag);
  });
  SessionCreated created{s.public_id, answer, "\"" + random_hex(12) + "\""};
  spdlog::info("whep: viewer session {} of '{}' on worker {} ({} slots, {} tracks)", created.session_id, live, w, slots,
               egress);
  ++views_total_;
  // Fills the slots: each show() reaches the worker after the session it was posted for.
  apply_changes_locked(std::get<room::Changes>(added));
  return created;
}

std::optional<ApiError> SessionManager::set_layer(const std::string& public_id, const std::string& layer,
                                                  const std::optional<std::string>& mid) {
  std::lock_guard lock(mu_);
  auto it = by_public_id_.find(public_id);
  if (it == by_public_id_.end()) return ApiError{404, "unknown-session", "no session with this id on this server"};
  const SessionRecord& s = sessions_.at(it->second);
  if (s.kind != Kind::kViewer) return ApiError{400, "not-a-viewer", "only viewer (WHEP) sessions choose a layer"};
  if (layer.empty()) return ApiError{400, "bad-layer", "expected JSON {\"layer\": \"<rid>\", \"mid\": \"<slot's video mid>\"}"};
  std::optional<size_t> slot;
  if (mid) {
    for (size_t i = 0; i < s.slots.size(); ++i) {
      if (s.slots[i].video_mid == *mid) slot = i;
    }
    if (!slot) return ApiError{400, "unknown-mid", "no video slot of this session has mid '" + *mid + "'"};
  }
  auto index = layer_index(live_tracks_locked(s.live), layer);
  if (auto* e = std::get_if<ApiError>(&index)) return *e;
  uint64_t id = s.id;
  int max_layer = std::get<int>(index);
  workers_.at(s.worker).post([id, slot, max_layer](worker::Worker& wk) {
    if (auto* v = wk.find<worker::ViewerSession>(id)) v->set_max_layer(slot, max_layer);
  });
  return std::nullopt;
}

void SessionManager::apply_changes_locked(const room::Changes& changes) {
  if (changes.live.empty()) return;
  for (const auto& c : changes.slots) apply_slot_change_locked(c);
  if (changes.speaker || !changes.slots.empty()) update_favored_locked(changes.live);
  notify_live_locked(changes.live);
}

void SessionManager::apply_slot_change_locked(const room::SlotChange& change) {
  auto sit = sessions_.find(change.viewer);
  if (sit == sessions_.end()) return;
  SessionRecord& viewer = sit->second;
  if (change.slot >= viewer.slots.size()) return;
  viewer.slots[change.slot].host = change.current;
  if (change.previous) {
    if (StreamRecord* prev = find_source_locked(viewer.live, *change.previous)) {
      std::erase(prev->viewers, viewer.id);
      unsubscribe_from_stream_locked(*prev, viewer.worker);
    }
  }
  worker::SlotSource src;
  if (change.current) {
    if (StreamRecord* cur = find_source_locked(viewer.live, *change.current)) {
      cur->viewers.push_back(viewer.id);
      subscribe_to_stream_locked(*cur, viewer.worker);
      src = slot_source(*cur);
    }
  }
  uint64_t id = viewer.id;
  size_t slot = change.slot;
  workers_.at(viewer.worker).post([id, slot, src](worker::Worker& wk) {
    if (auto* v = wk.find<worker::ViewerSession>(id)) v->show(slot, src);
  });
}

// The speaker's slot, and every slot of a viewer pinned to one host, gets the larger
// share of the viewer's downlink.
void SessionManager::update_favored_locked(const std::string& live) {
  auto snap = directory_.snapshot(live);
  if (!snap) return;
  for (const auto& v : snap->viewers) {
    auto sit = sessions_.find(v.viewer);
    if (sit == sessions_.end()) continue;
    SessionRecord& s = sit->second;
    for (size_t i = 0; i < s.slots.size(); ++i) {
      const bool favored = s.slots[i].host && (s.pinned || s.slots[i].host == snap->speaker);
      if (favored == s.slots[i].favored) continue;
      s.slots[i].favored = favored;
      uint64_t id = s.id;
      workers_.at(s.worker).post([id, i, favored](worker::Worker& wk) {
        if (auto* vs = wk.find<worker::ViewerSession>(id)) vs->set_favored(i, favored);
      });
    }
  }
}

nlohmann::json SessionManager::live_event_locked(const std::string& live, const SessionRecord& s) const {
  auto snap = directory_.snapshot(live);
  nlohmann::json hosts = nlohmann::json::array();
  auto host_live = [&](const std::string& name) {
    auto it = streams_.find(source_key(live, name));
    if (it == streams_.end()) return false;
    if (it->second.relayed) return !it->second.inactive;  // a relay: live unless its origin was lost
    auto p = sessions_.find(it->second.publisher);
    return p != sessions_.end() && p->second.connected;
  };
  if (snap) {
    for (const auto& h : snap->hosts) hosts.push_back({{"name", h.name}, {"live", host_live(h.name)}});
  }
  nlohmann::json slots = nlohmann::json::array();
  for (const auto& slot : s.slots) {
    slots.push_back({{"mid", slot.video_mid.empty() ? nlohmann::json(nullptr) : nlohmann::json(slot.video_mid)},
                     {"audio_mid", slot.audio_mid.empty() ? nlohmann::json(nullptr) : nlohmann::json(slot.audio_mid)},
                     {"host", slot.host ? nlohmann::json(*slot.host) : nlohmann::json(nullptr)},
                     {"live", slot.host && host_live(*slot.host)}});
  }
  return {{"live", live},
          {"hosts", hosts},
          {"viewers", snap ? snap->viewer_count : 0},
          {"speaker", snap && snap->speaker ? nlohmann::json(*snap->speaker) : nlohmann::json(nullptr)},
          {"slots", slots}};
}

// Every session of the live with an open event stream gets the live's state now. Sending
// only queues text (http::EventStream), so this holds the lock for no I/O.
void SessionManager::notify_live_locked(const std::string& live) {
  for (auto it = event_streams_.begin(); it != event_streams_.end();) {
    auto& streams = it->second;
    std::erase_if(streams, [](const auto& es) { return es->closed(); });
    auto sit = sessions_.find(it->first);
    if (sit == sessions_.end() || streams.empty()) {
      for (auto& es : streams) es->close();
      it = event_streams_.erase(it);
      continue;
    }
    if (sit->second.live == live) {
      const std::string data = live_event_locked(live, sit->second).dump();
      for (auto& es : streams) es->send("live", data);
    }
    ++it;
  }
}

void SessionManager::close_events_locked(uint64_t session) {
  auto it = event_streams_.find(session);
  if (it == event_streams_.end()) return;
  for (auto& es : it->second) es->close();
  event_streams_.erase(it);
}

std::variant<std::shared_ptr<http::EventStream>, ApiError> SessionManager::events(const std::string& public_id) {
  std::lock_guard lock(mu_);
  auto it = by_public_id_.find(public_id);
  if (it == by_public_id_.end()) return ApiError{404, "unknown-session", "no session with this id on this server"};
  const SessionRecord& s = sessions_.at(it->second);
  if (s.kind != Kind::kPublisher && s.kind != Kind::kViewer)
    return ApiError{400, "no-events", "only host (WHIP) and viewer (WHEP) sessions have an event stream"};
  auto es = std::make_shared<http::EventStream>();
  es->send("live", live_event_locked(s.live, s).dump());
  event_streams_[s.id].push_back(es);
  return es;
}

void SessionManager::on_audio_level(uint64_t session_id, uint8_t level) {
  std::lock_guard lock(mu_);
  auto sit = sessions_.find(session_id);
  if (sit == sessions_.end() || sit->second.kind != Kind::kPublisher) return;
  auto st = streams_.find(sit->second.stream);
  if (st == streams_.end()) return;
  if (auto change = directory_.on_audio_level(st->second.live, st->second.host, level, now())) {
    room::Changes c;
    c.live = st->second.live;
    c.speaker = *change;
    apply_changes_locked(c);
  }
}

void SessionManager::reshow_locked(const StreamRecord& rec) {
  const worker::SlotSource src = slot_source(rec);
  for (uint64_t v : rec.viewers) {
    auto vit = sessions_.find(v);
    if (vit == sessions_.end()) continue;
    for (size_t i = 0; i < vit->second.slots.size(); ++i) {
      if (vit->second.slots[i].host != rec.host) continue;
      workers_.at(vit->second.worker).post([v, i, src](worker::Worker& wk) {
        if (auto* s = wk.find<worker::ViewerSession>(v)) s->show(i, src);
      });
    }
  }
}

void SessionManager::end_live_viewers_locked(const std::string& live) {
  auto snap = directory_.snapshot(live);
  if (!snap) return;
  for (const auto& v : snap->viewers) remove_viewer_locked(v.viewer);
}

LivesView SessionManager::lives_view() const {
  std::lock_guard lock(mu_);
  LivesView out;
  const Timestamp now = this->now();
  for (const auto& name : directory_.lives()) {
    auto snap = directory_.snapshot(name);
    if (!snap) continue;
    LiveView& lv = out.lives.emplace_back();
    lv.live = name;
    lv.speaker = snap->speaker;
    for (const auto& h : snap->hosts) {
      HostView& hv = lv.hosts.emplace_back();
      hv.name = h.name;
      hv.joined = now - h.joined_at;
      auto it = streams_.find(source_key(name, h.name));
      if (it == streams_.end()) continue;
      hv.tracks = it->second.tracks;
      auto p = sessions_.find(it->second.publisher);
      if (p != sessions_.end()) {
        hv.session = p->second.public_id;
        hv.connected = p->second.connected;
      }
    }
    for (const auto& v : snap->viewers) {
      auto sit = sessions_.find(v.viewer);
      if (sit == sessions_.end()) continue;
      LiveViewerView& vv = lv.viewers.emplace_back();
      vv.session = sit->second.public_id;
      vv.filter = filter_text(v.filter);
      const sfu::ViewerLayerStats* layers = sit->second.layer_stats.get();
      if (layers) vv.estimate_bps = layers->estimate_bps.load(std::memory_order_relaxed);
      for (size_t i = 0; i < sit->second.slots.size(); ++i) {
        const SlotRecord& slot = sit->second.slots[i];
        SlotView& sv = vv.slots.emplace_back(SlotView{slot.video_mid, slot.audio_mid, slot.host, std::nullopt});
        if (const sfu::SlotLayerStats* st = layers ? layers->slot(i) : nullptr) sv.layer = slot_layer_view(*st);
      }
    }
  }
  return out;
}

}  // namespace strata::signaling
