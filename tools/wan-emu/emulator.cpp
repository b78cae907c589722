#include "emulator.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>

namespace strata::wan_emu {
namespace {

// epoll tags past the per-direction indices.
constexpr uint64_t kTagReleaseTimer = 1ull << 32;
constexpr uint64_t kTagSignal = kTagReleaseTimer + 1;
constexpr uint64_t kTagStatsTimer = kTagReleaseTimer + 2;
constexpr int kReadBatch = 64;  // packets per fd per wakeup, so one busy link cannot starve others

std::string errno_message(const std::string& what) { return what + ": " + std::strerror(errno); }

uint64_t direction_seed(uint64_t seed, size_t index) {
  uint64_t x = seed ^ (0xA5A5A5A5ull * (index + 1));
  return splitmix64(x);
}

timespec to_timespec(Duration d) {
  const int64_t us = d.count();
  return timespec{time_t(us / 1'000'000), long(us % 1'000'000) * 1000};
}

nlohmann::json direction_json(const DirectionCounters& c, uint64_t packets_out, uint64_t write_errors) {
  return {{"packets_in", c.packets_in},       {"packets_out", packets_out},
          {"dropped_loss", c.dropped_loss},   {"dropped_queue", c.dropped_queue},
          {"write_errors", write_errors},     {"mean_delay_ms", std::round(c.mean_delay_ms() * 1000) / 1000}};
}

}  // namespace

std::unique_ptr<Emulator> Emulator::create(const Profile& profile, const EmulatorOptions& options,
                                           std::string& error) {
  std::unique_ptr<Emulator> emulator(new Emulator(options));
  error = emulator->setup(profile);
  if (error.empty()) error = emulator->setup_loop_fds();
  if (!error.empty()) return nullptr;
  return emulator;
}

Emulator::~Emulator() = default;

std::string Emulator::setup(const Profile& profile) {
  if (std::string err = check_namespaces_exist(profile); !err.empty()) return err;
  for (const LinkSpec& link : profile.links) {
    for (const Endpoint* e : {&link.a, &link.b}) {
      TunOpenResult tun = open_tun_in_netns(e->netns, e->dev);
      if (!tun.error.empty()) return "link \"" + link.name + "\": " + tun.error;
      tun_fds_.push_back(std::move(tun.fd));
      if (std::string err = configure_endpoint(*e); !err.empty()) return "link \"" + link.name + "\": " + err;
    }
    const int a_fd = tun_fds_[tun_fds_.size() - 2].get();
    const int b_fd = tun_fds_.back().get();
    const size_t index = directions_.size();
    directions_.push_back({link.name, "a_to_b",
                           std::make_unique<LinkDirection>(link.a_to_b, direction_seed(options_.seed, index)),
                           a_fd, b_fd});
    directions_.push_back({link.name, "b_to_a",
                           std::make_unique<LinkDirection>(link.b_to_a, direction_seed(options_.seed, index + 1)),
                           b_fd, a_fd});
  }
  return {};
}

std::string Emulator::setup_loop_fds() {
  epoll_fd_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  release_timer_fd_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!epoll_fd_.valid() || !release_timer_fd_.valid()) return errno_message("epoll/timerfd");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  signal_fd_ = Fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_.valid()) return errno_message("signalfd");

  auto watch = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  for (uint32_t i = 0; i < directions_.size(); ++i) {
    if (!watch(directions_[i].in_fd, i)) return errno_message("epoll_ctl tun");
  }
  if (!watch(release_timer_fd_.get(), kTagReleaseTimer) || !watch(signal_fd_.get(), kTagSignal)) {
    return errno_message("epoll_ctl");
  }
  if (options_.stats_interval_s > 0) {
    stats_timer_fd_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    const Duration period(int64_t(options_.stats_interval_s * 1e6));
    itimerspec spec{to_timespec(period), to_timespec(period)};
    if (!stats_timer_fd_.valid() || ::timerfd_settime(stats_timer_fd_.get(), 0, &spec, nullptr) != 0 ||
        !watch(stats_timer_fd_.get(), kTagStatsTimer)) {
      return errno_message("stats timerfd");
    }
  }
  return {};
}

Emulator::Slot* Emulator::take_slot() {
  if (free_slots_.empty()) {
    // Grows to the peak number of packets in flight, then is reused.
    slot_storage_.push_back(std::make_unique<Slot>());
    return slot_storage_.back().get();
  }
  Slot* slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void Emulator::read_packets(uint32_t index) {
  Direction& dir = directions_[index];
  SteadyClock clock;
  for (int i = 0; i < kReadBatch; ++i) {
    Slot* slot = take_slot();
    const ssize_t n = ::read(dir.in_fd, slot->data, kSlotBytes);
    if (n <= 0) {
      give_slot(slot);
      return;  // EAGAIN: drained (level-triggered epoll brings us back otherwise)
    }
    slot->length = uint32_t(n);
    const Decision d = dir.scheduler->on_packet(size_t(n), clock.now());
    if (d.verdict != Verdict::kForward) {
      give_slot(slot);
      continue;
    }
    queue_.push(d.release, Queued{slot, index});
  }
}

void Emulator::release_due_packets() {
  const Timestamp now = SteadyClock().now();
  while (std::optional<Queued> q = queue_.pop_due(now)) {
    Direction& dir = directions_[q->direction];
    if (::write(dir.out_fd, q->slot->data, q->slot->length) == ssize_t(q->slot->length)) {
      ++dir.packets_out;
    } else {
      ++dir.write_errors;
    }
    give_slot(q->slot);
  }
}

void Emulator::arm_release_timer() {
  const Timestamp next = queue_.next_release();
  if (next == armed_release_) return;
  armed_release_ = next;
  itimerspec spec{};
  if (next != kNever) {
    spec.it_value = to_timespec(next.time_since_epoch());
    // steady_clock is CLOCK_MONOTONIC here; a zero it_value would disarm instead of firing.
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  }
  ::timerfd_settime(release_timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Emulator::print_periodic_stats() {
  uint64_t expirations = 0;
  (void)!::read(stats_timer_fd_.get(), &expirations, sizeof expirations);
  std::cerr << stats().dump() << std::endl;
}

std::string Emulator::run() {
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_.get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_message("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kTagSignal) return {};
      if (tag == kTagStatsTimer) {
        print_periodic_stats();
      } else if (tag == kTagReleaseTimer) {
        uint64_t expirations = 0;
        (void)!::read(release_timer_fd_.get(), &expirations, sizeof expirations);
        armed_release_ = kNever;  // fired: re-arm even if the next time is the same
      } else {
        read_packets(uint32_t(tag));
      }
    }
    release_due_packets();
    arm_release_timer();
  }
}

void Emulator::remove_devices() {
  for (Direction& d : directions_) d.in_fd = d.out_fd = -1;
  tun_fds_.clear();
}

nlohmann::json Emulator::stats() const {
  nlohmann::json links = nlohmann::json::array();
  for (size_t i = 0; i + 1 < directions_.size(); i += 2) {
    const Direction& ab = directions_[i];
    const Direction& ba = directions_[i + 1];
    links.push_back({{"name", ab.link_name},
                     {"a_to_b", direction_json(ab.scheduler->counters(), ab.packets_out, ab.write_errors)},
                     {"b_to_a", direction_json(ba.scheduler->counters(), ba.packets_out, ba.write_errors)}});
  }
  return {{"links", links}};
}

}  // namespace strata::wan_emu
