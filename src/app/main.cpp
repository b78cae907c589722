// strata: one binary, subcommands (DESIGN.md §2).
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "app/server.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Strata: WebRTC live-streaming media server (WHIP/WHEP SFU)"};
  app.require_subcommand(1);
  strata::app::ServerConfig cfg;
  std::string config_file;
  std::string log_level = "info";

  auto* dev = app.add_subcommand("dev", "broker + origin + edge in one process, in-memory registry, demo page at /");
  dev->add_option("--config", config_file, "TOML config file (flags override it)");
  dev->add_option("--http", cfg.http, "HTTP listen address HOST:PORT")->capture_default_str();
  dev->add_option("--public-ip", cfg.public_ip, "IP advertised in ICE candidates")->capture_default_str();
  dev->add_option("--udp-port", cfg.udp_port, "first media UDP port (worker i uses port+i; 0 = any)")->capture_default_str();
  dev->add_option("--bind-ip", cfg.bind_ip, "IP the media sockets bind to (default: --public-ip if local, else any)");
  dev->add_option("--workers", cfg.workers, "media worker threads (0 = one per core)")->capture_default_str();
  dev->add_option("--registry", cfg.registry, "cluster registry: memory (redis:// comes with clustering)")->capture_default_str();
  dev->add_option("--cors-origin", cfg.cors_origins, "allowed CORS origin (repeatable; default any)");
  dev->add_option("--max-sessions", cfg.max_sessions, "sessions before 503")->capture_default_str();
  dev->add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();

  for (const char* name : {"node", "broker"}) {
    app.add_subcommand(name, std::string(name) + " (origin-edge clustering; not in this build yet)")
        ->allow_extras();
  }

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (!dev->parsed()) {
    std::fprintf(stderr, "strata: '%s' is not available in this build yet: clustering (origin/edge/broker) is "
                         "tracked as a separate issue; use 'strata dev'\n",
                 app.get_subcommands().front()->get_name().c_str());
    return 2;
  }
  if (!config_file.empty()) {
    std::string error;
    strata::app::ServerConfig from_file;
    if (!strata::app::load_config_file(config_file, &from_file, &error)) {
      std::fprintf(stderr, "strata: %s\n", error.c_str());
      return 2;
    }
    // Flags given on the command line win over the file.
    strata::app::merge_config(from_file, cfg, *dev);
    cfg = from_file;
  }
  if (cfg.registry != "memory") {
    std::fprintf(stderr, "strata: --registry %s: only 'memory' is available in dev mode\n", cfg.registry.c_str());
    return 2;
  }

  strata::app::Server server(cfg);
  std::string error;
  if (!server.start(&error)) {
    std::fprintf(stderr, "strata: %s\n", error.c_str());
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("shutting down");
  server.stop();
  return 0;
}
