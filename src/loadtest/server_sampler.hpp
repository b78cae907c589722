// Samples a server process's CPU use and resident memory from /proc/<pid>/stat and
// /proc/<pid>/status (proc(5)), so a bench run reports what the server paid for it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/time.hpp"

namespace strata::loadtest {

struct ProcSample {
  double cpu_percent = 0;  // since the previous sample; 100 = one core busy
  uint64_t rss_bytes = 0;
};

// The process's user and system CPU time so far (utime and stime of /proc/<pid>/stat), in s.
struct CpuTimes {
  double user_s = 0, system_s = 0;
};

class ServerSampler {
 public:
  explicit ServerSampler(int pid) : pid_(pid) {}
  bool enabled() const { return pid_ > 0; }
  // nullopt when the process is gone (or no pid). The first call reports cpu 0.
  std::optional<ProcSample> sample(Timestamp now);
  // Cumulative utime/stime, for CPU over an exact window (nullopt when gone or no pid).
  std::optional<CpuTimes> cpu_times() const;
  std::optional<uint64_t> rss_bytes() const;

 private:
  int pid_;
  bool have_prev_ = false;
  uint64_t prev_ticks_ = 0;
  Timestamp prev_at_{};
};

// utime + stime (clock ticks) from a /proc/<pid>/stat line; the command name may contain
// spaces and parentheses, so fields are counted after the last ')'.
std::optional<uint64_t> parse_proc_stat_cpu_ticks(const std::string& stat_line);
// utime (first) and stime (second), in clock ticks.
std::optional<std::pair<uint64_t, uint64_t>> parse_proc_stat_user_system_ticks(const std::string& stat_line);
// VmRSS from /proc/<pid>/status text, in bytes.
std::optional<uint64_t> parse_proc_status_rss(const std::string& status_text);

}  // namespace strata::loadtest
