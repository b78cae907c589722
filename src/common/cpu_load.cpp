#include "common/cpu_load.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace strata {

CpuLoad::CpuLoad(unsigned cores) : cores_(std::max(1u, cores)) {}

double CpuLoad::sample(Duration process_cpu, Timestamp now) {
  if (have_previous_ && now > previous_at_) {
    double busy = std::chrono::duration<double>(process_cpu - previous_cpu_).count();
    double wall = std::chrono::duration<double>(now - previous_at_).count() * cores_;
    last_ = std::clamp(busy / wall, 0.0, 1.0);
  }
  have_previous_ = true;
  previous_cpu_ = process_cpu;
  previous_at_ = now;
  return last_;
}

Duration process_cpu_time() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return Duration{0};
  return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ts.tv_nsec));
}

unsigned cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? unsigned(n) : 1u;
}

}  // namespace strata
