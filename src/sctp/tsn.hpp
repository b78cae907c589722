// TSNs and SSNs are serial numbers (RFC 9260 §1.6, RFC 1982): they wrap, and "newer" is
// decided modulo 2^32 / 2^16. Inside the association they are unwrapped to 64-bit counters
// relative to one that is known, so maps stay ordered across the wrap.
#pragma once
#include <cstdint>

namespace strata::sctp {

inline bool tsn_newer(uint32_t a, uint32_t b) { return a != b && uint32_t(a - b) < 0x80000000u; }  // a > b
inline bool ssn_newer(uint16_t a, uint16_t b) { return a != b && uint16_t(a - b) < 0x8000u; }

// The 64-bit value of `tsn` nearest to `ref` (a 64-bit value whose low 32 bits are a TSN).
inline uint64_t unwrap_tsn(uint32_t tsn, uint64_t ref) {
  const int64_t delta = int32_t(tsn - uint32_t(ref));
  return uint64_t(int64_t(ref) + delta);
}

}  // namespace strata::sctp
