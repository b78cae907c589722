// Seeded deterministic random numbers for the WAN emulator. The standard distributions are
// implementation-defined, so the same seed could give other losses on another libstdc++;
// this one is fully specified: splitmix64 for seeding, xoshiro256** for the stream,
// 53-bit uniform doubles and Box-Muller normals.
#pragma once
#include <cmath>
#include <cstdint>

namespace strata::wan_emu {

// splitmix64 step: spreads a small seed (1, 2, ...) over the whole state space.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = splitmix64(seed);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform01() { return double(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  bool bernoulli(double p) { return uniform01() < p; }
  // Standard normal (Box-Muller; the second value is discarded to keep the state simple).
  double normal() {
    double u1 = uniform01();
    if (u1 <= 0.0) u1 = 0x1.0p-53;
    const double u2 = uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace strata::wan_emu
