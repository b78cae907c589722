#include "app/server.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "common/socket_address.hpp"
#include "dtls/certificate.hpp"
#include "http/embedded.hpp"
#include "http/server.hpp"
#include "signaling/http_api.hpp"
#include "signaling/session_manager.hpp"
#include "worker/worker.hpp"

namespace strata::app {

Server::Server(ServerConfig config) : config_(std::move(config)) {}

Server::~Server() { stop(); }

bool Server::start(std::string* error) {
  auto http_addr = SocketAddress::parse(config_.http);
  if (!http_addr) {
    *error = "--http " + config_.http + ": expected HOST:PORT";
    return false;
  }
  if (!SocketAddress::from_ip_port(config_.public_ip, 1)) {
    *error = "--public-ip " + config_.public_ip + ": not an IP address";
    return false;
  }
  if (config_.udp_port < 0 || config_.udp_port > 65535) {
    *error = "--udp-port must be 0..65535";
    return false;
  }
  int n = config_.workers > 0 ? config_.workers : int(std::max(1u, std::thread::hardware_concurrency()));
  workers_ = std::make_unique<worker::WorkerGroup>(n);
  std::string bind_ip = config_.bind_ip.empty() ? config_.public_ip : config_.bind_ip;
  if (!workers_->open(bind_ip, uint16_t(config_.udp_port), error)) {
    if (!config_.bind_ip.empty()) return false;
    // The advertised IP is not on this host (NAT, load balancer): listen on all addresses.
    workers_ = std::make_unique<worker::WorkerGroup>(n);
    bind_ip = SocketAddress::from_ip_port(config_.public_ip, 0)->is_v6() ? "::" : "0.0.0.0";
    if (!workers_->open(bind_ip, uint16_t(config_.udp_port), error)) return false;
  }

  auto cert = dtls::Certificate::generate();
  if (!cert) {
    *error = "cannot create the DTLS certificate";
    return false;
  }
  signaling::SessionManagerOptions sopts;
  sopts.public_ip = config_.public_ip;
  sopts.max_sessions = config_.max_sessions;
  sessions_ = std::make_unique<signaling::SessionManager>(*workers_, cert, sopts);

  http::Router router;
  signaling::NodeInfo node{"dev-" + config_.http, "dev", "local", "http://" + config_.http};
  signaling::add_media_routes(router, *sessions_, node);
  http::add_embedded(router, http::embedded_web_files());

  http::ServerOptions hopts;
  hopts.host = http_addr->ip_string();
  hopts.port = http_addr->port();
  hopts.cors_allowed_origins = config_.cors_origins;
  hopts.threads = 2;
  http_ = std::make_unique<http::Server>(hopts, std::move(router));
  workers_->start();
  if (!http_->start(error)) return false;
  spdlog::info("strata dev: http://{}:{}  media udp {}:{}..{} (advertised {}), {} workers", hopts.host, http_->port(),
               bind_ip, workers_->at(0).port(), workers_->at(n - 1).port(), config_.public_ip, n);
  return true;
}

void Server::stop() {
  if (http_) http_->stop();
  if (workers_) workers_->stop();
}

uint16_t Server::http_port() const { return http_ ? http_->port() : 0; }

}  // namespace strata::app
