#include "loadtest/event_loop.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ctime>
#include <cerrno>
#include <cstring>

#include "common/srtp_keys.hpp"

namespace strata::loadtest {

int open_udp_socket(const SocketAddress& bind_to, std::string* error) {
  int fd = ::socket(bind_to.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int size = 1 << 20;  // absorb a keyframe burst while the loop serves other sessions
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (::bind(fd, bind_to.sockaddr_ptr(), bind_to.sockaddr_len()) != 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

SocketAddress local_address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

EventLoop::EventLoop() {
  for (int i = 0; i < kBatch; ++i) {
    iovs_[i] = {buffers_[i].data(), kBufferSize - kSrtpMaxTrailer};
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
  }
}

EventLoop::~EventLoop() {
  stop();
  for (auto& s : sessions_)
    if (!s->closed && s->fd() >= 0) ::close(s->fd());
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool EventLoop::start(std::string* error) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    *error = std::string("epoll/eventfd: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr = the wake-up eventfd
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void EventLoop::stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void EventLoop::post(std::function<void(EventLoop&)> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::add(std::unique_ptr<LoopSession> s) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = s.get();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s->fd(), &ev);
  by_id_[s->id] = s.get();
  sessions_.push_back(std::move(s));
}

void EventLoop::close_session(uint64_t id, Timestamp now) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  LoopSession* s = it->second;
  by_id_.erase(it);
  if (s->closed) return;
  s->close(now);
  s->closed = true;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->fd(), nullptr);
  ::close(s->fd());
}

void EventLoop::drain_posted() {
  uint64_t n;
  (void)!::read(wake_fd_, &n, sizeof n);
  std::vector<std::function<void(EventLoop&)>> work;
  {
    std::lock_guard lock(mu_);
    work.swap(posted_);
  }
  for (auto& fn : work) fn(*this);
}

void EventLoop::read_socket(LoopSession* s, Timestamp now) {
  for (int round = 0; round < 4 && !s->closed; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs_[i].msg_hdr.msg_control = control_[i].data();
      msgs_[i].msg_hdr.msg_controllen = kControlSize;
      msgs_[i].msg_len = 0;
    }
    int n = ::recvmmsg(s->fd(), msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    datagrams_.fetch_add(uint64_t(n), std::memory_order_relaxed);
    // Kernel timestamps are CLOCK_REALTIME: map them onto the steady clock through "now".
    timespec real{};
    ::clock_gettime(CLOCK_REALTIME, &real);
    now = SteadyClock().now();
    int64_t real_now_us = int64_t(real.tv_sec) * 1'000'000 + real.tv_nsec / 1000;
    for (int i = 0; i < n && !s->closed; ++i) {
      auto from = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&addrs_[i]), msgs_[i].msg_hdr.msg_namelen);
      Timestamp arrival = now;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs_[i].msg_hdr, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        int64_t age = real_now_us - (int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
        if (age > 0 && age < 10'000'000) arrival = now - Duration(age);
      }
      s->on_datagram(buffers_[i].data(), msgs_[i].msg_len, from, arrival);
    }
    if (n < kBatch) return;
  }
}

void EventLoop::run() {
  SteadyClock clock;
  std::array<epoll_event, 256> events;
  Timestamp next_tick = clock.now();
  while (running_.load(std::memory_order_relaxed)) {
    Timestamp now = clock.now();
    int timeout_ms = next_tick > now ? int(std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - now).count()) : 0;
    int n = ::epoll_wait(epoll_fd_, events.data(), int(events.size()), timeout_ms);
    now = clock.now();
    for (int i = 0; i < n; ++i) {
      auto* s = static_cast<LoopSession*>(events[i].data.ptr);
      if (!s) drain_posted();
      else if (!s->closed) read_socket(s, now);
    }
    if (now >= next_tick) {
      for (auto& s : sessions_)
        if (!s->closed) s->on_tick(now);
      next_tick = now + kTick;
    }
  }
}

}  // namespace strata::loadtest
