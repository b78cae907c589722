// The bench run: loops and a signaling pool, publishers, viewers joining on schedule (or at
// random, or churning: churn.cpp decides, the ChurnActions here carry it out), a progress
// line per second, teardown, and the summary.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <queue>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "common/random.hpp"
#include "dtls/certificate.hpp"
#include "loadtest/bench.hpp"
#include "loadtest/churn.hpp"
#include "loadtest/clip.hpp"
#include "loadtest/janus_client.hpp"
#include "loadtest/publisher.hpp"
#include "loadtest/report.hpp"
#include "loadtest/run_support.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/server_sampler.hpp"
#include "loadtest/signaling.hpp"
#include "loadtest/viewer.hpp"

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

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

struct JoinInfo {
  int host = 0;
  std::string session_url;
  std::optional<JanusWatch> janus;
  bool left = false;
};

class Runner final : private ChurnActions {
 public:
  Runner(BenchOptions o, Scenario sc) : o_(std::move(o)), sc_(sc), sampler_(o_.server_pid) {}
  int run();

 private:
  // ChurnActions (churn.hpp), for run_churn().
  Timestamp now() override { return clock_.now(); }
  uint64_t join(int host) override;
  void leave(uint64_t id) override;
  void wait_until(Timestamp t) override;
  std::vector<EndedSession> take_ended() override;
  std::unordered_map<uint64_t, ViewerProbe> probe(const std::vector<uint64_t>& ids) override;
  void stop_host(int host) override;
  bool start_host(int host, std::string* error) override;
  bool host_sending(int host) override;
  const ViewerStats* stats(uint64_t id) override;

  bool janus() const { return o_.target == "janus"; }
  std::string stream_name(int host) const { return sc_.hosts > 1 ? fmt::format("{}-{}", o_.stream, host) : o_.stream; }
  EventLoop& loop_for(uint64_t id) { return *loops_[id % loops_.size()]; }
  bool setup(std::string* error);
  bool start_publishers(std::string* error);
  bool start_publisher(int host, std::string* error);
  void do_join(uint64_t id, int host);
  bool join_strata(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error);
  bool join_janus(uint64_t id, int host, int fd, const LocalEndpoint& local, std::string* error);
  void every_second(Timestamp now);
  void run_fixed();
  void run_random();
  void run_churn();
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
  std::vector<std::string> publisher_urls_;  // by host ("" while a restarting host is down)
  std::vector<uint64_t> publisher_ids_;      // by host
  std::vector<uint64_t> failed_joins_;       // signaling failures not yet taken by take_ended()
  std::unique_ptr<ChurnDriver> churn_;
  std::unordered_map<uint64_t, const ViewerStats*> stats_index_;  // built by stats() after the run
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
    publisher_urls_.resize(std::max(publisher_urls_.size(), size_t(host) + 1));
    publisher_urls_[size_t(host)] = res.session_url;
  }
  auto p = std::make_unique<Publisher>(std::move(ps));
  p->id = next_id_++;
  publisher_ids_.resize(std::max(publisher_ids_.size(), size_t(host) + 1));
  publisher_ids_[size_t(host)] = p->id;
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
  if (sc_.churn) failed_joins_.push_back(id);
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
  int attempts = 0;
  while (attempts < 10) {  // 409/503 + Retry-After: not live yet / busy
    ++attempts;
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
  vs.post_attempts = attempts;
  vs.delays = o_.publish ? delays_.get() : nullptr;
  vs.session_url = res.session_url;
  vs.host = host;
  bool left;
  {
    std::lock_guard lock(mu_);
    joins_[id].session_url = res.session_url;
    left = joins_[id].left;
  }
  if (left) {  // it left while its POST was retrying (409): end the session it got after all
    delete_session(res.session_url, 3s);
    ::close(fd);
    return true;
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

void Runner::run_churn() {
  churn_ = std::make_unique<ChurnDriver>(*sc_.churn, sc_.hosts, sc_.duration_s, static_cast<ChurnActions&>(*this));
  measure_from_ = clock_.now() + std::chrono::duration_cast<Duration>(
                                     std::chrono::duration<double>(ChurnDriver::ramp_seconds(*sc_.churn))) + 2s;
  churn_->run();
}

// Viewers the server ended (BYE) or whose transport failed, and failed joins. Closed here so
// each is reported once; only a failed one is DELETEd (the server may still hold it).
std::vector<EndedSession> Runner::take_ended() {
  std::vector<EndedSession> out;
  for (auto& loop : loops_) {
    auto part = on_loop(*loop, [](EventLoop& l) {
      std::vector<EndedSession> r;
      for (auto& s : l.sessions()) {
        auto* v = dynamic_cast<Viewer*>(s.get());
        if (v && !s->closed && v->stats().ended()) r.push_back({s->id, v->stats().bye_at != Timestamp{}, false});
      }
      for (auto& e : r) l.close_session(e.id, SteadyClock().now());
      return r;
    });
    out.insert(out.end(), part.begin(), part.end());
  }
  std::lock_guard lock(mu_);
  for (auto& e : out) {
    JoinInfo& info = joins_[e.id];
    info.left = true;
    if (!e.bye && !info.session_url.empty()) pool_->submit([url = info.session_url] { delete_session(url, 3s); });
  }
  for (uint64_t id : failed_joins_) out.push_back({id, false, true});
  failed_joins_.clear();
  return out;
}

std::unordered_map<uint64_t, ViewerProbe> Runner::probe(const std::vector<uint64_t>& ids) {
  std::unordered_set<uint64_t> wanted(ids.begin(), ids.end());
  std::unordered_map<uint64_t, ViewerProbe> out;
  for (auto& loop : loops_) {
    auto part = on_loop(*loop, [&wanted](EventLoop& l) {
      std::unordered_map<uint64_t, ViewerProbe> r;
      for (auto& s : l.sessions())
        if (auto* v = dynamic_cast<Viewer*>(s.get()); v && wanted.count(s->id))
          r[s->id] = {true, v->stats().post_sent, v->stats().last_media};
      return r;
    });
    out.merge(part);
  }
  return out;
}

// Synchronous, so the server has ended the live before the host publishes again.
void Runner::stop_host(int host) {
  size_t h = size_t(host);
  if (h < publisher_urls_.size() && !publisher_urls_[h].empty()) delete_session(publisher_urls_[h], 3s);
  if (h < publisher_urls_.size()) publisher_urls_[h].clear();
  if (h < publisher_ids_.size())
    loops_[0]->post([id = publisher_ids_[h]](EventLoop& l) { l.close_session(id, SteadyClock().now()); });
}

bool Runner::start_host(int host, std::string* error) {
  if (start_publisher(host, error)) return true;
  std::fprintf(stderr, "strata bench: host %d could not publish again: %s\n", host, error->c_str());
  return false;
}

bool Runner::host_sending(int host) {
  uint64_t id = size_t(host) < publisher_ids_.size() ? publisher_ids_[size_t(host)] : 0;
  return on_loop(*loops_[0], [id](EventLoop& l) {
    for (auto& s : l.sessions())
      if (auto* p = dynamic_cast<Publisher*>(s.get()); p && s->id == id) return !s->closed && p->sending();
    return false;
  });
}

// After teardown: the loops have stopped, their sessions (and stats) stay.
const ViewerStats* Runner::stats(uint64_t id) {
  if (stats_index_.empty())
    for (auto& loop : loops_)
      for (auto& s : loop->sessions())
        if (auto* v = dynamic_cast<Viewer*>(s.get())) stats_index_[s->id] = &v->stats();
  auto it = stats_index_.find(id);
  return it == stats_index_.end() ? nullptr : it->second;
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
  for (auto& url : publisher_urls_)
    if (!url.empty()) pool_->submit([url] { delete_session(url, 3s); });
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
  Summary s = summarize(viewers, end, sc_.random || sc_.churn ? Duration(3s) : Duration(0s));
  if (churn_) s.churn = churn_->report(end);
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
  else if (sc_.churn) run_churn();
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
  // A churn run's restarts end sessions that had no media yet: those are not failures.
  bool failed = s.churn ? churn_failed(*s.churn) : s.without_media > 0;
  return failed || (s.viewers_requested > 0 && s.with_media == 0) ? 3 : 0;
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
  // Churn re-joins through WHEP and restarts the bench's own WHIP publisher.
  if (sc.churn && options.target == "janus") {
    std::fprintf(stderr, "strata bench: churn scenarios need --target strata\n");
    return 2;
  }
  if (sc.churn && sc.churn->host_restart_s > 0 && !options.publish) {
    std::fprintf(stderr, "strata bench: 'churn.host_restart_s' needs --publish (the bench restarts its own host)\n");
    return 2;
  }
  Runner runner(options, sc);
  return runner.run();
}

}  // namespace strata::loadtest
