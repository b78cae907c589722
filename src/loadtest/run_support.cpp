#include "loadtest/run_support.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <unistd.h>

namespace strata::loadtest {

WorkPool::WorkPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkPool::submit(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void WorkPool::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
}

void WorkPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    fn();
    lock.lock();
    if (--busy_ == 0 && queue_.empty()) idle_cv_.notify_all();
  }
}

void post_add(EventLoop& loop, std::unique_ptr<LoopSession> s) {
  auto holder = std::make_shared<std::unique_ptr<LoopSession>>(std::move(s));
  loop.post([holder](EventLoop& l) { l.add(std::move(*holder)); });
}

CpuTimes self_cpu_times() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

SocketAddress local_ip_towards(const std::string& url) {
  auto fallback = *SocketAddress::parse("127.0.0.1:0");
  auto begin = url.find("://");
  begin = begin == std::string::npos ? 0 : begin + 3;
  auto end = url.find_first_of(":/", begin);
  std::string host = url.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host.c_str(), "9", &hints, &res) != 0 || !res) return fallback;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  SocketAddress out = fallback;
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0) out = local_address_of(fd);
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  out.set_port(0);
  return out;
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace strata::loadtest
