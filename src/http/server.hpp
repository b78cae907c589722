// Small HTTP/1.1 server (Boost.Beast) for the control plane: WHIP/WHEP signaling, metrics,
// admin and the demo page. Not on the media path. Handlers run synchronously on the
// server's io thread(s), so they may block only briefly; with threads > 1 they must be
// thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"

namespace strata::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = ephemeral, read back with Server::port()
  size_t max_body_bytes = 64 * 1024;
  std::vector<std::string> cors_allowed_origins;  // empty or "*" = any
  int threads = 1;
  int idle_timeout_seconds = 30;  // keep-alive connections idle longer are closed
  // A request's header must be complete this long after its first byte (on a new
  // connection: after the accept), and its body this long after the header: a client that
  // trickles bytes (slowloris) is dropped, and as every connection is asynchronous it holds
  // no thread meanwhile.
  int header_timeout_seconds = 10;
  // Connections one client (an IPv4 address or an IPv6 /64, auth::client_key) holds at once;
  // more are closed at accept, so one client cannot spend the process's file descriptors.
  // 0 = no limit.
  size_t max_connections_per_client = 0;
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then starts the io threads. False + *error on failure.
  bool start(std::string* error);
  uint16_t port() const;
  // Connections closed at accept because their client held max_connections_per_client.
  uint64_t refused_connections() const;
  // Closes the listener and all connections and joins the io threads. Idempotent. Must
  // not be called from a handler (it joins the thread running it).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::http
