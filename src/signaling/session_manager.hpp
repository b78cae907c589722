// Control plane of one media server: turns WHIP/WHEP offers into sessions on workers,
// keeps the lives (room::LiveDirectory: which hosts, which viewer slot shows which host),
// turns the directory's changes into fan-out rewiring on the workers and into events, and
// reacts to sessions that end by themselves. Thread-safe (one mutex); never waits on a
// worker or another node while holding it. What it needs from the cluster (registry,
// other nodes) goes through a ClusterLink (cluster_link.hpp); its relay sessions, poll and
// registry events are in session_manager_cluster.cpp, the lives half (hosts, slots,
// events) in session_manager_lives.cpp.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/client_limiter.hpp"
#include "dtls/certificate.hpp"
#include "http/event_stream.hpp"
#include "ice/host_candidates.hpp"
#include "registry/registry.hpp"
#include "room/live_directory.hpp"
#include "sdp/answer.hpp"
#include "sfu/track.hpp"
#include "sfu/viewer_layer_stats.hpp"
#include "signaling/api_error.hpp"
#include "signaling/cluster_link.hpp"
#include "worker/sessions.hpp"
#include "worker/viewer_session.hpp"
#include "worker/worker.hpp"

namespace strata::signaling {

struct SessionCreated {
  std::string session_id;  // public id, used in the session URL
  std::string answer_sdp;
  std::string etag;
};

// What the HTTP layer renders (/api/v1/streams, /metrics; signaling/api_render.hpp): plain
// copies taken under the manager's lock, so rendering holds no lock.
struct SlotLayerView {  // one slot's layer choice (sfu::SlotLayerStats)
  int current = -1, target = -1, requested = -1, temporal = -1;
  uint64_t switches = 0;
  int64_t share_bps = 0, layer_bps = 0;
};
SlotLayerView slot_layer_view(const sfu::SlotLayerStats& st);
struct ViewerLayerView {  // a simulcast viewer's layer choice for one host (the slot showing it)
  std::string session;
  int slot = -1;
  std::string mid;  // the slot's video mid
  SlotLayerView layer;
  int64_t estimate_bps = 0;  // the whole session's downlink estimate
  uint64_t probes = 0;
};
struct StreamView {  // one host's media in a live
  std::string name;   // the live
  std::string host;
  std::vector<sfu::IngestTrackInfo> tracks;
  std::string publisher_session;  // empty when the publisher session is gone
  int publisher_worker = 0;
  bool publisher_connected = false;
  size_t viewers = 0;
  size_t relays = 0;     // origin: edges relaying it
  bool relayed = false;  // edge: fed by one relay from its origin
  Duration uptime{};
  std::vector<ViewerLayerView> viewer_layers;
};
// /api/v1/lives: every live with its hosts, viewers and their slots.
struct HostView {
  std::string name;
  std::string session;  // the host's publisher session (an edge's relay ingest)
  bool connected = false;
  Duration joined{};    // how long ago
  std::vector<sfu::IngestTrackInfo> tracks;
};
struct SlotView {
  std::string video_mid, audio_mid;  // empty when the slot has no m-line of that kind
  std::optional<std::string> host;
  std::optional<SlotLayerView> layer;  // simulcast viewers: the slot's layer choice
};
struct LiveViewerView {
  std::string session;
  std::string filter;  // "all", "only:<host>", "exclude:<host>"
  std::vector<SlotView> slots;
  std::optional<int64_t> estimate_bps;  // simulcast viewers: the downlink estimate
};
struct LiveView {
  std::string live;
  std::vector<HostView> hosts;  // join order
  std::vector<LiveViewerView> viewers;
  std::optional<std::string> speaker;
};
struct LivesView {
  std::vector<LiveView> lives;
};

struct DirectoryView {
  std::vector<StreamView> streams;
  size_t publishers = 0, viewers = 0, relays_out = 0, relays_in = 0;  // sessions now
  uint64_t publishes_total = 0, views_total = 0, rejected_total = 0;  // since start
  uint64_t client_rate_limited_total = 0, client_session_cap_total = 0;  // 429s (auth::ClientLimiter)
};

struct SessionManagerOptions {
  std::string public_ip = "127.0.0.1";
  // The host candidates WHIP/WHEP answers and ICE restarts advertise, highest priority
  // first (ice::host_candidates: `strata dev` without --public-ip); empty = one candidate
  // on public_ip. Relay answers to edges carry public_ip.
  std::vector<ice::HostCandidate> host_candidates;
  size_t max_sessions = 5000;
  Duration consent_timeout = std::chrono::seconds(30);
  // After an ICE restart: late checks of the previous generation are answered this long
  // after the first check of the new one (RFC 8445 §9).
  Duration previous_ice_generation_grace = std::chrono::seconds(3);
  // Cluster (docs/ARCHITECTURE.md, "Cluster"). kDev serves hosts and viewers itself, without a registry.
  NodeRole role = NodeRole::kDev;
  std::string node_id;
  std::string region = "local";
  std::string http_url;          // how other servers reach this node
  std::string cluster_secret;    // authenticates relay requests; empty = relays refused
  registry::Registry* registry = nullptr;  // nullptr: no cluster (StandaloneClusterLink)
  Duration relay_linger = std::chrono::seconds(10);
  // A relayed host whose claim lapsed (its origin died) stays in the live, its slots
  // inactive, this long for it to publish again elsewhere; then it leaves the live.
  Duration host_return_grace = std::chrono::seconds(30);
  Duration claim_ttl = std::chrono::seconds(5);
  Duration node_ttl = std::chrono::seconds(3);
  // A live's hosts (and so a viewer's slots) at most.
  size_t max_hosts = 9;
  // New sessions per client address: rate and concurrent sessions (429 beyond them).
  auth::ClientLimits client_limits;
  // Injected for tests; nullptr / empty = the real ones.
  const Clock* clock = nullptr;
  // Server-to-server requests (an edge asking an origin for a relay): http::http_request.
  HttpClient http_request;
  std::function<Duration()> process_cpu_time;  // this process's CPU time so far
  unsigned cpu_count = 0;                      // 0 = the machine's
};

class SessionManager final : public worker::SessionEvents {
 public:
  SessionManager(worker::WorkerGroup& workers, std::shared_ptr<const dtls::Certificate> cert,
                 SessionManagerOptions options);
  ~SessionManager() override;

  // Host `host` goes live in `live` (empty: the default host). `client` is the client's
  // address key (auth::client_key) for the per-client limits; empty = not limited.
  std::variant<SessionCreated, ApiError> publish(const std::string& live, const std::string& offer,
                                                 const std::string& host = "", const std::string& client = "");
  struct ViewOptions {
    std::string layer;  // the highest simulcast layer (rid) of every slot; empty = the top one
    std::optional<std::string> host;     // watch only this host
    std::optional<std::string> exclude;  // watch every host but this one
    std::string client;                  // as publish()'s
  };
  std::variant<SessionCreated, ApiError> view(const std::string& live, const std::string& offer,
                                              const ViewOptions& options = {});
  // POST {session}/layer: change a viewer's highest simulcast layer while it watches, for
  // the slot whose video m-line has `mid` (nullopt: every slot).
  std::optional<ApiError> set_layer(const std::string& session_id, const std::string& layer,
                                    const std::optional<std::string>& mid = std::nullopt);
  // GET {session}/events: the live's state now and on every change (text/event-stream).
  std::variant<std::shared_ptr<http::EventStream>, ApiError> events(const std::string& session_id);
  struct IceRestarted {
    std::string ice_ufrag, ice_pwd;
    std::vector<sdp::Candidate> candidates;  // the session's, as in its answer
    std::string etag;
  };
  // PATCH with new remote ICE credentials (RFC 9725 §4.3.2): our new credentials.
  std::variant<IceRestarted, ApiError> restart_ice(const std::string& session_id, const std::string& remote_ufrag,
                                                   const std::string& remote_pwd);

  // DELETE: false when the session is unknown.
  bool end_session(const std::string& session_id);
  bool has_session(const std::string& session_id) const;
  // The live a host's or viewer's session belongs to; nullopt for unknown (or relay) sessions.
  std::optional<std::string> session_live(const std::string& session_id) const;
  // Admin: ends every host and viewer session of `live` on this node (its viewers get RTCP
  // BYE as when the last host leaves). The number of sessions ended.
  size_t end_live(const std::string& live);

  // Origin: an edge (or another origin) asks for a relay of a host's stream
  // ("{live}/{host}": POST /relay/{live}/{host}, JSON body).
  std::variant<nlohmann::json, ApiError> create_relay(const std::string& stream, const std::string& body,
                                                      const std::optional<std::string>& authorization);

  // Control-plane duties, called about every 100 ms by the node's control thread:
  // registry heartbeat and claim/relay refresh (every second), relay linger.
  void poll();
  // A registry event (stream ended / moved), from the registry's subscriber thread. Never
  // blocks: work that needs the network (re-attaching a relay) is left to poll().
  void on_registry_event(const registry::Event& event);
  // A draining node takes no new sessions from the broker (its record says so); running
  // sessions go on.
  void set_draining(bool draining) { draining_ = draining; }

  DirectoryView directory_view() const;
  // Every worker's counters, summed (relaxed reads).
  worker::WorkerMetricsSnapshot worker_metrics() const { return workers_.metrics(); }
  size_t session_count() const;

  // worker::SessionEvents (called on worker threads)
  void on_session_connected(uint64_t session_id) override;
  void on_session_ended(uint64_t session_id, std::string reason) override;
  void on_layer_ssrc_learned(uint64_t session_id, uint32_t track, int layer, uint32_t ssrc, bool rtx) override;
  void on_audio_level(uint64_t session_id, uint8_t level) override;
  void on_upstream_stalled(uint64_t session_id, bool stalled) override;

  LivesView lives_view() const;

  static bool valid_stream_name(std::string_view name);

 private:
  // kRelaySend: an edge's relay on this origin; kRelayIngest: this edge's relay from its
  // origin (the stream's "publisher" here).
  enum class Kind { kPublisher, kViewer, kRelaySend, kRelayIngest };
  struct SlotRecord {
    std::string video_mid, audio_mid;
    std::optional<std::string> host;  // the host shown now
    bool favored = false;
  };
  struct SessionRecord {
    uint64_t id = 0;
    std::string public_id;
    Kind kind = Kind::kViewer;
    std::string stream;  // publishers and relays: their StreamRecord's key
    std::string live;
    int worker = 0;
    bool connected = false;
    std::shared_ptr<sfu::ViewerLayerStats> layer_stats;  // viewers: layer choice
    std::vector<SlotRecord> slots;                       // viewers
    bool pinned = false;                                 // viewers of one host (?host=)
    std::string client;                                  // hosts and viewers: auth::client_key
  };
  // One host's media source in a live (a publisher session, or an edge's relay ingest),
  // keyed in streams_ by source_key(live, host). Its id is the fan-out key (SourceId) and
  // the host's id in the live directory.
  struct StreamRecord {
    uint64_t id = 0;
    std::string name;  // the key in streams_
    std::string live, host;
    uint64_t publisher = 0;
    int publisher_worker = 0;
    std::vector<sfu::IngestTrackInfo> tracks;
    std::vector<uint64_t> viewers;             // viewers with a slot showing this host
    std::vector<uint64_t> relays;              // origin: edges relaying this stream
    std::map<int, int> viewers_per_worker;     // viewers and relays, per worker
    Timestamp started{};
    bool relayed = false;                      // fed by a relay from the host's origin
    std::string origin_id;                     // relayed: the origin it relays from
    std::string origin_region;
    bool stalled = false;                      // relayed: no RTP for a second (on_upstream_stalled)
    Timestamp idle_since{};                    // relayed: the live's last viewer here left (linger)
    // Relayed: the host's claim lapsed (its origin died); no ingest session, its slots keep
    // the host, inactive, until it publishes again or host_return_grace runs out.
    bool inactive = false;
    Timestamp inactive_since{};
    // Relayed: when a re-read of the live first missed its claim (zero while listed).
    Timestamp unlisted_since{};
  };
  std::vector<ViewerLayerView> viewer_layers_locked(const StreamRecord& rec) const;

  int pick_worker_locked() const;
  // The per-client limits for one more session of `client` (429 when over them).
  std::optional<ApiError> admit_client(const std::string& client);
  // Bookkeeping of every session that goes away (worker counts, ids, client limits).
  void forget_session_locked(const SessionRecord& s);
  std::variant<SessionCreated, ApiError> publish_claimed(const std::string& live, const std::string& host,
                                                         const sdp::SessionDescription& offer, const std::string& client);
  sdp::AnswerOptions answer_options(sdp::AnswerMode mode, int worker) const;
  std::vector<sdp::Candidate> local_candidates(int worker) const;
  transport::TransportConfig transport_config(const sdp::AnswerOptions& opts, const sdp::Negotiated& negotiated) const;
  SessionRecord& add_session_locked(Kind kind, const std::string& stream, int worker);
  void end_stream_locked(const std::string& name, const char* reason);
  // Pulls every host of `live` that is live on another origin (a viewer arrived here).
  std::optional<ApiError> ensure_live_relays(const std::string& live);
  std::optional<ApiError> ensure_relay(const registry::StreamClaim& claim);
  std::optional<ApiError> add_relayed_stream_locked(const RelayPlan& plan);
  void collect_poll_work_locked(Timestamp now, bool beat, NodeStreams* kept, std::vector<std::string>* sync);
  // Brings the live's relayed hosts here in line with the registry: pulls hosts that joined,
  // re-attaches hosts that moved to another origin, marks hosts whose claim lapsed inactive
  // and ends them after host_return_grace. From an event, and every heartbeat for each live
  // with viewers here (a missed event heals).
  void sync_live(const std::string& live);
  std::set<std::string> dead_origins(const std::string& live, const std::vector<registry::StreamClaim>& hosts);
  void mark_inactive_locked(StreamRecord& rec);
  void remove_ingest_session_locked(StreamRecord& rec);
  void install_relay_locked(StreamRecord& rec, const RelayPlan& plan);
  void reattach_relay(const registry::StreamClaim& claim);
  void subscribe_to_stream_locked(StreamRecord& rec, int worker);
  void unsubscribe_from_stream_locked(StreamRecord& rec, int worker);

  // ---- lives (session_manager_lives.cpp) ----
  static std::string source_key(std::string_view live, std::string_view host);
  StreamRecord* find_source_locked(std::string_view live, std::string_view host);
  StreamRecord* find_source_locked(std::string_view stream_key);
  size_t live_viewer_count_locked(const std::string& live) const;
  // Hosts' and viewers' sessions: what --max-sessions and the node record's load count.
  // Relay sessions are the cluster's own and never refused (a host watching its co-hosts
  // must not be turned away because its origin pulled them).
  size_t client_sessions_locked() const;
  worker::SlotSource slot_source(const StreamRecord& rec) const;
  // Rewires fan-out for every slot change, tells viewers whom their slots show and which
  // slot is favored, and sends the live's event to its sessions.
  void apply_changes_locked(const room::Changes& changes);
  void apply_slot_change_locked(const room::SlotChange& change);
  void update_favored_locked(const std::string& live);
  void notify_live_locked(const std::string& live);
  void close_events_locked(uint64_t session);
  nlohmann::json live_event_locked(const std::string& live, const SessionRecord& s) const;
  // Re-points the viewers' slots showing `rec` at its current publisher (relay moved).
  void reshow_locked(const StreamRecord& rec);
  void end_live_viewers_locked(const std::string& live);
  // Every track of the live's hosts here, in join order.
  std::vector<const sfu::IngestTrackInfo*> live_tracks_locked(const std::string& live) const;
  std::optional<ApiError> check_host_codecs_locked(const std::string& live, const std::vector<sfu::IngestTrackInfo>& tracks) const;
  Timestamp now() const { return clock_.now(); }
  void remove_viewer_locked(uint64_t viewer_id);

  worker::WorkerGroup& workers_;
  std::shared_ptr<const dtls::Certificate> cert_;
  SessionManagerOptions options_;
  mutable std::mutex mu_;
  SteadyClock steady_clock_;
  const Clock& clock_;
  std::unique_ptr<ClusterLink> cluster_;  // after clock_: it keeps a reference to it
  // Lives a registry event named (a host joined, moved or left), for poll() to sync (guarded
  // by mu_).
  std::vector<std::string> lives_to_sync_;
  std::atomic<bool> draining_{false};
  Timestamp next_heartbeat_{};
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, SessionRecord> sessions_;
  std::unordered_map<std::string, uint64_t> by_public_id_;
  std::map<std::string, StreamRecord> streams_;
  std::vector<int> sessions_per_worker_;
  auth::ClientLimiter client_limiter_;
  room::LiveDirectory directory_;
  std::unordered_map<uint64_t, std::vector<std::shared_ptr<http::EventStream>>> event_streams_;  // by session
  Timestamp next_speaker_tick_{};
  // Totals that outlive sessions, for /metrics.
  uint64_t publishes_total_ = 0, views_total_ = 0, rejected_total_ = 0;
  uint64_t client_rate_limited_total_ = 0, client_session_cap_total_ = 0;
};

}  // namespace strata::signaling
