// Test helper: runs a private redis-server on a free loopback port
// (`redis-server --port N --save '' --appendonly no`), so registry tests never touch a
// shared Redis. Tests GTEST_SKIP when /usr/bin/redis-server is missing.
#pragma once
#include <sys/types.h>

#include <string>

namespace strata::registry::testing {

class RedisServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/redis-server";
  static bool available();
  static int free_port();

  RedisServer() = default;
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on `port` (0 = pick a free one) and waits until it answers PING (≤ 5 s).
  bool start(int port = 0);
  void stop();  // SIGTERM + wait; no-op when not running
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  bool wait_ready() const;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace strata::registry::testing
