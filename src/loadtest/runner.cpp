// The bench run: loops and a signaling pool, publishers, viewers joining on schedule (or at
// random), a progress line per second, teardown, and the summary.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <queue>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "common/random.hpp"
#include "dtls/certificate.hpp"
#include "loadtest/bench.hpp"
#include "loadtest/clip.hpp"
#include "loadtest/janus_client.hpp"
#include "loadtest/publisher.hpp"
#include "loadtest/report.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/server_sampler.hpp"
#include "loadtest/signaling.hpp"
#include "loadtest/viewer.hpp"

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

// Blocking HTTP work (WHEP/WHIP POSTs, DELETEs, Janus calls) off the packet loops.
class WorkPool {
 public:
  explicit WorkPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~WorkPool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }
  void wait_idle() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
  }

 private:
  void work() {
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
void post_add(EventLoop& loop, std::unique_ptr<LoopSession> s) {
  auto holder = std::make_shared<std::unique_ptr<LoopSession>>(std::move(s));
  loop.post([holder](EventLoop& l) { l.add(std::move(*holder)); });
}

struct Progress {
  int sessions = 0, connected = 0, with_media = 0;
  uint64_t bytes = 0, expected = 0, lost = 0;
};

// Counters at one edge of the measured window (see WindowUsage).
struct WindowEdge {
  bool taken = false;
  Timestamp at{};
  uint64_t packets = 0, bytes = 0;
  uint64_t publisher_packets = 0;  // RTP packets the bench's publishers sent (no retransmissions)
  std::unordered_map<uint64_t, size_t> delay_samples;  // viewer id -> delay_ms.size()
  std::optional<CpuTimes> cpu;
  CpuTimes self;  // this bench process (getrusage), to show when the bench itself saturates
  uint64_t rss_bytes = 0;
};

CpuTimes self_cpu_times() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

struct JoinInfo {
  int host = 0;
  std::string session_url;
  std::optional<JanusWatch> janus;
  bool left = false;
};

// The address the kernel would send from towards `host` (our ICE host candidate).
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

class Runner {
 public:
  Runner(BenchOptions o, Scenario sc) : o_(std::move(o)), sc_(sc), sampler_(o_.server_pid) {}
  int run();

 private:
  bool janus() const { return o_.target == "janus"; }
  std::string stream_name(int host) const { return sc_.hosts > 1 ? fmt::format("{}-{}", o_.stream, host) : o_.stream; }
  EventLoop& loop_for(uint64_t id) { return *loops_[id % loops_.size()]; }
  bool setup(std::string* error);
  bool start_publishers(std::string* error);
  bool start_publisher(int host, std::string* error);
  uint64_t join(int host);
  void do_join(uint64_t id, int host);
  bool join_strata(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error);
  bool join_janus(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error);
  void leave(uint64_t id);
  void wait_until(Timestamp t);
  void every_second(Timestamp now);
  void run_fixed();
  void run_random();
  void teardown();
  Summary collect(Timestamp end);
  void fail_join(uint64_t id, const std::string& error);
  WindowEdge window_edge(Timestamp now);

  BenchOptions o_;
  Scenario sc_;
  SteadyClock clock_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::unique_ptr<WorkPool> pool_;
  std::shared_ptr<const dtls::Certificate> cert_;
  std::unique_ptr<DelayTable> delays_ = std::make_unique<DelayTable>();
  std::shared_ptr<const Clip> clip_;
  SocketAddress local_ip_;
  ServerSampler sampler_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mu_;  // guards joins_ and the failure counters (pool threads write them)
  std::unordered_map<uint64_t, JoinInfo> joins_;
  std::vector<std::string> publisher_urls_;
  int signaling_failures_ = 0;
  std::vector<std::string> signaling_errors_;
  int requested_ = 0;
  ServerUsage usage_;
  double cpu_sum_ = 0;
  int cpu_samples_ = 0;
  WindowEdge window_start_, window_end_;
  Timestamp measure_from_ = kNever, started_{}, next_second_{}, next_keepalive_{};
  uint64_t last_bytes_ = 0;
};

bool Runner::setup(std::string* error) {
  raise_fd_limit();
  cert_ = dtls::Certificate::generate();
  if (!cert_) return *error = "cannot generate a DTLS certificate", false;
  local_ip_ = local_ip_towards(janus() ? o_.janus_url : o_.url);
  for (int i = 0; i < o_.threads; ++i) {
    loops_.push_back(std::make_unique<EventLoop>());
    if (!loops_.back()->start(error)) return false;
  }
  pool_ = std::make_unique<WorkPool>(std::clamp(sc_.total_viewers() / 8, 4, 48));
  if (!o_.publish) return true;
  std::string dir = o_.media_dir.empty() ? default_media_dir() : o_.media_dir;
  auto clip_dir = ensure_clip(dir, o_.bitrate, o_.quiet, error);
  if (!clip_dir) return false;
  auto clip = load_clip(*clip_dir, !o_.no_simulcast && !janus(), error);
  if (!clip) return false;
  clip_ = std::make_shared<const Clip>(std::move(*clip));
  return start_publishers(error);
}

bool Runner::start_publishers(std::string* error) {
  int hosts = janus() ? 1 : sc_.hosts;
  for (int h = 0; h < hosts; ++h)
    if (!start_publisher(h, error)) return false;
  // Media flows once ICE+DTLS are up: wait for it so viewers find a live stream.
  Timestamp deadline = clock_.now() + 10s;
  while (clock_.now() < deadline) {
    int sending = on_loop(*loops_[0], [](EventLoop& l) {
      int n = 0;
      for (auto& s : l.sessions())
        if (auto* p = dynamic_cast<Publisher*>(s.get()); p && p->sending()) ++n;
      return n;
    });
    if (sending == hosts) {
      std::this_thread::sleep_for(500ms);  // let the server see a keyframe first
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  *error = "publisher: no ICE/DTLS connection within 10 s";
  return false;
}

bool Runner::start_publisher(int host, std::string* error) {
  SocketAddress any = *SocketAddress::parse("0.0.0.0:0");
  int fd = open_udp_socket(any, error);
  if (fd < 0) return false;
  PublisherSetup ps;
  ps.fd = fd;
  ps.clip = clip_;
  ps.delays = delays_.get();
  for (size_t i = 0; i < clip_->layers.size(); ++i) ps.video_ssrcs.push_back(random_u32());
  ps.audio_ssrc = random_u32();
  if (janus()) {
    if (!janus_create_rtp_mountpoint(o_.janus_url, o_.mountpoint, o_.janus_video_port, o_.janus_audio_port, error)) {
      ::close(fd);
      return false;
    }
    ps.plain_video_to = *SocketAddress::from_ip_port("127.0.0.1", o_.janus_video_port);
    ps.plain_audio_to = *SocketAddress::from_ip_port("127.0.0.1", o_.janus_audio_port);
  } else {
    LocalEndpoint local{random_ice_string(8), random_ice_string(24), cert_->fingerprint_sha256(), local_ip_};
    local.address.set_port(local_address_of(fd).port());
    PublishLayout layout{clip_->layers.size() > 1, ps.video_ssrcs[0], ps.audio_ssrc};
    auto res = post_sdp(o_.url + "/whip/" + stream_name(host), build_publish_offer(local, layout), 10s);
    std::optional<RemoteMedia> remote;
    if (res.status == 201) remote = parse_remote_description(res.body, &res.error);
    if (!remote) {
      ::close(fd);
      return *error = "publisher (WHIP " + stream_name(host) + "): " + res.error, false;
    }
    ps.transport = client_transport_config(local, *remote, cert_);
    ps.session_url = res.session_url;
    publisher_urls_.push_back(res.session_url);
  }
  auto p = std::make_unique<Publisher>(std::move(ps));
  p->id = next_id_++;
  post_add(*loops_[0], std::move(p));
  return true;
}

uint64_t Runner::join(int host) {
  uint64_t id = next_id_++;
  {
    std::lock_guard lock(mu_);
    joins_[id].host = host;
    ++requested_;
  }
  pool_->submit([this, id, host] { do_join(id, host); });
  return id;
}

void Runner::fail_join(uint64_t id, const std::string& error) {
  std::lock_guard lock(mu_);
  ++signaling_failures_;
  if (signaling_errors_.size() < 5) signaling_errors_.push_back(error);
}

void Runner::do_join(uint64_t id, int host) {
  std::string error;
  SocketAddress any = *SocketAddress::parse("0.0.0.0:0");
  int fd = open_udp_socket(any, &error);
  if (fd < 0) return fail_join(id, error);
  LocalEndpoint local{random_ice_string(8), random_ice_string(24), cert_->fingerprint_sha256(), local_ip_};
  local.address.set_port(local_address_of(fd).port());
  bool ok = janus() ? join_janus(id, host, fd, local, &error) : join_strata(id, host, fd, local, &error);
  if (!ok) {
    ::close(fd);
    fail_join(id, error);
  }
}

bool Runner::join_strata(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error) {
  std::string url = o_.url + "/whep/" + stream_name(host) + (o_.layer.empty() ? "" : "?layer=" + o_.layer);
  std::string offer = build_view_offer(local);
  PostResult res;
  Timestamp post_sent{};
  for (int attempt = 0; attempt < 10; ++attempt) {  // 409/503 + Retry-After: not live yet / busy
    post_sent = clock_.now();
    res = post_sdp(url, offer, 10s);
    if (res.status != 409 && res.status != 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp(res.retry_after.value_or(1) * 1000, 200, 1000)));
  }
  if (res.status != 201) return *error = "WHEP: " + res.error, false;
  auto remote = parse_remote_description(res.body, error);
  if (!remote) return false;
  ViewerSetup vs;
  vs.fd = fd;
  vs.transport = client_transport_config(local, *remote, cert_);
  vs.remote = *remote;
  vs.post_sent = post_sent;
  vs.delays = o_.publish ? delays_.get() : nullptr;
  vs.session_url = res.session_url;
  vs.host = host;
  {
    std::lock_guard lock(mu_);
    joins_[id].session_url = res.session_url;
  }
  auto v = std::make_unique<Viewer>(std::move(vs));
  v->id = id;
  post_add(loop_for(id), std::move(v));
  return true;
}

bool Runner::join_janus(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error) {
  JanusClient client(o_.janus_url);
  Timestamp post_sent = clock_.now();
  auto watch = client.watch(o_.mountpoint, error);
  if (!watch) return false;
  auto remote = parse_remote_description(watch->offer_sdp, error);
  std::optional<std::string> answer;
  if (remote) {
    // Janus (full ICE) checks our candidate from its own: offer the address that reaches it
    // (Janus 1.1 never offers 127.0.0.1, see bench/janus/janus.jcfg).
    LocalEndpoint toward = local;
    toward.address = local_ip_towards("udp://" + remote->candidates[0].ip_string() + ":9");
    toward.address.set_port(local.address.port());
    answer = build_janus_answer(watch->offer_sdp, toward, error);
  }
  if (!answer) {
    client.hangup(*watch);
    return false;
  }
  ViewerSetup vs;
  vs.fd = fd;
  vs.transport = lite_transport_config(local, *remote, cert_);
  vs.remote = *remote;
  vs.post_sent = post_sent;
  vs.delays = o_.publish ? delays_.get() : nullptr;
  vs.host = host;
  auto v = std::make_unique<Viewer>(std::move(vs));
  v->id = id;
  post_add(loop_for(id), std::move(v));  // ready for Janus' connectivity checks before "start"
  {
    std::lock_guard lock(mu_);
    joins_[id].janus = *watch;
  }
  if (!client.start(*watch, *answer, error)) {
    loop_for(id).post([id, now = clock_.now()](EventLoop& l) { l.close_session(id, now); });
    client.hangup(*watch);
    return false;
  }
  return true;
}

void Runner::leave(uint64_t id) {
  JoinInfo info;
  {
    std::lock_guard lock(mu_);
    auto it = joins_.find(id);
    if (it == joins_.end() || it->second.left) return;
    it->second.left = true;
    info = it->second;
  }
  loop_for(id).post([id](EventLoop& l) { l.close_session(id, SteadyClock().now()); });
  std::string url = o_.janus_url;
  pool_->submit([info, url] {
    if (info.janus) JanusClient(url).hangup(*info.janus);
    else delete_session(info.session_url, 3s);
  });
}

void Runner::every_second(Timestamp now) {
  Progress p;
  for (auto& loop : loops_) {
    Progress lp = on_loop(*loop, [](EventLoop& l) {
      Progress r;
      for (auto& s : l.sessions()) {
        auto* v = dynamic_cast<Viewer*>(s.get());
        if (!v) continue;
        const ViewerStats& st = v->stats();
        r.bytes += st.bytes;
        r.expected += st.expected();
        r.lost += st.lost();
        if (s->closed) continue;
        ++r.sessions;
        if (v->state() == transport::TransportState::kConnected) ++r.connected;
        if (st.has_media()) ++r.with_media;
      }
      return r;
    });
    p.sessions += lp.sessions, p.connected += lp.connected, p.with_media += lp.with_media;
    p.bytes += lp.bytes, p.expected += lp.expected, p.lost += lp.lost;
  }
  auto sample = sampler_.sample(now);
  if (sample) {
    usage_.sampled = true;
    usage_.rss_peak_bytes = std::max(usage_.rss_peak_bytes, sample->rss_bytes);
    if (now >= measure_from_) {
      cpu_sum_ += sample->cpu_percent;
      ++cpu_samples_;
      usage_.cpu_max_percent = std::max(usage_.cpu_max_percent, sample->cpu_percent);
    }
  }
  if (!o_.quiet) {
    double mbps = double(p.bytes - last_bytes_) * 8 / 1e6;
    std::string server = sample ? fmt::format(" | server cpu {:.0f}% rss {:.0f} MB", sample->cpu_percent,
                                              double(sample->rss_bytes) / 1048576.0)
                                : "";
    std::fprintf(stderr, "[%4.0fs] viewers %d requested, %d connected, %d with media | rx %.1f Mbit/s | loss %.3f%%%s\n",
                 std::chrono::duration<double>(now - started_).count(), requested_, p.connected, p.with_media, mbps,
                 p.expected ? 100.0 * double(p.lost) / double(p.expected) : 0.0, server.c_str());
  }
  last_bytes_ = p.bytes;
  if (janus() && now >= next_keepalive_) {  // Janus drops sessions idle for 60 s
    next_keepalive_ = now + 20s;
    std::lock_guard lock(mu_);
    for (auto& [id, info] : joins_)
      if (info.janus && !info.left) pool_->submit([w = *info.janus, url = o_.janus_url] {
          std::string e;
          JanusClient(url).keepalive(w, &e);
        });
  }
}

WindowEdge Runner::window_edge(Timestamp now) {
  WindowEdge e;
  e.taken = true;
  e.at = now;
  for (auto& loop : loops_) {
    WindowEdge part = on_loop(*loop, [](EventLoop& l) {
      WindowEdge r;
      for (auto& s : l.sessions()) {
        if (auto* p = dynamic_cast<Publisher*>(s.get())) r.publisher_packets += p->stats().packets;
        auto* v = dynamic_cast<Viewer*>(s.get());
        if (!v) continue;
        r.packets += v->stats().packets;
        r.bytes += v->stats().bytes;
        r.delay_samples[s->id] = v->stats().delay_ms.size();
      }
      return r;
    });
    e.packets += part.packets;
    e.bytes += part.bytes;
    e.publisher_packets += part.publisher_packets;
    e.delay_samples.merge(part.delay_samples);
  }
  e.cpu = sampler_.cpu_times();
  e.self = self_cpu_times();
  e.rss_bytes = sampler_.rss_bytes().value_or(0);
  return e;
}

void Runner::wait_until(Timestamp t) {
  for (Timestamp now; (now = clock_.now()) < t;) {
    if (!window_start_.taken && now >= measure_from_) {
      window_start_ = window_edge(now);
      continue;
    }
    if (now >= next_second_) {
      next_second_ += 1s;
      every_second(now);
      continue;
    }
    std::this_thread::sleep_for(std::min<Duration>(t - now, std::min<Duration>(next_second_ - now, 20ms)));
  }
}

void Runner::run_fixed() {
  int total = sc_.total_viewers();
  Timestamp t0 = clock_.now();
  for (int i = 0; i < total; ++i) {
    if (sc_.ramp > 0) wait_until(t0 + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(i / sc_.ramp)));
    join(i % sc_.hosts);
  }
  Timestamp last_join = clock_.now();
  measure_from_ = last_join + 2s;
  wait_until(last_join + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(sc_.duration_s)));
}

void Runner::run_random() {
  const RandomBehaviour& r = *sc_.random;
  std::mt19937_64 rng(r.seed);
  auto wait = [&] { return std::chrono::milliseconds(std::uniform_int_distribution<int>(r.min_wait_ms, r.max_wait_ms)(rng)); };
  struct Event {
    Timestamp at;
    int slot;
    bool join;
    bool operator>(const Event& o) const { return at > o.at; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
  std::vector<uint64_t> current(size_t(r.viewers), 0);
  std::vector<int> host(size_t(r.viewers), 0);
  Timestamp t0 = clock_.now();
  Timestamp end = t0 + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(sc_.duration_s));
  for (int i = 0; i < r.viewers; ++i) {
    host[size_t(i)] = i % sc_.hosts;
    events.push({t0 + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(i / r.join_rate)), i, true});
  }
  measure_from_ = t0 + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(r.viewers / r.join_rate)) + 2s;
  while (!events.empty() && events.top().at < end) {
    Event e = events.top();
    events.pop();
    wait_until(e.at);
    size_t s = size_t(e.slot);
    if (e.join) {
      current[s] = join(host[s]);
      events.push({clock_.now() + wait(), e.slot, false});
      continue;
    }
    double roll = std::uniform_real_distribution<double>(0, 1)(rng);
    if (roll < r.leave_prob) {
      leave(current[s]);
      events.push({clock_.now() + wait(), e.slot, true});
    } else if (roll < r.leave_prob + r.switch_host_prob) {
      leave(current[s]);
      if (sc_.hosts > 1) host[s] = (host[s] + 1 + int(rng() % uint64_t(sc_.hosts - 1))) % sc_.hosts;
      current[s] = join(host[s]);
      events.push({clock_.now() + wait(), e.slot, false});
    } else {
      events.push({clock_.now() + wait(), e.slot, false});
    }
  }
  wait_until(end);
}

void Runner::teardown() {
  pool_->wait_idle();  // joins in flight land first, then everything closes
  for (auto& loop : loops_) {
    on_loop(*loop, [](EventLoop& l) {
      Timestamp now = SteadyClock().now();
      std::vector<uint64_t> ids;
      for (auto& s : l.sessions())
        if (!s->closed) ids.push_back(s->id);
      for (uint64_t id : ids) l.close_session(id, now);
      return 0;
    });
  }
  {
    std::lock_guard lock(mu_);
    for (auto& [id, info] : joins_) {
      if (info.left) continue;
      pool_->submit([info, url = o_.janus_url] {
        if (info.janus) JanusClient(url).hangup(*info.janus);
        else delete_session(info.session_url, 3s);
      });
    }
  }
  for (auto& url : publisher_urls_) pool_->submit([url] { delete_session(url, 3s); });
  pool_->wait_idle();
  for (auto& loop : loops_) loop->stop();
}

Summary Runner::collect(Timestamp end) {
  std::vector<const ViewerStats*> viewers;
  Summary pub;
  for (auto& loop : loops_) {
    for (auto& s : loop->sessions()) {
      if (auto* v = dynamic_cast<Viewer*>(s.get())) viewers.push_back(&v->stats());
      if (auto* p = dynamic_cast<Publisher*>(s.get())) {
        pub.publisher_packets += p->stats().packets;
        pub.publisher_retransmitted += p->stats().retransmitted;
        pub.publisher_keyframe_requests += p->stats().keyframe_requests;
      }
    }
  }
  Summary s = summarize(viewers, end, sc_.random ? Duration(3s) : Duration(0s));
  if (window_start_.taken && window_end_.taken && window_end_.at > window_start_.at) {
    WindowUsage& w = s.window;
    w.measured = true;
    w.start_s = std::chrono::duration<double>(window_start_.at - started_).count();
    w.duration_s = std::chrono::duration<double>(window_end_.at - window_start_.at).count();
    w.packets = window_end_.packets - std::min(window_end_.packets, window_start_.packets);
    w.bytes = window_end_.bytes - std::min(window_end_.bytes, window_start_.bytes);
    w.publisher_packets = window_end_.publisher_packets - std::min(window_end_.publisher_packets, window_start_.publisher_packets);
    std::vector<double> delay;
    for (auto& loop : loops_) {
      for (auto& sess : loop->sessions()) {
        auto* v = dynamic_cast<Viewer*>(sess.get());
        if (!v) continue;
        auto from_it = window_start_.delay_samples.find(sess->id);
        auto to_it = window_end_.delay_samples.find(sess->id);
        if (to_it == window_end_.delay_samples.end()) continue;
        size_t from = from_it == window_start_.delay_samples.end() ? 0 : from_it->second;
        const auto& d = v->stats().delay_ms;
        for (size_t i = from; i < std::min(to_it->second, d.size()); ++i) delay.push_back(d[i]);
      }
    }
    w.delay_ms = distribution(delay);
    w.bench_cpu_percent = (window_end_.self.user_s + window_end_.self.system_s - window_start_.self.user_s -
                           window_start_.self.system_s) / w.duration_s * 100.0;
    if (window_start_.cpu && window_end_.cpu) {
      w.server_sampled = true;
      w.server_user_s = window_end_.cpu->user_s - window_start_.cpu->user_s;
      w.server_system_s = window_end_.cpu->system_s - window_start_.cpu->system_s;
      w.server_rss_end_bytes = window_end_.rss_bytes;
    }
  }
  s.target = o_.target;
  s.url = janus() ? o_.janus_url : o_.url;
  s.stream = janus() ? fmt::format("mountpoint {}", o_.mountpoint) : o_.stream;
  s.duration_s = std::chrono::duration<double>(end - started_).count();
  s.viewers_requested = requested_;
  s.signaling_failures = signaling_failures_;
  s.without_media += signaling_failures_;
  for (auto& e : signaling_errors_)
    if (s.errors.size() < 8) s.errors.push_back(e);
  s.publisher_packets = pub.publisher_packets;
  s.publisher_retransmitted = pub.publisher_retransmitted;
  s.publisher_keyframe_requests = pub.publisher_keyframe_requests;
  usage_.cpu_avg_percent = cpu_samples_ ? cpu_sum_ / cpu_samples_ : 0;
  s.server = usage_;
  if (usage_.sampled && s.with_media > 0 && usage_.rss_peak_bytes > usage_.rss_before_bytes)
    s.rss_per_viewer_bytes = double(usage_.rss_peak_bytes - usage_.rss_before_bytes) / s.with_media;
  return s;
}

int Runner::run() {
  std::string error;
  started_ = clock_.now();
  if (!setup(&error)) {
    std::fprintf(stderr, "strata bench: %s\n", error.c_str());
    if (pool_) teardown();
    return 1;
  }
  if (auto s = sampler_.sample(clock_.now())) usage_.sampled = true, usage_.rss_before_bytes = usage_.rss_peak_bytes = s->rss_bytes;
  next_second_ = clock_.now() + 1s;
  next_keepalive_ = clock_.now() + 20s;
  if (sc_.random) run_random();
  else run_fixed();
  Timestamp end = clock_.now();
  if (window_start_.taken) window_end_ = window_edge(end);
  // Final stats before teardown so closing does not count as the end of media.
  teardown();
  Summary s = collect(end);
  print_summary(s, stdout);
  if (!o_.json_file.empty()) {
    std::ofstream out(o_.json_file);
    out << summary_json(s).dump(2) << "\n";
    if (!out) std::fprintf(stderr, "strata bench: cannot write %s\n", o_.json_file.c_str());
  }
  return s.without_media > 0 || (s.viewers_requested > 0 && s.with_media == 0) ? 3 : 0;
}

}  // namespace

int run_bench(const BenchOptions& options) {
  Scenario sc;
  sc.hosts = 1;
  sc.viewers_per_host = options.viewers;
  sc.ramp = options.ramp;
  sc.duration_s = options.duration;
  if (!options.scenario_file.empty()) {
    std::string error;
    auto text = read_file(options.scenario_file, &error);
    auto parsed = text ? parse_scenario(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()), &error)
                       : std::nullopt;
    if (!parsed) {
      std::fprintf(stderr, "strata bench: scenario %s: %s\n", options.scenario_file.c_str(), error.c_str());
      return 2;
    }
    sc = *parsed;
  }
  if (options.target == "janus") sc.hosts = 1;
  Runner runner(options, sc);
  return runner.run();
}

}  // namespace strata::loadtest
