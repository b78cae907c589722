#include "worker/worker.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stun/message.hpp"

namespace strata::worker {

namespace {
constexpr size_t kRingCapacity = 8192;
constexpr int kMaxReceiveBatchesPerWake = 16;  // fairness between socket, rings and timers

Timestamp steady_now() { return SteadyClock().now(); }
}  // namespace

Worker::Worker(WorkerGroup& group, int index) : group_(group), index_(index), epoll_ctl_(&::epoll_ctl) {}

Worker::~Worker() {
  stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool Worker::open(const SocketAddress& bind, std::string* error, bool report_destination) {
  if (!socket_.open(bind, error, report_destination)) return false;
  // Every step below can fail on a descriptor limit (EMFILE/ENFILE) or kernel memory; each
  // failure undoes what came before, so a failed open holds no port and no descriptor.
  auto fail = [&](const std::string& what) {
    *error = "worker " + std::to_string(index_) + ": " + what;
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    wake_fd_ = epoll_fd_ = -1;
    socket_.close();
    return false;
  };
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return fail(std::string("epoll_create1: ") + std::strerror(errno));
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return fail(std::string("eventfd: ") + std::strerror(errno));
  std::string watch_error;
  if (!watch(socket_.fd(), &watch_error)) return fail(watch_error + " (UDP socket)");
  if (!watch(wake_fd_, &watch_error)) return fail(watch_error + " (eventfd)");
  bind_address_ = bind;
  sender_ = std::make_unique<SendBatch>(socket_.fd());
  for (int i = 0; i < group_.size(); ++i) inboxes_.push_back(std::make_unique<SpscRing<FanoutItem>>(kRingCapacity));
  return true;
}

// Adds `fd` to the epoll set, readable events only.
bool Worker::watch(int fd, std::string* error) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl_(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) return true;
  *error = std::string("epoll_ctl(ADD): ") + std::strerror(errno);
  return false;
}

void Worker::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (!running_.exchange(false)) return;
  wake();
  if (thread_.joinable()) thread_.join();
}

void Worker::post(std::function<void(Worker&)> fn) {
  {
    std::lock_guard lock(commands_mu_);
    commands_.push_back(std::move(fn));
  }
  wake();
}

void Worker::wake() {
  uint64_t one = 1;
  if (sleeping_.exchange(false, std::memory_order_acq_rel)) (void)!::write(wake_fd_, &one, sizeof one);
}

void Worker::run() {
  now_ = steady_now();
  next_tick_ = now_ + kTick;
  epoll_event events[4];
  while (running_.load(std::memory_order_relaxed)) {
    // Announce sleep, then re-check the inboxes, so a producer that pushes after our check
    // sees sleeping_ and wakes us (no lost wake-up).
    sleeping_.store(true, std::memory_order_seq_cst);
    bool pending = false;
    for (auto& in : inboxes_) pending |= !in->empty();
    {
      std::lock_guard lock(commands_mu_);
      pending |= !commands_.empty();
    }
    int timeout_ms = 0;
    if (!pending) {
      auto until_tick = next_tick_ - steady_now();
      timeout_ms = std::max<int>(0, int(to_millis(until_tick)) + 1);
    }
    int n = ::epoll_wait(epoll_fd_, events, 4, timeout_ms);
    sleeping_.store(false, std::memory_order_relaxed);
    now_ = steady_now();
    bool session_socket_ready = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      } else if (events[i].data.fd != socket_.fd()) {
        session_socket_ready = true;
      }
    }
    run_commands();
    drain_inboxes();
    receive_datagrams();
    if (session_socket_ready) {
      for (auto& ss : session_sockets_) receive_session_socket(ss);
    }
    if (now_ >= next_tick_) tick();
    sender_->flush();
    for (auto& ss : session_sockets_) ss.sender->flush();
    metrics_.packets_out.v.store(sender_->packets_sent(), std::memory_order_relaxed);
    metrics_.bytes_out.v.store(sender_->bytes_sent(), std::memory_order_relaxed);
    metrics_.drop_send_error.v.store(sender_->send_errors(), std::memory_order_relaxed);
  }
  // Orderly shutdown: sessions say goodbye while the socket still exists.
  for (auto& [id, s] : sessions_) s->on_close(now_);
  sender_->flush();
  for (auto& ss : session_sockets_) ss.sender->flush();
  session_sockets_.clear();
  sessions_.clear();
  discard_inboxes();
}

// Packets still queued hold buffers of other workers' pools: release them while every
// pool is alive (WorkerGroup calls this again after all workers stopped, for packets
// pushed by workers that were still running).
void Worker::discard_inboxes() {
  FanoutItem item;
  for (auto& in : inboxes_) {
    while (in->pop(item)) item.packet.reset();
  }
}

void Worker::run_commands() {
  std::vector<std::function<void(Worker&)>> batch;
  {
    std::lock_guard lock(commands_mu_);
    batch.swap(commands_);
  }
  for (auto& fn : batch) fn(*this);
}

void Worker::drain_inboxes() {
  FanoutItem item;
  for (auto& in : inboxes_) {
    while (in->pop(item)) {
      deliver_local(item);
      item.packet.reset();
    }
  }
}

void Worker::receive_datagrams() {
  for (int round = 0; round < kMaxReceiveBatchesPerWake; ++round) {
    int n = socket_.receive_batch(pool_, recv_bufs_, recv_from_, &recv_local_);
    for (int i = 0; i < n; ++i) {
      metrics_.packets_in.add();
      metrics_.bytes_in.add(recv_bufs_[size_t(i)].size());
      dispatch(recv_bufs_[size_t(i)], recv_from_[size_t(i)], recv_local_[size_t(i)]);
    }
    if (n < UdpSocket::kRecvBatch) return;
  }
}

// RFC 7983 §7: the first byte says which protocol a datagram carries.
void Worker::dispatch(PacketRef& packet, const SocketAddress& from, const SocketAddress& local) {
  if (packet.size() == 0) {
    metrics_.drop_malformed.add();
    return;
  }
  uint8_t b = packet.data()[0];
  if (b <= 3) {
    ByteSpan bytes(packet.data(), packet.size());
    auto user = stun::peek_username(bytes);
    if (!user || stun::peek_is_response(bytes)) {
      // A response (to a client path verification, ice::IceLiteAgent, or a check this
      // server sent as an ICE client): routed like media by the address it comes from. Its
      // USERNAME, if any, is not ours to route by (libnice echoes the request's).
      auto by_addr = stun::looks_like_stun(bytes) ? by_address_.find(from) : by_address_.end();
      if (by_addr == by_address_.end()) {
        metrics_.drop_malformed.add();
        return;
      }
      by_addr->second->on_datagram(packet, from, local, now_);
      return;
    }
    // USERNAME is "<our ufrag>:<peer ufrag>" (RFC 8445 §7.2.2).
    auto colon = user->find(':');
    std::string local_ufrag(user->substr(0, colon));
    auto it = by_ufrag_.find(local_ufrag);
    if (it == by_ufrag_.end()) {
      metrics_.drop_unknown_ufrag.add();
      return;
    }
    it->second->on_datagram(packet, from, local, now_);
    return;
  }
  if ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) {
    auto it = by_address_.find(from);
    if (it == by_address_.end()) {
      metrics_.drop_unknown_source.add();
      return;
    }
    it->second->on_datagram(packet, from, local, now_);
    return;
  }
  metrics_.drop_malformed.add();
}

SendBatch* Worker::open_session_socket(Session* s, std::string* error) {
  auto bind = bind_address_;
  bind.set_port(0);
  SessionSocket ss;
  ss.session = s;
  ss.socket = std::make_unique<UdpSocket>();
  if (!ss.socket->open(bind, error)) return nullptr;
  // Unwatched, the socket would swallow every reply of the session's peer unseen.
  if (!watch(ss.socket->fd(), error)) {
    *error = "session socket: " + *error;
    return nullptr;  // ss (and its socket) closes here
  }
  ss.sender = std::make_unique<SendBatch>(ss.socket->fd());
  session_sockets_.push_back(std::move(ss));
  return session_sockets_.back().sender.get();
}

// Everything on a session's own socket is that session's: no demux beyond the socket.
void Worker::receive_session_socket(SessionSocket& ss) {
  for (int round = 0; round < kMaxReceiveBatchesPerWake; ++round) {
    int n = ss.socket->receive_batch(pool_, recv_bufs_, recv_from_);
    for (int i = 0; i < n; ++i) {
      metrics_.packets_in.add();
      metrics_.bytes_in.add(recv_bufs_[size_t(i)].size());
      if (recv_bufs_[size_t(i)].size() == 0) {
        metrics_.drop_malformed.add();
        continue;
      }
      ss.session->on_datagram(recv_bufs_[size_t(i)], recv_from_[size_t(i)], SocketAddress{}, now_);
    }
    if (n < UdpSocket::kRecvBatch) return;
  }
}

void Worker::tick() {
  next_tick_ = now_ + kTick;
  for (auto& [id, s] : sessions_) s->on_tick(now_);
}

void Worker::add_session(std::unique_ptr<Session> s, const std::string& local_ufrag) {
  Session* raw = s.get();
  sessions_[raw->id()] = std::move(s);
  if (!local_ufrag.empty()) by_ufrag_[local_ufrag] = raw;
  if (SourceId hosted = raw->hosted_source()) set_hosted(hosted, true);
}

void Worker::remove_session(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session* raw = it->second.get();
  raw->on_close(now_);
  if (SourceId hosted = raw->hosted_source()) set_hosted(hosted, false);
  std::erase_if(by_ufrag_, [raw](auto& kv) { return kv.second == raw; });
  std::erase_if(by_address_, [raw](auto& kv) { return kv.second == raw; });
  for (auto& [source, f] : sources_) {
    std::erase(f.local, raw);
    update_cache(f);
  }
  std::erase_if(sources_, [](auto& kv) { return !kv.second.needs_cache() && kv.second.remote_workers.empty(); });
  for (auto& ss : session_sockets_) {
    if (ss.session != raw) continue;
    ss.sender->flush();  // the goodbye on_close queued
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ss.socket->fd(), nullptr);
  }
  std::erase_if(session_sockets_, [raw](const SessionSocket& ss) { return ss.session == raw; });
  sessions_.erase(it);
}

Session* Worker::find_session(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void Worker::bind_address(const SocketAddress& addr, Session* s) { by_address_[addr] = s; }
void Worker::bind_address_if_free(const SocketAddress& addr, Session* s) { by_address_.try_emplace(addr, s); }
void Worker::unbind_address(const SocketAddress& addr, Session* s) {
  auto it = by_address_.find(addr);
  if (it != by_address_.end() && it->second == s) by_address_.erase(it);
}
void Worker::bind_ufrag(const std::string& ufrag, Session* s) { by_ufrag_[ufrag] = s; }
void Worker::unbind_ufrag(const std::string& ufrag) { by_ufrag_.erase(ufrag); }

void Worker::subscribe(SourceId source, Session* subscriber) {
  SourceFanout& f = sources_[source];
  if (std::find(f.local.begin(), f.local.end(), subscriber) == f.local.end()) f.local.push_back(subscriber);
  update_cache(f);
}

void Worker::set_hosted(SourceId source, bool hosted) {
  SourceFanout& f = sources_[source];
  f.hosted = std::max(0, f.hosted + (hosted ? 1 : -1));
  update_cache(f);
  forget_if_unused(source);
}

// A cache while someone here may start from it; dropping it gives its buffers back.
void Worker::update_cache(SourceFanout& f) {
  if (!f.needs_cache()) {
    f.cache.reset();
  } else if (!f.cache && group_.keyframe_cache().enabled) {
    f.cache = std::make_unique<sfu::KeyframeCache>(group_.keyframe_cache());
  }
}

void Worker::unsubscribe(SourceId source, Session* subscriber) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  std::erase(it->second.local, subscriber);
  update_cache(it->second);
  forget_if_unused(source);
}

const sfu::KeyframeCache* Worker::keyframe_cache(SourceId source) const {
  auto it = sources_.find(source);
  return it == sources_.end() ? nullptr : it->second.cache.get();
}

void Worker::set_remote_subscriber(SourceId source, int worker_index, bool on) {
  auto& f = sources_[source];
  std::erase(f.remote_workers, worker_index);
  if (on) f.remote_workers.push_back(worker_index);
  forget_if_unused(source);
}

void Worker::forget_if_unused(SourceId source) {
  auto it = sources_.find(source);
  if (it != sources_.end() && !it->second.needs_cache() && it->second.remote_workers.empty()) sources_.erase(it);
}

void Worker::fan_out(const FanoutItem& item) {
  auto it = sources_.find(item.source);
  if (it == sources_.end()) return;
  for (int w : it->second.remote_workers) {
    Worker& other = group_.at(w);
    if (!other.inbox_from(index_).push(FanoutItem(item))) {
      metrics_.drop_ring_full.add();
      continue;
    }
    other.wake();
  }
  deliver(it->second, item);
}

void Worker::deliver_local(const FanoutItem& item) {
  auto it = sources_.find(item.source);
  if (it != sources_.end()) deliver(it->second, item);
}

void Worker::deliver(SourceFanout& f, const FanoutItem& item) {
  if (f.cache) f.cache->add(item.track, item.facts, item.packet, now_);
  for (Session* s : f.local) s->on_media(item, now_);
}

WorkerGroup::WorkerGroup(int count) {
  for (int i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
}

WorkerGroup::~WorkerGroup() {
  stop();
  for (auto& w : workers_) w->discard_inboxes();
}

bool WorkerGroup::open(const std::string& ip, uint16_t first_port, std::string* error, bool report_destination) {
  for (auto& w : workers_) {
    uint16_t port = first_port ? uint16_t(first_port + w->index()) : 0;
    auto addr = SocketAddress::from_ip_port(ip, port);
    if (!addr) {
      *error = "bad bind address " + ip;
      return false;
    }
    if (!w->open(*addr, error, report_destination)) return false;
  }
  return true;
}

void WorkerGroup::start() {
  for (auto& w : workers_) w->start();
}

void WorkerGroup::stop() {
  for (auto& w : workers_) w->stop();
}

WorkerMetricsSnapshot WorkerGroup::metrics() const {
  WorkerMetricsSnapshot s;
  for (auto& w : workers_) {
#define STRATA_SUM(name, help) s.name += w->metrics().name.get();
    STRATA_WORKER_COUNTERS(STRATA_SUM)
#undef STRATA_SUM
  }
  return s;
}

}  // namespace strata::worker
