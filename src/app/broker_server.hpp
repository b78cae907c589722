// `strata broker`: a stateless placement service over the registry (docs/ARCHITECTURE.md, "Cluster").
#pragma once
#include <memory>
#include <string>

#include "app/config.hpp"
#include "common/time.hpp"

namespace strata::registry {
class Registry;
}
namespace strata::broker {
class Broker;
}
namespace strata::http {
class Server;
}

namespace strata::app {

class BrokerServer {
 public:
  explicit BrokerServer(ServerConfig config);
  ~BrokerServer();
  bool start(std::string* error);
  void stop();

 private:
  ServerConfig config_;
  SteadyClock clock_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace strata::app
