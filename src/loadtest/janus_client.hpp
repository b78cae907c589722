// A blocking client for the Janus REST API (janus.plugin.streaming), used by `strata bench
// --target janus` to get a WebRTC offer for a streaming mountpoint, answer it, keep the
// Janus session alive and hang up. Control plane only; one JanusWatch per viewer.
//
// Janus API shape (https://janus.conf.meetecho.com/docs/rest.html): every request is a JSON
// POST with "janus" and "transaction"; POST /janus creates a session, POST /janus/<session>
// attaches a plugin handle, POST /janus/<session>/<handle> sends a plugin "message".
// Asynchronous plugin requests ("watch", "start") are only acked; their result arrives as an
// "event" on the session's long poll, GET /janus/<session>?maxev=N.
//
// The request builders and the reply parser are pure functions so they can be tested
// without a running Janus.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace strata::loadtest {

struct JanusWatch {
  uint64_t session_id = 0;
  uint64_t handle_id = 0;
  std::string offer_sdp;
};

class JanusClient {
 public:
  // base_url is the Janus API root, e.g. "http://127.0.0.1:8088/janus".
  explicit JanusClient(std::string base_url);

  // Per-request HTTP deadline and the longest wait for an asynchronous plugin event.
  void set_timeouts(Duration request, Duration event_wait);

  // create session → attach janus.plugin.streaming → {"request":"watch","id":N} → waits
  // on the long poll for the event carrying the JSEP offer. On failure the session (if
  // created) is destroyed and *error says which step failed.
  std::optional<JanusWatch> watch(uint64_t mountpoint_id, std::string* error);
  // {"request":"start"} with the JSEP answer; waits for the plugin's "starting" event.
  bool start(const JanusWatch& w, const std::string& answer_sdp, std::string* error);
  // Session keepalive (Janus destroys sessions idle for session_timeout, 60 s by default).
  bool keepalive(const JanusWatch& w, std::string* error);
  // Hangs up the PeerConnection and destroys the session. Best effort, never fails.
  void hangup(const JanusWatch& w);

 private:
  std::optional<std::string> post(const std::string& url, const std::string& body, std::string* error);
  std::optional<uint64_t> create_session(std::string* error);
  std::optional<uint64_t> attach_streaming(uint64_t session_id, std::string* error);
  std::string session_url(uint64_t session_id) const;
  std::string handle_url(uint64_t session_id, uint64_t handle_id) const;

  std::string base_url_;
  Duration request_timeout_ = std::chrono::seconds(5);
  Duration event_timeout_ = std::chrono::seconds(10);
};

// Makes sure streaming mountpoint `id` exists: "info" first (a static mountpoint from
// bench/janus/janus.plugin.streaming.jcfg passes here), otherwise a "create" request for an
// RTP mountpoint with VP8 (pt 96) on video_port and Opus (pt 111) on audio_port, both
// bound to 127.0.0.1.
bool janus_create_rtp_mountpoint(const std::string& base_url, uint64_t id, uint16_t video_port,
                                 uint16_t audio_port, std::string* error);

// ---- Pure helpers (exposed for tests) ----

namespace janus {

inline constexpr const char* kStreamingPlugin = "janus.plugin.streaming";

std::string create_session_body(const std::string& transaction);
std::string attach_body(const std::string& plugin, const std::string& transaction);
std::string keepalive_body(const std::string& transaction);
std::string hangup_body(const std::string& transaction);
std::string destroy_body(const std::string& transaction);
std::string watch_body(uint64_t mountpoint_id, const std::string& transaction);
std::string start_body(const std::string& answer_sdp, const std::string& transaction);
std::string info_body(uint64_t mountpoint_id, const std::string& transaction);
std::string create_rtp_mountpoint_body(uint64_t id, uint16_t video_port, uint16_t audio_port,
                                       const std::string& transaction);
// Long-poll path suffix: "/<session>?maxev=N&rid=<cache buster>".
std::string long_poll_url(const std::string& base_url, uint64_t session_id, int max_events,
                          uint64_t rid);

// One Janus API message, flattened. Absent fields keep their defaults.
struct Reply {
  std::string janus;          // "success", "ack", "event", "error", "keepalive", "webrtcup", ...
  std::string transaction;
  uint64_t session_id = 0;
  uint64_t sender = 0;        // handle id for plugin events
  uint64_t data_id = 0;       // data.id of a create/attach success
  // Janus core error ({"janus":"error","error":{code,reason}}) or plugin error
  // (plugindata.data.error_code / error); 0 = none.
  int error_code = 0;
  std::string error;
  std::string plugin;         // plugindata.plugin
  std::string plugin_kind;    // plugindata.data.streaming ("event", "info", "created", ...)
  std::string plugin_status;  // plugindata.data.result.status ("preparing", "starting", ...)
  std::string jsep_type;      // "offer" / "answer"
  std::string jsep_sdp;
  bool has_error() const { return error_code != 0 || janus == "error"; }
};

// Parses one reply object. nullopt (with *error) when the body is not JSON, not an object
// or has no "janus" string.
std::optional<Reply> parse_reply(std::string_view body, std::string* error);
// A long poll answers with one object (maxev=1) or an array of objects; both are accepted.
// Elements that are not valid replies are skipped. nullopt when the body is not JSON.
std::optional<std::vector<Reply>> parse_events(std::string_view body, std::string* error);
// "<what>: <error> (code N)" for a reply that carries an error; used in messages.
std::string describe_error(const Reply& r, const std::string& what);

}  // namespace janus
}  // namespace strata::loadtest
