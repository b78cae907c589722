#include "app/broker_server.hpp"

#include <spdlog/spdlog.h>

#include "app/access_config.hpp"
#include "broker/broker.hpp"
#include "common/socket_address.hpp"
#include "http/server.hpp"
#include "registry/cached_registry.hpp"
#include "registry/registry.hpp"

namespace strata::app {

BrokerServer::BrokerServer(ServerConfig config) : config_(std::move(config)) {}

BrokerServer::~BrokerServer() { stop(); }

bool BrokerServer::start(std::string* error) {
  HttpListen listen;
  if (!http_options(config_, &listen, error)) return false;
  auto backend = registry::make_registry(config_.registry, clock_, error);
  if (!backend) return false;
  // A broker may sit a backbone away from its Redis (regions, docs/ARCHITECTURE.md, "Cluster"): placements read
  // from a cache refreshed in the background instead of paying several round trips each.
  registry_ = std::make_unique<registry::CachedRegistry>(std::move(backend), clock_, registry::CachedRegistry::Options{});
  broker::BrokerOptions opts;
  opts.region = config_.region;
  opts.max_cpu = config_.max_cpu;
  opts.recent_placement_window = std::chrono::seconds(3);  // > heartbeat period + WHIP set-up
  std::shared_ptr<const auth::TokenVerifier> tokens;
  if (!load_token_verifier(config_, &tokens, error)) return false;
  if (tokens) {
    // The nodes accept a broker's redirect only with a ticket signed with their cluster secret.
    if (config_.cluster_secret_file.empty()) {
      *error = "--cluster-secret-file is required with --auth-*: the broker signs its redirect tickets with the nodes' secret";
      return false;
    }
    auto secret = read_secret_file(config_.cluster_secret_file, "--cluster-secret-file", error);
    if (!secret) return false;
    opts.access = auth::AccessPolicy(tokens, nullptr, "");
    opts.tickets = std::make_shared<const auth::TicketSigner>(*secret);
  }
  broker_ = std::make_unique<broker::Broker>(*registry_, opts);
  http::Router router;
  broker_->add_routes(router);
  http::ServerOptions hopts;
  hopts.host = listen.host;
  hopts.port = listen.port;
  hopts.cors_allowed_origins = listen.cors_origins;
  hopts.threads = 2;
  hopts.header_timeout_seconds = config_.http_header_timeout_seconds;
  hopts.max_connections_per_client = config_.per_ip_max_connections;
  http_ = std::make_unique<http::Server>(hopts, std::move(router));
  if (!http_->start(error)) return false;
  spdlog::info("strata broker: region {} on http://{}:{}, registry {}, access control {}", config_.region, hopts.host,
               http_->port(), config_.registry, tokens ? "on" : "off");
  return true;
}

void BrokerServer::stop() {
  if (http_) http_->stop();
}

}  // namespace strata::app
