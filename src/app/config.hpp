// Server configuration: defaults, TOML file, command-line flags (flags win).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace strata::app {

struct HttpListen {
  std::string host;
  uint16_t port = 0;
  std::vector<std::string> cors_origins;
};

struct ServerConfig {
  std::string http = "127.0.0.1:8080";
  // Empty: `strata dev` advertises every interface address and 127.0.0.1 last
  // (Server::open_workers_on_interfaces); a cluster node advertises 127.0.0.1.
  std::string public_ip;
  // Empty: bind to public_ip when it is a local address (replies then leave from the
  // address the client checked), else to the wildcard address.
  std::string bind_ip;
  int udp_port = 40000;
  int workers = 0;
  std::string registry = "memory";
  std::vector<std::string> cors_origins;
  size_t max_sessions = 5000;
  // A live's hosts, and so a viewer's slots, at most.
  size_t max_hosts = 9;
  // Keyframe cache (sfu::KeyframeCache): the oldest keyframe a new viewer starts from, in
  // ms (0: off, every new viewer asks the host), and the RTP bytes kept per track and layer.
  int keyframe_cache_ms = 3000;
  size_t keyframe_cache_bytes = 2u << 20;
  size_t keyframe_replay_budget_bytes = 8u << 20;  // per worker (sfu::ReplayBudget)
  // Cluster.
  std::string role = "dev";  // dev | origin | edge
  std::string region = "local";
  std::string node_id;
  std::string cluster_secret_file;
  int relay_linger_seconds = 10;
  // Broker: a node whose process CPU share (its record's cpu) is at or above this takes no
  // new session.
  double max_cpu = 0.9;
  // Access control (README, "Access control"): on when either key file is given.
  std::string auth_secret_file;  // HS256 shared secret
  std::string auth_jwks_file;    // ES256 / EdDSA public keys (JWK Set)
  std::string auth_issuer;       // "iss" must equal it, when set
  std::string auth_audience;     // "aud" must name it, when set
  // A second listener with /metrics and /healthz only, never behind auth (empty: none).
  std::string metrics_http;
  // Limits per client address (0 = none): new sessions per second (and burst), sessions held.
  double per_ip_session_rate = 0;
  double per_ip_session_burst = 0;
  size_t per_ip_max_sessions = 0;
  size_t per_ip_max_connections = 0;  // HTTP connections one client holds at once
  // HTTP: a request's header must arrive within this (a client trickling bytes is dropped).
  int http_header_timeout_seconds = 10;
};

// HTTP server options from --http and --cors-origin; false with *error on a bad address.
bool http_options(const ServerConfig& config, HttpListen* out, std::string* error);

// Keys: http, public_ip, bind_ip, udp_port, workers, registry, cors_origins, max_sessions,
// max_hosts, keyframe_cache_ms, keyframe_cache_bytes, keyframe_replay_budget_bytes, role, region, node_id,
// cluster_secret_file, relay_linger, max_cpu, auth_secret_file, auth_jwks_file, auth_issuer, auth_audience,
// metrics_http, per_ip_session_rate, per_ip_session_burst, per_ip_max_sessions, per_ip_max_connections,
// http_header_timeout.
bool load_config_file(const std::string& path, ServerConfig* out, std::string* error);
// Copies into `base` every option that was given on the command line of `cmd`.
void merge_config(ServerConfig& base, const ServerConfig& flags, const CLI::App& cmd);

}  // namespace strata::app
