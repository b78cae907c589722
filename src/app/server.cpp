#include "app/server.hpp"

#include <malloc.h>  // malloc_trim (glibc)

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/access_config.hpp"
#include "auth/ticket.hpp"
#include "common/heap_trimmer.hpp"
#include "common/network_interfaces.hpp"
#include "common/socket_address.hpp"
#include "dtls/certificate.hpp"
#include "http/embedded.hpp"
#include "http/server.hpp"
#include "registry/registry.hpp"
#include "signaling/http_api.hpp"
#include "signaling/session_manager.hpp"
#include "worker/worker.hpp"

namespace strata::app {

Server::Server(ServerConfig config) : config_(std::move(config)) {}

Server::~Server() { stop(); }

bool Server::start(std::string* error) {
  HttpListen listen;
  if (!http_options(config_, &listen, error)) return false;
  if (!config_.public_ip.empty() && !SocketAddress::from_ip_port(config_.public_ip, 1)) {
    *error = "--public-ip " + config_.public_ip + ": not an IP address";
    return false;
  }
  if (!config_.bind_ip.empty() && !SocketAddress::from_ip_port(config_.bind_ip, 1)) {
    *error = "--bind-ip " + config_.bind_ip + ": not an IP address";
    return false;
  }
  if (config_.udp_port < 0 || config_.udp_port > 65535) {
    *error = "--udp-port must be 0..65535";
    return false;
  }
  // A cluster node is reached by other machines at an address it cannot guess: without
  // --public-ip it advertises 127.0.0.1 as it always did.
  if (config_.public_ip.empty() && config_.role != "dev") config_.public_ip = "127.0.0.1";
  int n = config_.workers > 0 ? config_.workers : int(std::max(1u, std::thread::hardware_concurrency()));
  std::string bind_ip;
  if (!(config_.public_ip.empty() ? open_workers_on_interfaces(n, &bind_ip, error) : open_workers(n, &bind_ip, error)))
    return false;

  auto cert = dtls::Certificate::generate();
  if (!cert) {
    *error = "cannot create the DTLS certificate";
    return false;
  }
  if (!start_registry(error)) return false;
  signaling::SessionManagerOptions sopts;
  sopts.public_ip = config_.public_ip;
  sopts.host_candidates = host_candidates_;
  sopts.max_sessions = config_.max_sessions;
  sopts.max_hosts = config_.max_hosts;
  sopts.role = config_.role == "origin" ? signaling::NodeRole::kOrigin
               : config_.role == "edge" ? signaling::NodeRole::kEdge
                                        : signaling::NodeRole::kDev;
  sopts.region = config_.region;
  sopts.http_url = "http://" + config_.http;
  sopts.node_id = config_.node_id.empty() ? config_.role + "-" + config_.http : config_.node_id;
  sopts.relay_linger = std::chrono::seconds(config_.relay_linger_seconds);
  sopts.registry = config_.role == "dev" ? nullptr : registry_.get();
  if (!config_.cluster_secret_file.empty()) {
    auto secret = read_secret_file(config_.cluster_secret_file, "--cluster-secret-file", error);
    if (!secret) return false;
    sopts.cluster_secret = std::move(*secret);
  } else if (config_.role != "dev") {
    *error = "--cluster-secret-file is required for origins and edges (relays authenticate with it)";
    return false;
  }
  signaling::ApiAccess access;
  std::shared_ptr<const auth::TokenVerifier> tokens;
  if (!load_token_verifier(config_, &tokens, error)) return false;
  if (tokens) {
    // Nodes accept the brokers' redirect tickets, signed with the cluster secret.
    auto tickets = sopts.cluster_secret.empty() ? nullptr : std::make_shared<const auth::TicketSigner>(sopts.cluster_secret);
    access.policy = auth::AccessPolicy(tokens, tickets, sopts.node_id);
  }
  sopts.client_limits = auth::ClientLimits{.sessions_per_second = config_.per_ip_session_rate,
                                           .burst = config_.per_ip_session_burst,
                                           .max_sessions = config_.per_ip_max_sessions};
  sessions_ = std::make_unique<signaling::SessionManager>(*workers_, cert, sopts);

  http::Router router;
  signaling::NodeInfo node{sopts.node_id, config_.role, config_.region, sopts.http_url};
  http::Router metrics_router;
  signaling::add_media_routes(router, *sessions_, node, access, &metrics_router);
  http::add_embedded(router, http::embedded_web_files());

  http::ServerOptions hopts;
  hopts.host = listen.host;
  hopts.port = listen.port;
  hopts.cors_allowed_origins = listen.cors_origins;
  hopts.threads = 2;
  hopts.header_timeout_seconds = config_.http_header_timeout_seconds;
  hopts.max_connections_per_client = config_.per_ip_max_connections;
  http_ = std::make_unique<http::Server>(hopts, std::move(router));
  workers_->set_keyframe_cache(sfu::KeyframeCacheConfig{.enabled = config_.keyframe_cache_ms > 0,
                                                        .max_age = std::chrono::milliseconds(config_.keyframe_cache_ms),
                                                        .max_bytes = config_.keyframe_cache_bytes,
                                                        .replay_budget_bytes = config_.keyframe_replay_budget_bytes});
  workers_->start();
  if (!http_->start(error)) return false;
  if (!start_metrics_http(std::move(metrics_router), error)) return false;
  if (registry_ && sopts.registry) {
    registry_->subscribe([this](const registry::Event& e) { sessions_->on_registry_event(e); });
  }
  running_ = true;
  control_ = std::thread([this] { control_loop(); });
  std::string advertised;
  for (const auto& c : host_candidates_) advertised += (advertised.empty() ? "" : ", ") + c.ip;
  spdlog::info("strata {} ({}): http://{}:{}  media udp {}..{} (advertised {}), {} workers", config_.role, sopts.node_id, hopts.host, http_->port(),
               SocketAddress::from_ip_port(bind_ip, workers_->at(0).port())->to_string(), workers_->at(n - 1).port(), advertised, n);
  spdlog::info("access control {}", tokens ? "on: WHIP/WHEP and /api/v1 need tokens" : "off (no --auth-secret-file / --auth-jwks-file)");
  return true;
}

// --public-ip given: one host candidate, sockets on --bind-ip, else on the public IP when
// it is local (replies then leave from the address the client checked), else on the
// wildcard address.
bool Server::open_workers(int n, std::string* bind_ip, std::string* error) {
  host_candidates_ = {ice::single_host_candidate(config_.public_ip)};
  workers_ = std::make_unique<worker::WorkerGroup>(n);
  *bind_ip = config_.bind_ip.empty() ? config_.public_ip : config_.bind_ip;
  if (workers_->open(*bind_ip, uint16_t(config_.udp_port), error)) return true;
  if (!config_.bind_ip.empty()) return false;
  // The advertised IP is not on this host (NAT, load balancer): listen on all addresses.
  workers_ = std::make_unique<worker::WorkerGroup>(n);
  *bind_ip = SocketAddress::from_ip_port(config_.public_ip, 0)->is_v6() ? "::" : "0.0.0.0";
  return workers_->open(*bind_ip, uint16_t(config_.udp_port), error);
}

// `strata dev` without --public-ip: a host candidate for every interface address and
// 127.0.0.1 last (ice::host_candidates), so a browser on this machine or the LAN finds an
// address it pairs with (Firefox never pairs its interface addresses with a remote
// loopback candidate). Each worker binds one wildcard socket that reports the destination
// of every datagram, and answers from it (worker::UdpSocket). --bind-ip pins the sockets:
// a specific address is then the one candidate, a wildcard one limits the families.
bool Server::open_workers_on_interfaces(int n, std::string* bind_ip, std::string* error) {
  const auto bind = config_.bind_ip.empty() ? std::optional<SocketAddress>{} : SocketAddress::from_ip_port(config_.bind_ip, 0);
  if (bind && !bind->is_unspecified()) {
    host_candidates_ = {ice::single_host_candidate(config_.bind_ip)};
    workers_ = std::make_unique<worker::WorkerGroup>(n);
    *bind_ip = config_.bind_ip;
    return workers_->open(*bind_ip, uint16_t(config_.udp_port), error);
  }
  std::string list_error;
  auto interfaces = list_interface_addresses(&list_error);
  if (!list_error.empty()) spdlog::warn("{}: advertising 127.0.0.1 only", list_error);
  // IPv6 needs a dual-stack socket ("::"); where the kernel has no IPv6, IPv4 alone.
  bool ipv6 = !bind || bind->is_v6();
  for (int attempt = 0; attempt < 2; ++attempt) {
    host_candidates_ = ice::host_candidates(interfaces, {ipv6});
    bool any_v6 = std::any_of(host_candidates_.begin(), host_candidates_.end(),
                              [](const ice::HostCandidate& c) { return c.ip.find(':') != std::string::npos; });
    *bind_ip = any_v6 ? "::" : "0.0.0.0";
    workers_ = std::make_unique<worker::WorkerGroup>(n);
    if (workers_->open(*bind_ip, uint16_t(config_.udp_port), error, /*report_destination=*/true)) return true;
    if (!any_v6) return false;
    spdlog::warn("media sockets on [::] failed ({}): advertising IPv4 addresses only", *error);
    ipv6 = false;
  }
  return false;
}

// --metrics-http: /metrics and /healthz on an address of their own (an internal network the
// scraper reaches), without auth, so Prometheus needs no token.
bool Server::start_metrics_http(http::Router router, std::string* error) {
  if (config_.metrics_http.empty()) return true;
  ServerConfig only = config_;
  only.http = config_.metrics_http;
  HttpListen listen;
  if (!http_options(only, &listen, error)) {
    *error = "--metrics-http: " + *error;
    return false;
  }
  http::ServerOptions hopts;
  hopts.host = listen.host;
  hopts.port = listen.port;
  hopts.threads = 1;
  hopts.header_timeout_seconds = config_.http_header_timeout_seconds;
  metrics_http_ = std::make_unique<http::Server>(hopts, std::move(router));
  if (!metrics_http_->start(error)) return false;
  spdlog::info("metrics on http://{}:{}/metrics", listen.host, metrics_http_->port());
  return true;
}

bool Server::start_registry(std::string* error) {
  if (config_.role == "dev") return true;  // dev keeps its directory in the SessionManager
  if (config_.registry == "memory") {
    *error = "--registry memory is for 'strata dev'; a cluster node needs redis://HOST:PORT";
    return false;
  }
  registry_ = registry::make_registry(config_.registry, clock_, error);
  return registry_ != nullptr;
}

// Control-plane duties off the HTTP threads: registry heartbeat, claims, relay linger.
void Server::control_loop() {
  HeapTrimmer trimmer;
  SteadyClock clock;
  while (running_) {
    sessions_->poll();
    if (trimmer.on_poll(sessions_->session_count(), clock.now())) malloc_trim(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Server::stop() {
  running_ = false;
  if (control_.joinable()) control_.join();
  if (metrics_http_) metrics_http_->stop();
  if (http_) http_->stop();
  if (workers_) workers_->stop();
  registry_.reset();  // joins its subscriber thread before the session manager goes away
}

uint16_t Server::http_port() const { return http_ ? http_->port() : 0; }

}  // namespace strata::app
