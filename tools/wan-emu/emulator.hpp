// The I/O shell around LinkDirection: one thread, one epoll set over every TUN fd, a
// timerfd armed at the earliest release time, a signalfd for SIGTERM/SIGINT and an optional
// stats timerfd. Packets live in a grow-only pool of MTU-sized slots, so the steady state
// does not allocate per packet.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "link_direction.hpp"
#include "netns_tun.hpp"
#include "profile.hpp"
#include "release_queue.hpp"

namespace strata::wan_emu {

struct EmulatorOptions {
  uint64_t seed = 1;
  double stats_interval_s = 0;  // 0 = no periodic stats
};

class Emulator {
 public:
  // Creates every TUN device and sets addresses and routes; nullptr and `error` on failure
  // (devices made so far are removed when their fds close).
  static std::unique_ptr<Emulator> create(const Profile& profile, const EmulatorOptions& options,
                                          std::string& error);
  ~Emulator();

  // Forwards packets until SIGTERM or SIGINT; empty on a clean stop, else the error.
  std::string run();
  // Closes the TUN fds, which removes the devices.
  void remove_devices();
  nlohmann::json stats() const;

 private:
  static constexpr size_t kSlotBytes = 2048;  // MTU 1500 fits; TUN without GSO never exceeds it
  struct Slot {
    uint32_t length = 0;
    uint8_t data[kSlotBytes];
  };
  struct Queued {
    Slot* slot;
    uint32_t direction;  // index into directions_
  };
  struct Direction {
    std::string link_name;
    std::string label;  // "a_to_b" / "b_to_a"
    std::unique_ptr<LinkDirection> scheduler;
    int in_fd = -1;
    int out_fd = -1;
    uint64_t packets_out = 0;
    uint64_t write_errors = 0;
  };

  Emulator(const EmulatorOptions& options) : options_(options) {}
  std::string setup(const Profile& profile);
  std::string setup_loop_fds();
  void read_packets(uint32_t direction);
  void release_due_packets();
  void arm_release_timer();
  void print_periodic_stats();
  Slot* take_slot();
  void give_slot(Slot* slot) { free_slots_.push_back(slot); }

  EmulatorOptions options_;
  std::vector<Fd> tun_fds_;
  std::vector<Direction> directions_;  // 2 per link: a_to_b reads a's fd, b_to_a reads b's
  Fd epoll_fd_;
  Fd release_timer_fd_;
  Fd signal_fd_;
  Fd stats_timer_fd_;
  ReleaseQueue<Queued> queue_;
  Timestamp armed_release_ = kNever;
  std::vector<std::unique_ptr<Slot>> slot_storage_;
  std::vector<Slot*> free_slots_;
};

}  // namespace strata::wan_emu
