// A running media server: workers (data plane), session manager and HTTP (control plane).
#pragma once
#include <memory>
#include <string>

#include "app/config.hpp"

namespace strata::worker {
class WorkerGroup;
}
namespace strata::signaling {
class SessionManager;
}
namespace strata::http {
class Server;
}

namespace strata::app {

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  bool start(std::string* error);
  void stop();
  uint16_t http_port() const;

 private:
  ServerConfig config_;
  std::unique_ptr<worker::WorkerGroup> workers_;
  std::unique_ptr<signaling::SessionManager> sessions_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace strata::app
