// Writes RTP packets (RFC 3550 §5.1) with RFC 8285 header extensions into a caller
// buffer. Used by tests and to synthesize packets (probes, RTX). No allocation except
// in build(): extension values and the payload are referenced, not copied, so they
// must outlive the write()/build() call.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"

namespace strata::rtp {

class RtpPacketBuilder {
 public:
  static constexpr size_t kMaxExtensions = 16;
  static constexpr size_t kMaxCsrcs = 15;

  RtpPacketBuilder& payload_type(uint8_t pt) { pt_ = pt & 0x7F; return *this; }
  RtpPacketBuilder& sequence(uint16_t seq) { seq_ = seq; return *this; }
  RtpPacketBuilder& timestamp(uint32_t ts) { ts_ = ts; return *this; }
  RtpPacketBuilder& ssrc(uint32_t ssrc) { ssrc_ = ssrc; return *this; }
  RtpPacketBuilder& marker(bool m) { marker_ = m; return *this; }
  // Ignored beyond kMaxCsrcs (sets error()).
  RtpPacketBuilder& csrc(uint32_t csrc);
  // Ignored when id is 0 or beyond kMaxExtensions (sets error()).
  RtpPacketBuilder& extension(uint8_t id, ByteSpan value);
  RtpPacketBuilder& extension(uint8_t id, std::string_view value);
  // Forces the two-byte form (RFC 8285 §4.3). It is also chosen automatically when an id
  // is > 14 or a value is empty or longer than 16 bytes.
  RtpPacketBuilder& two_byte_extensions(bool on) { force_two_byte_ = on; return *this; }
  RtpPacketBuilder& payload(ByteSpan payload) { payload_ = payload; return *this; }
  // RFC 3550 §5.1 padding octets (count includes the final count byte); 0 = none.
  RtpPacketBuilder& padding(uint8_t n) { padding_ = n; return *this; }

  bool error() const { return error_; }
  bool uses_two_byte_extensions() const;
  size_t size() const;
  // Returns bytes written, or 0 when capacity is too small or the builder is in error.
  size_t write(uint8_t* out, size_t capacity) const;
  Bytes build() const;

 private:
  struct Extension {
    uint8_t id;
    ByteSpan value;
  };
  size_t extension_block_size() const;  // elements + zero padding to 32-bit, no 4-byte header
  size_t write_extensions(uint8_t* out) const;

  uint8_t pt_ = 0;
  uint16_t seq_ = 0;
  uint32_t ts_ = 0;
  uint32_t ssrc_ = 0;
  bool marker_ = false;
  bool force_two_byte_ = false;
  bool error_ = false;
  uint8_t padding_ = 0;
  size_t csrc_count_ = 0;
  std::array<uint32_t, kMaxCsrcs> csrcs_{};
  size_t extension_count_ = 0;
  std::array<Extension, kMaxExtensions> extensions_{};
  ByteSpan payload_;
};

}  // namespace strata::rtp
