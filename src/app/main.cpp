// strata: one binary, subcommands (the README's HTTP API).
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/broker_server.hpp"
#include "app/config.hpp"
#include "app/server.hpp"
#include "loadtest/bench.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void add_common_options(CLI::App* cmd, strata::app::ServerConfig& cfg, std::string& config_file, std::string& log_level) {
  cmd->add_option("--config", config_file, "TOML config file (flags override it)");
  cmd->add_option("--http", cfg.http, "HTTP listen address HOST:PORT")->capture_default_str();
  cmd->add_option("--registry", cfg.registry, "cluster registry: memory | redis://HOST:PORT")->capture_default_str();
  cmd->add_option("--cors-origin", cfg.cors_origins, "allowed CORS origin (repeatable; default any)");
  cmd->add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  cmd->add_option("--auth-secret-file", cfg.auth_secret_file, "access tokens: HS256 shared secret (>= 32 bytes); turns auth on");
  cmd->add_option("--auth-jwks-file", cfg.auth_jwks_file, "access tokens: ES256/EdDSA public keys as a JWK Set; turns auth on");
  cmd->add_option("--auth-issuer", cfg.auth_issuer, "access tokens must carry this \"iss\"");
  cmd->add_option("--auth-audience", cfg.auth_audience, "access tokens' \"aud\" must name this");
  cmd->add_option("--per-ip-max-connections", cfg.per_ip_max_connections,
                  "HTTP connections one client address holds at once (0 = no limit)");
  cmd->add_option("--http-header-timeout", cfg.http_header_timeout_seconds,
                  "seconds a client has to send a request's header before it is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 300));
}

void add_media_options(CLI::App* cmd, strata::app::ServerConfig& cfg) {
  cmd->add_option("--public-ip", cfg.public_ip,
                  "IP advertised in the one ICE candidate (default: dev every interface address and 127.0.0.1 last, "
                  "node 127.0.0.1)");
  cmd->add_option("--udp-port", cfg.udp_port, "first media UDP port (worker i uses port+i; 0 = any)")->capture_default_str();
  cmd->add_option("--bind-ip", cfg.bind_ip, "IP the media sockets bind to (default: --public-ip if local, else any)");
  cmd->add_option("--workers", cfg.workers, "media worker threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--max-sessions", cfg.max_sessions, "sessions before 503")->capture_default_str();
  cmd->add_option("--max-hosts", cfg.max_hosts, "hosts per live (and slots per viewer) at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--keyframe-cache-ms", cfg.keyframe_cache_ms,
                  "new viewers start from a cached keyframe at most this old (0 = off: they ask the host)")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  cmd->add_option("--keyframe-cache-bytes", cfg.keyframe_cache_bytes, "RTP bytes the keyframe cache keeps per track and layer")
      ->capture_default_str()
      ->check(CLI::Range(size_t(16384), size_t(64) << 20));
  cmd->add_option("--metrics-http", cfg.metrics_http, "extra HOST:PORT serving /metrics and /healthz without auth");
  cmd->add_option("--per-ip-session-rate", cfg.per_ip_session_rate, "new sessions per second per client address (0 = no limit)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--per-ip-session-burst", cfg.per_ip_session_burst, "burst of new sessions per client address (0 = 2 x rate)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--per-ip-max-sessions", cfg.per_ip_max_sessions, "sessions one client address holds at once (0 = no limit)");
  cmd->add_option("--keyframe-replay-budget-bytes", cfg.keyframe_replay_budget_bytes,
                  "cached bytes that all of one worker's viewer replays may have left to send; past it a new viewer asks the host for a keyframe (0 = no limit)")
      ->capture_default_str();
}

// Waits for SIGINT/SIGTERM.
void wait_for_signal() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("shutting down");
}


// Every HTTP connection is a file descriptor: take the hard limit, not the 1024 a shell's
// soft limit usually is.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  raise_fd_limit();
  // `strata bench ...`: the load tester parses its own flags (loadtest/bench.cpp).
  if (argc >= 2 && std::string(argv[1]) == "bench") return strata::loadtest::bench_main(argc - 1, argv + 1);
  CLI::App app{"Strata: WebRTC live-streaming media server (WHIP/WHEP SFU, origin-edge cluster)"};
  app.require_subcommand(1);
  strata::app::ServerConfig cfg;
  std::string config_file;
  std::string log_level = "info";

  auto* dev = app.add_subcommand("dev", "broker + origin + edge in one process, in-memory registry, demo page at /");
  add_common_options(dev, cfg, config_file, log_level);
  add_media_options(dev, cfg);

  auto* node = app.add_subcommand("node", "one media server of a cluster: an origin (hosts) or an edge (viewers)");
  add_common_options(node, cfg, config_file, log_level);
  add_media_options(node, cfg);
  node->add_option("--role", cfg.role, "origin | edge")->check(CLI::IsMember({"origin", "edge"}))->required();
  node->add_option("--region", cfg.region, "region this node serves")->capture_default_str();
  node->add_option("--node-id", cfg.node_id, "unique node id (default: role-host:port)");
  node->add_option("--cluster-secret-file", cfg.cluster_secret_file, "file holding the secret relays authenticate with");
  node->add_option("--relay-linger", cfg.relay_linger_seconds, "seconds a relay stays after its last viewer")->capture_default_str();

  auto* broker = app.add_subcommand("broker", "places hosts on origins and viewers on edges (HTTP 307)");
  add_common_options(broker, cfg, config_file, log_level);
  broker->add_option("--region", cfg.region, "region this broker serves")->capture_default_str();
  broker->add_option("--cluster-secret-file", cfg.cluster_secret_file,
                     "the nodes' cluster secret: signs the redirect tickets (needed with --auth-*)");
  broker->add_option("--max-cpu", cfg.max_cpu, "nodes at or above this CPU share (0..1) of their machine get no new sessions")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();

  app.add_subcommand("bench", "WebRTC load tester: many real viewers/hosts (strata bench --help)");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  CLI::App* cmd = app.get_subcommands().front();
  if (!config_file.empty()) {
    std::string error;
    strata::app::ServerConfig from_file;
    if (!strata::app::load_config_file(config_file, &from_file, &error)) {
      std::fprintf(stderr, "strata: %s\n", error.c_str());
      return 2;
    }
    strata::app::merge_config(from_file, cfg, *cmd);  // flags win over the file
    cfg = from_file;
  }
  std::string error;
  if (broker->parsed()) {
    strata::app::BrokerServer server(cfg);
    if (!server.start(&error)) {
      std::fprintf(stderr, "strata broker: %s\n", error.c_str());
      return 1;
    }
    wait_for_signal();
    server.stop();
    return 0;
  }
  if (dev->parsed()) cfg.role = "dev";
  strata::app::Server server(cfg);
  if (!server.start(&error)) {
    std::fprintf(stderr, "strata %s: %s\n", cmd->get_name().c_str(), error.c_str());
    return 1;
  }
  wait_for_signal();
  server.stop();
  return 0;
}
