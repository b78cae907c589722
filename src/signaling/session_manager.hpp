// Control plane of one media server: turns WHIP/WHEP offers into sessions on workers,
// keeps the stream directory (stream → publisher, viewers), and reacts to sessions that
// end by themselves. Thread-safe (one mutex); never waits on a worker while holding it.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "dtls/certificate.hpp"
#include "sdp/answer.hpp"
#include "sfu/track.hpp"
#include "worker/sessions.hpp"
#include "worker/worker.hpp"

namespace strata::signaling {

struct ApiError {
  int status = 400;
  std::string error;   // short machine-readable code
  std::string detail;  // what was wrong, for people
  int retry_after = 0; // seconds; > 0 adds Retry-After
};

struct SessionCreated {
  std::string session_id;  // public id, used in the session URL
  std::string answer_sdp;
  std::string etag;
};

struct SessionManagerOptions {
  std::string public_ip = "127.0.0.1";
  size_t max_sessions = 5000;
  Duration consent_timeout = std::chrono::seconds(30);
};

class SessionManager final : public worker::SessionEvents {
 public:
  SessionManager(worker::WorkerGroup& workers, std::shared_ptr<const dtls::Certificate> cert,
                 SessionManagerOptions options);
  ~SessionManager() override;

  std::variant<SessionCreated, ApiError> publish(const std::string& stream, const std::string& offer);
  std::variant<SessionCreated, ApiError> view(const std::string& stream, const std::string& offer);
  struct IceRestarted {
    std::string ice_ufrag, ice_pwd;
    std::string candidate_ip;
    uint16_t candidate_port = 0;
    std::string etag;
  };
  // PATCH with new remote ICE credentials (RFC 9725 §4.3.2): our new credentials.
  std::variant<IceRestarted, ApiError> restart_ice(const std::string& session_id, const std::string& remote_ufrag,
                                                   const std::string& remote_pwd);

  // DELETE: false when the session is unknown.
  bool end_session(const std::string& session_id);
  bool has_session(const std::string& session_id) const;

  nlohmann::json streams_json() const;
  std::string metrics_text() const;
  size_t session_count() const;

  // worker::SessionEvents (called on worker threads)
  void on_session_connected(uint64_t session_id) override;
  void on_session_ended(uint64_t session_id, std::string reason) override;

  static bool valid_stream_name(std::string_view name);

 private:
  enum class Kind { kPublisher, kViewer };
  struct SessionRecord {
    uint64_t id = 0;
    std::string public_id;
    Kind kind = Kind::kViewer;
    std::string stream;
    int worker = 0;
    bool connected = false;
  };
  struct StreamRecord {
    uint64_t id = 0;
    std::string name;
    uint64_t publisher = 0;
    int publisher_worker = 0;
    std::vector<sfu::IngestTrackInfo> tracks;
    std::vector<uint64_t> viewers;
    std::map<int, int> viewers_per_worker;
    Timestamp started{};
  };

  int pick_worker_locked() const;
  sdp::AnswerOptions answer_options(sdp::AnswerMode mode, int worker) const;
  transport::TransportConfig transport_config(const sdp::AnswerOptions& opts, const sdp::Negotiated& negotiated) const;
  SessionRecord& add_session_locked(Kind kind, const std::string& stream, int worker);
  void end_stream_locked(const std::string& name, const char* reason);
  void remove_viewer_locked(uint64_t viewer_id);

  worker::WorkerGroup& workers_;
  std::shared_ptr<const dtls::Certificate> cert_;
  SessionManagerOptions options_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, SessionRecord> sessions_;
  std::unordered_map<std::string, uint64_t> by_public_id_;
  std::map<std::string, StreamRecord> streams_;
  std::vector<int> sessions_per_worker_;
  // Totals that outlive sessions, for /metrics.
  uint64_t publishes_total_ = 0, views_total_ = 0, rejected_total_ = 0;
};

}  // namespace strata::signaling
