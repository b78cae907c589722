// Time for sans-IO protocol code. Protocol objects never read a clock themselves: the
// caller passes `Timestamp now` into every call, and timers come back as Timestamps.
// Production code passes SteadyClock::now(); tests pass values from a FakeClock.
#pragma once
#include <chrono>
#include <cstdint>

namespace strata {

using Duration = std::chrono::microseconds;
using Timestamp = std::chrono::time_point<std::chrono::steady_clock, Duration>;

inline constexpr Timestamp kNever = Timestamp::max();

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start = Timestamp(Duration(1'000'000'000))) : now_(start) {}
  Timestamp now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(Timestamp t) { now_ = t; }
 private:
  Timestamp now_;
};

inline int64_t to_micros(Timestamp t) { return t.time_since_epoch().count(); }
inline int64_t to_millis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Wall clock as NTP 64-bit (RFC 3550 §4), for RTCP sender reports.
uint64_t ntp_now();

}  // namespace strata
