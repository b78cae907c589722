// The process's share of the machine's CPU over the last interval, for the load a node
// reports in its registry record (NodeRecord::cpu), which the broker compares with
// --max-cpu. Pure: the caller passes the process's cumulative CPU time and the time of the
// sample, so it is tested on fake values; process_cpu_time() reads the real one.
#pragma once
#include "common/time.hpp"

namespace strata {

class CpuLoad {
 public:
  // `cores`: the machine's CPU count (a process busy on every core is 1.0).
  explicit CpuLoad(unsigned cores);

  // Share (0..1) of the machine used since the previous sample; 0 for the first one or a
  // zero-length interval. Clamped: CPU accounting granularity can overshoot briefly.
  double sample(Duration process_cpu, Timestamp now);
  double last() const { return last_; }

 private:
  unsigned cores_;
  bool have_previous_ = false;
  Duration previous_cpu_{};
  Timestamp previous_at_{};
  double last_ = 0;
};

// CPU time used by this process so far (all threads), CLOCK_PROCESS_CPUTIME_ID.
Duration process_cpu_time();
// Online CPUs (at least 1).
unsigned cpu_count();

}  // namespace strata
