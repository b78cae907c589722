#include "common/time.hpp"

namespace strata {

uint64_t ntp_now() {
  using namespace std::chrono;
  constexpr uint64_t kNtpUnixOffset = 2208988800ULL;  // seconds 1900-01-01 → 1970-01-01
  auto since = system_clock::now().time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  auto frac = duration_cast<nanoseconds>(since - secs).count();
  uint64_t ntp_secs = uint64_t(secs.count()) + kNtpUnixOffset;
  uint64_t ntp_frac = (uint64_t(frac) << 32) / 1'000'000'000ULL;
  return ntp_secs << 32 | ntp_frac;
}

}  // namespace strata
