#include "app/config.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include "common/socket_address.hpp"

namespace strata::app {

bool http_options(const ServerConfig& config, HttpListen* out, std::string* error) {
  auto addr = SocketAddress::parse(config.http);
  if (!addr) {
    *error = "--http " + config.http + ": expected HOST:PORT";
    return false;
  }
  out->host = addr->ip_string();
  out->port = addr->port();
  out->cors_origins = config.cors_origins;
  return true;
}

bool load_config_file(const std::string& path, ServerConfig* out, std::string* error) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    *error = "config " + path + ": " + std::string(e.description());
    return false;
  }
  static const char* kKnown[] = {"http", "public_ip", "bind_ip", "udp_port", "workers", "registry", "cors_origins", "max_sessions",
                                 "max_hosts", "keyframe_cache_ms", "keyframe_cache_bytes", "keyframe_replay_budget_bytes", "role", "region", "node_id",
                                 "cluster_secret_file", "relay_linger", "max_cpu", "auth_secret_file", "auth_jwks_file",
                                 "auth_issuer", "auth_audience", "metrics_http", "per_ip_session_rate",
                                 "per_ip_session_burst", "per_ip_max_sessions", "per_ip_max_connections",
                                 "http_header_timeout"};
  for (auto& [k, v] : t) {
    bool known = false;
    for (auto* name : kKnown) known |= k.str() == name;
    if (!known) {
      *error = "config " + path + ": unknown key '" + std::string(k.str()) + "'";
      return false;
    }
  }
  out->http = t["http"].value_or(out->http);
  out->public_ip = t["public_ip"].value_or(out->public_ip);
  out->bind_ip = t["bind_ip"].value_or(out->bind_ip);
  out->udp_port = t["udp_port"].value_or(out->udp_port);
  out->workers = t["workers"].value_or(out->workers);
  out->registry = t["registry"].value_or(out->registry);
  out->max_sessions = t["max_sessions"].value_or(out->max_sessions);
  out->max_hosts = t["max_hosts"].value_or(out->max_hosts);
  out->keyframe_cache_ms = t["keyframe_cache_ms"].value_or(out->keyframe_cache_ms);
  out->keyframe_cache_bytes = t["keyframe_cache_bytes"].value_or(out->keyframe_cache_bytes);
  out->keyframe_replay_budget_bytes = t["keyframe_replay_budget_bytes"].value_or(out->keyframe_replay_budget_bytes);
  out->role = t["role"].value_or(out->role);
  out->region = t["region"].value_or(out->region);
  out->node_id = t["node_id"].value_or(out->node_id);
  out->cluster_secret_file = t["cluster_secret_file"].value_or(out->cluster_secret_file);
  out->relay_linger_seconds = t["relay_linger"].value_or(out->relay_linger_seconds);
  out->max_cpu = t["max_cpu"].value_or(out->max_cpu);
  out->auth_secret_file = t["auth_secret_file"].value_or(out->auth_secret_file);
  out->auth_jwks_file = t["auth_jwks_file"].value_or(out->auth_jwks_file);
  out->auth_issuer = t["auth_issuer"].value_or(out->auth_issuer);
  out->auth_audience = t["auth_audience"].value_or(out->auth_audience);
  out->metrics_http = t["metrics_http"].value_or(out->metrics_http);
  out->per_ip_session_rate = t["per_ip_session_rate"].value_or(out->per_ip_session_rate);
  out->per_ip_session_burst = t["per_ip_session_burst"].value_or(out->per_ip_session_burst);
  out->per_ip_max_sessions = t["per_ip_max_sessions"].value_or(out->per_ip_max_sessions);
  out->per_ip_max_connections = t["per_ip_max_connections"].value_or(out->per_ip_max_connections);
  out->http_header_timeout_seconds = t["http_header_timeout"].value_or(out->http_header_timeout_seconds);
  if (auto* arr = t["cors_origins"].as_array()) {
    out->cors_origins.clear();
    for (auto& e : *arr) {
      if (auto s = e.value<std::string>()) out->cors_origins.push_back(*s);
    }
  }
  return true;
}

void merge_config(ServerConfig& base, const ServerConfig& flags, const CLI::App& cmd) {
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  if (given("--http")) base.http = flags.http;
  if (given("--public-ip")) base.public_ip = flags.public_ip;
  if (given("--bind-ip")) base.bind_ip = flags.bind_ip;
  if (given("--udp-port")) base.udp_port = flags.udp_port;
  if (given("--workers")) base.workers = flags.workers;
  if (given("--registry")) base.registry = flags.registry;
  if (given("--cors-origin")) base.cors_origins = flags.cors_origins;
  if (given("--max-sessions")) base.max_sessions = flags.max_sessions;
  if (given("--max-hosts")) base.max_hosts = flags.max_hosts;
  if (given("--keyframe-cache-ms")) base.keyframe_cache_ms = flags.keyframe_cache_ms;
  if (given("--keyframe-cache-bytes")) base.keyframe_cache_bytes = flags.keyframe_cache_bytes;
  if (given("--keyframe-replay-budget-bytes")) base.keyframe_replay_budget_bytes = flags.keyframe_replay_budget_bytes;
  if (given("--role")) base.role = flags.role;
  if (given("--region")) base.region = flags.region;
  if (given("--node-id")) base.node_id = flags.node_id;
  if (given("--cluster-secret-file")) base.cluster_secret_file = flags.cluster_secret_file;
  if (given("--relay-linger")) base.relay_linger_seconds = flags.relay_linger_seconds;
  if (given("--max-cpu")) base.max_cpu = flags.max_cpu;
  if (given("--auth-secret-file")) base.auth_secret_file = flags.auth_secret_file;
  if (given("--auth-jwks-file")) base.auth_jwks_file = flags.auth_jwks_file;
  if (given("--auth-issuer")) base.auth_issuer = flags.auth_issuer;
  if (given("--auth-audience")) base.auth_audience = flags.auth_audience;
  if (given("--metrics-http")) base.metrics_http = flags.metrics_http;
  if (given("--per-ip-session-rate")) base.per_ip_session_rate = flags.per_ip_session_rate;
  if (given("--per-ip-session-burst")) base.per_ip_session_burst = flags.per_ip_session_burst;
  if (given("--per-ip-max-sessions")) base.per_ip_max_sessions = flags.per_ip_max_sessions;
  if (given("--per-ip-max-connections")) base.per_ip_max_connections = flags.per_ip_max_connections;
  if (given("--http-header-timeout")) base.http_header_timeout_seconds = flags.http_header_timeout_seconds;
}

}  // namespace strata::app
