#include "common/cpu_load.hpp"

#include <gtest/gtest.h>

namespace strata {
namespace {

using namespace std::chrono_literals;

TEST(CpuLoad, ShareOfTheMachineOverEachInterval) {
  struct Step {
    Duration cpu_used;  // process CPU time during the interval
    Duration wall;
    double expected;
  } steps[] = {
      {0ms, 0ms, 0.0},          // first sample: nothing to compare with
      {500ms, 1s, 0.25},        // half a core of two
      {2s, 1s, 1.0},            // both cores
      {0ms, 1s, 0.0},           // idle
      {3s, 1s, 1.0},            // accounting overshoot is clamped
      {100ms, 0ms, 1.0},        // zero-length interval keeps the last value
  };
  CpuLoad load(2);
  Duration cpu{};
  Timestamp now{};
  for (const Step& s : steps) {
    cpu += s.cpu_used;
    now += s.wall;
    EXPECT_DOUBLE_EQ(load.sample(cpu, now), s.expected) << to_millis(s.cpu_used) << " ms in " << to_millis(s.wall);
  }
}

TEST(CpuLoad, RealProcessCpuTimeAdvancesWhenBusy) {
  Duration before = process_cpu_time();
  volatile uint64_t x = 0;
  while (process_cpu_time() - before < 20ms) x = x + 1;
  EXPECT_GE(process_cpu_time() - before, Duration(20ms));
  EXPECT_GE(cpu_count(), 1u);
}

}  // namespace
}  // namespace strata
