// A running media server: workers (data plane), session manager and HTTP (control plane).
#pragma once
#include <memory>
#include <atomic>
#include <string>
#include <thread>

#include "common/time.hpp"

#include "app/config.hpp"
#include "ice/host_candidates.hpp"

namespace strata::worker {
class WorkerGroup;
}
namespace strata::signaling {
class SessionManager;
}
namespace strata::http {
class Server;
class Router;
}
namespace strata::registry {
class Registry;
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
  bool start_registry(std::string* error);
  bool start_metrics_http(http::Router router, std::string* error);
  bool open_workers(int n, std::string* bind_ip, std::string* error);
  bool open_workers_on_interfaces(int n, std::string* bind_ip, std::string* error);
  void control_loop();

  ServerConfig config_;
  SteadyClock clock_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<worker::WorkerGroup> workers_;
  std::vector<ice::HostCandidate> host_candidates_;  // what answers advertise
  std::unique_ptr<signaling::SessionManager> sessions_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<http::Server> metrics_http_;
  std::atomic<bool> running_{false};
  std::thread control_;
};

}  // namespace strata::app
