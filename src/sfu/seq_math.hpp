// 16-bit RTP sequence number arithmetic (RFC 3550 §A.1: sequence numbers wrap at 2^16).
#pragma once
#include <cstdint>

namespace strata::sfu {

// Signed distance from `from` to `to`, in [-32768, 32767]: positive when `to` is newer.
inline int seq_diff(uint16_t to, uint16_t from) { return int(int16_t(uint16_t(to - from))); }
inline bool seq_newer(uint16_t a, uint16_t b) { return seq_diff(a, b) > 0; }

// Extends 16-bit sequence numbers to 64 bits relative to the last extended value, so a
// window of nearby numbers across a wrap (65535 -> 0) orders correctly.
inline int64_t unwrap_seq(int64_t last_extended, uint16_t seq) {
  return last_extended + seq_diff(seq, uint16_t(last_extended));
}

}  // namespace strata::sfu
