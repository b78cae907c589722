// Plumbing of a bench run that is not the run itself: the pool that does blocking HTTP
// work off the packet loops, handing work to a loop, and the process set-up.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/socket_address.hpp"
#include "loadtest/event_loop.hpp"
#include "loadtest/server_sampler.hpp"

namespace strata::loadtest {

// Blocking HTTP work (WHEP/WHIP POSTs, DELETEs, Janus calls) off the packet loops.
class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();
  void submit(std::function<void()> fn);
  void wait_idle();

 private:
  void work();
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int busy_ = 0;
  bool stop_ = false;
};

// Runs fn on the loop thread and returns its result (the loop must be running).
template <typename F>
auto on_loop(EventLoop& loop, F fn) -> decltype(fn(loop)) {
  std::promise<decltype(fn(loop))> done;
  auto result = done.get_future();
  loop.post([&](EventLoop& l) { done.set_value(fn(l)); });
  return result.get();
}

// Hands a session to a loop (std::function needs a copyable callable).
void post_add(EventLoop& loop, std::unique_ptr<LoopSession> s);

// This bench process's CPU so far (getrusage), to show when the bench itself saturates.
CpuTimes self_cpu_times();
// The address the kernel would send from towards the URL's host (our ICE host candidate).
SocketAddress local_ip_towards(const std::string& url);
void raise_fd_limit();

}  // namespace strata::loadtest
