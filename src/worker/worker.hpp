// One data-plane worker: a thread with its own event loop and UDP port that carries every
// session placed on it (RFC 7983 first-byte demux, STUN by ufrag, then by 5-tuple).
//
// Threading (see docs/ARCHITECTURE.md): a session lives on one worker for life and is only
// touched by that worker's thread. The control plane talks to a worker only through post();
// workers talk to each other only through SPSC rings of PacketRefs (media fan-out) and
// post() (rare control messages such as keyframe requests).
#pragma once
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "sfu/keyframe_cache.hpp"
#include "sfu/replay_budget.hpp"
#include "sfu/track.hpp"
#include "worker/metrics.hpp"
#include "common/packet_buffer.hpp"
#include "worker/spsc_ring.hpp"
#include "worker/udp_socket.hpp"

struct epoll_event;

namespace strata::worker {

class Worker;
class WorkerGroup;

// A media source: one host's publisher session (or an edge's relay ingest standing in for
// it). Fan-out is keyed by source: a viewer subscribes to the sources its slots show.
using SourceId = uint64_t;

// A media packet of one source, as every subscriber gets it (within the producer's worker,
// or through the ring to another worker).
struct FanoutItem {
  SourceId source = 0;
  uint32_t track = 0;       // the source's track (m-line index of the host's offer)
  sfu::PacketFacts facts;   // computed once by the producer: layer, keyframe, temporal id
  PacketRef packet;         // decrypted RTP, immutable from now on
};

// Anything that owns a transport on this worker (a publisher or a viewer session).
class Session {
 public:
  // What a session is, for typed lookups (Worker::find<T>) instead of dynamic_cast.
  enum class Kind : uint8_t { kOther, kPublisher, kViewer, kRelaySend };
  virtual ~Session() = default;
  virtual uint64_t id() const = 0;
  virtual Kind kind() const { return Kind::kOther; }
  // The source this session publishes (a host, or an edge's relay ingest); 0 for others.
  virtual SourceId hosted_source() const { return 0; }
  // One datagram from `from` that demux attributed to this session. `packet` is uniquely
  // owned: the session may decrypt it in place and keep references to it. `local`: the
  // address it was sent to when the socket reports it (several advertised addresses on a
  // wildcard socket), else empty.
  virtual void on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) = 0;
  // Called every tick (kTick): timers of ICE consent, DTLS, RTCP reports, NACK.
  virtual void on_tick(Timestamp now) = 0;
  // A packet of a source this session subscribed to: every packet of every simulcast layer
  // (viewers choose their layer per slot, relays take them all).
  virtual void on_media(const FanoutItem& item, Timestamp now) {}
  // The session is being removed by the control plane: say goodbye (RTCP BYE, DTLS close).
  virtual void on_close(Timestamp now) {}
};

class Worker {
 public:
  static constexpr Duration kTick = std::chrono::milliseconds(10);

  Worker(WorkerGroup& group, int index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds the worker's UDP socket and sets up its epoll set and wake-up eventfd. False with
  // *error when any of them fails (descriptor limit, kernel memory): a worker without its
  // epoll set or eventfd would never see a packet or a posted command.
  // `report_destination`: see UdpSocket::open (a wildcard bind advertised as several
  // addresses: datagrams carry their destination, replies name their source).
  bool open(const SocketAddress& bind, std::string* error, bool report_destination = false);
  void start();
  void stop();  // joins the thread
  int index() const { return index_; }
  uint16_t port() const { return socket_.local_port(); }
  // The kernel buffer sizes the worker's socket really got (see UdpSocket::buffers()).
  const SocketBuffers& socket_buffers() const { return socket_.buffers(); }

  // Test seam: the epoll_ctl this worker calls (tests make it fail; nothing else sets it).
  using EpollCtl = int (*)(int epfd, int op, int fd, epoll_event* event);
  void set_epoll_ctl_for_testing(EpollCtl fn) { epoll_ctl_ = fn; }
  // Test seam: the time of an unstarted worker (the test thread plays the worker thread).
  void set_now_for_testing(Timestamp now) { now_ = now; }

  // Control plane → worker (thread-safe). The function runs on the worker thread.
  void post(std::function<void(Worker&)> fn);

  // ---- worker thread only ---------------------------------------------------------------
  Timestamp now() const { return now_; }
  BufferPool& pool() { return pool_; }
  SendBatch& sender() { return *sender_; }
  WorkerMetrics& metrics() { return metrics_; }
  // Viewer replays of this worker's keyframe caches (sfu::ReplayBudget).
  sfu::ReplayBudget& replay_budget() { return replay_budget_; }
  WorkerGroup& group() { return group_; }

  void add_session(std::unique_ptr<Session> s, const std::string& local_ufrag);
  void remove_session(uint64_t id);  // calls on_close, then destroys
  Session* find_session(uint64_t id);
  // The session `id` if it is a T (T::is(kind)), else nullptr.
  template <class T>
  T* find(uint64_t id) {
    Session* s = find_session(id);
    return s && T::is(s->kind()) ? static_cast<T*>(s) : nullptr;
  }
  // A UDP socket of the session's own on this worker (ephemeral port): for sessions where
  // this server is the client of another server (relays). Several relays between the same
  // two servers would otherwise share one 5-tuple and steal each other's packets. The
  // socket closes when the session is removed. nullptr with *error on failure.
  SendBatch* open_session_socket(Session* s, std::string* error);

  // ICE nominated or changed the address of a session: route that 5-tuple to it.
  void bind_address(const SocketAddress& addr, Session* s);
  // For a client path not verified yet: routes `addr` to `s` only if no session has it (a
  // spoofed check must not take a verified session's address), and undoes that.
  void bind_address_if_free(const SocketAddress& addr, Session* s);
  void unbind_address(const SocketAddress& addr, Session* s);
  void unbind_ufrag(const std::string& ufrag);
  void bind_ufrag(const std::string& ufrag, Session* s);

  // Fan-out: a source's subscribers on this worker (viewer slots, relays), and on the
  // source's worker, which other workers get its packets.
  void subscribe(SourceId source, Session* subscriber);
  void unsubscribe(SourceId source, Session* subscriber);
  void set_remote_subscriber(SourceId source, int worker_index, bool on);
  // Producer side: deliver a packet to every subscriber of the source on every worker.
  void fan_out(const FanoutItem& item);
  // A host's session on this worker publishes `source` (or stops): the worker keeps the
  // source's keyframe cache from the start, not only while it has subscribers here, so the
  // first viewer of a host that just went live, and the second viewer of any, start from it.
  void set_hosted(SourceId source, bool hosted);
  // The source's packets from its last keyframe on, as this worker received them (kept
  // while the source has subscribers or its host here), or nullptr.
  const sfu::KeyframeCache* keyframe_cache(SourceId source) const;

  // Cross-worker ring from `from_worker` to this worker (used by WorkerGroup).
  SpscRing<FanoutItem>& inbox_from(int from_worker) { return *inboxes_[size_t(from_worker)]; }
  void wake();  // called by other workers after pushing to our inbox
  // Drops every queued fan-out item (after the loop stopped).
  void discard_inboxes();

 private:
  void run();
  bool watch(int fd, std::string* error);
  void run_commands();
  void drain_inboxes();
  void receive_datagrams();
  void dispatch(PacketRef& packet, const SocketAddress& from, const SocketAddress& local);
  void deliver_local(const FanoutItem& item);
  void tick();
  struct SourceFanout;
  void deliver(SourceFanout& f, const FanoutItem& item);
  void forget_if_unused(SourceId source);

  WorkerGroup& group_;
  const int index_;
  UdpSocket socket_;
  std::unique_ptr<SendBatch> sender_;
  BufferPool pool_;
  WorkerMetrics metrics_;
  // Before sessions_: their replays hold leases on it.
  sfu::ReplayBudget replay_budget_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  EpollCtl epoll_ctl_;
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
  Timestamp now_{};
  Timestamp next_tick_{};

  std::mutex commands_mu_;
  std::vector<std::function<void(Worker&)>> commands_;

  std::vector<std::unique_ptr<SpscRing<FanoutItem>>> inboxes_;  // index = source worker

  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::string, Session*> by_ufrag_;
  std::unordered_map<SocketAddress, Session*> by_address_;
  struct SourceFanout {
    std::vector<Session*> local;
    std::vector<int> remote_workers;
    std::unique_ptr<sfu::KeyframeCache> cache;  // while `local` is not empty or hosted
    int hosted = 0;                              // the source's host sessions here
    bool needs_cache() const { return !local.empty() || hosted > 0; }
  };
  void update_cache(SourceFanout& f);
  std::unordered_map<SourceId, SourceFanout> sources_;

  struct SessionSocket {
    Session* session = nullptr;
    std::unique_ptr<UdpSocket> socket;
    std::unique_ptr<SendBatch> sender;
  };
  void receive_session_socket(SessionSocket& s);
  SocketAddress bind_address_;
  std::vector<SessionSocket> session_sockets_;

  std::array<PacketRef, UdpSocket::kRecvBatch> recv_bufs_;
  std::array<SocketAddress, UdpSocket::kRecvBatch> recv_from_;
  std::array<SocketAddress, UdpSocket::kRecvBatch> recv_local_;
};

// All workers of a process, and the rings between every ordered pair of them.
class WorkerGroup {
 public:
  explicit WorkerGroup(int count);
  ~WorkerGroup();
  // Binds worker i to `ip`:(first_port + i); first_port 0 = ephemeral ports.
  // `report_destination`: see Worker::open.
  bool open(const std::string& ip, uint16_t first_port, std::string* error, bool report_destination = false);
  void start();
  void stop();
  int size() const { return int(workers_.size()); }
  Worker& at(int i) { return *workers_[size_t(i)]; }
  // Sum of every worker's metrics (relaxed reads; for /metrics).
  WorkerMetricsSnapshot metrics() const;
  // Set before start(): the keyframe cache of every worker.
  void set_keyframe_cache(const sfu::KeyframeCacheConfig& config) { keyframe_cache_ = config; }
  const sfu::KeyframeCacheConfig& keyframe_cache() const { return keyframe_cache_; }

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  sfu::KeyframeCacheConfig keyframe_cache_;
};

}  // namespace strata::worker
