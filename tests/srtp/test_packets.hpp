// Builders for RTP/RTCP test packets shared by the srtp tests.
#pragma once
#include <random>

#include "common/bytes.hpp"

namespace strata::srtp::testing {

struct RtpShape {
  uint8_t csrc_count = 0;
  uint16_t extension_words = 0;  // 0 = no header extension
  size_t payload_size = 160;
};

inline Bytes make_rtp(uint32_t ssrc, uint16_t seq, const RtpShape& shape, std::mt19937& rng) {
  Bytes p;
  ByteWriter w(p);
  const bool ext = shape.extension_words > 0;
  w.u8(uint8_t(0x80 | (ext ? 0x10 : 0) | shape.csrc_count));
  w.u8(96);
  w.u16(seq);
  w.u32(uint32_t(seq) * 3000u);
  w.u32(ssrc);
  for (uint8_t i = 0; i < shape.csrc_count; ++i) w.u32(0xc0000000u + i);
  if (ext) {
    w.u16(0xBEDE);  // one-byte header extensions (RFC 8285)
    w.u16(shape.extension_words);
    for (uint16_t i = 0; i < shape.extension_words; ++i) w.u32(rng());
  }
  for (size_t i = 0; i < shape.payload_size; ++i) w.u8(uint8_t(rng()));
  return p;
}

// Sender report with `body_words` random 32-bit words after the sender SSRC.
inline Bytes make_rtcp(uint32_t ssrc, uint16_t body_words, std::mt19937& rng) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x80);
  w.u8(200);
  w.u16(uint16_t(1 + body_words));
  w.u32(ssrc);
  for (uint16_t i = 0; i < body_words; ++i) w.u32(rng());
  return p;
}

}  // namespace strata::srtp::testing
