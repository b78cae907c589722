// The bench's packet loop: one thread, one epoll set over every session's own UDP socket
// (the server tells sessions apart by 5-tuple), recvmmsg in batches into loop-owned
// buffers, and a 5 ms tick that drives every session's timers. Other threads hand work
// in with post() (an eventfd wakes the loop).
#pragma once
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"

namespace strata::loadtest {

// A non-blocking UDP socket bound to `bind` (port 0 = any) with kernel receive timestamps
// (SO_TIMESTAMPNS). -1 with *error on failure.
int open_udp_socket(const SocketAddress& bind, std::string* error);
SocketAddress local_address_of(int fd);

class LoopSession {
 public:
  virtual ~LoopSession() = default;
  // `data` has room for at least kSrtpMaxTrailer bytes past len (it is a loop buffer).
  virtual void on_datagram(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) = 0;
  virtual void on_tick(Timestamp now) = 0;
  // Sends DTLS close_notify and stops; the loop then closes the socket. Stats stay readable.
  virtual void close(Timestamp now) = 0;
  virtual int fd() const = 0;
  uint64_t id = 0;
  bool closed = false;
};

class EventLoop {
 public:
  static constexpr int kBatch = 32;
  static constexpr size_t kBufferSize = 2048;
  static constexpr Duration kTick = std::chrono::milliseconds(5);

  EventLoop();
  ~EventLoop();
  bool start(std::string* error);
  void stop();  // joins the thread; sessions are kept for the report

  // Thread-safe: runs `fn` on the loop thread.
  void post(std::function<void(EventLoop&)> fn);

  // Loop thread only.
  void add(std::unique_ptr<LoopSession> s);
  void close_session(uint64_t id, Timestamp now);
  const std::vector<std::unique_ptr<LoopSession>>& sessions() const { return sessions_; }

  uint64_t datagrams_received() const { return datagrams_.load(std::memory_order_relaxed); }

 private:
  void run();
  void drain_posted();
  void read_socket(LoopSession* s, Timestamp now);

  int epoll_fd_ = -1, wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::vector<std::function<void(EventLoop&)>> posted_;
  std::vector<std::unique_ptr<LoopSession>> sessions_;  // every session ever added
  std::unordered_map<uint64_t, LoopSession*> by_id_;
  std::atomic<uint64_t> datagrams_{0};
  // recvmmsg state, reused for every read.
  std::array<std::array<uint8_t, kBufferSize>, kBatch> buffers_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iovs_{};
  std::array<sockaddr_storage, kBatch> addrs_{};
  // SO_TIMESTAMPNS control messages: kernel receive times, so transport-cc feedback and
  // jitter do not include the time a datagram waited for this loop.
  static constexpr size_t kControlSize = 64;
  std::array<std::array<uint8_t, kControlSize>, kBatch> control_{};
};

}  // namespace strata::loadtest
