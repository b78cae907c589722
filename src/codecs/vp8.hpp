// VP8 RTP payload descriptor (RFC 7741 §4.2) parsing and in-place PictureID/TL0PICIDX
// rewriting, which an SFU needs when it switches a viewer between simulcast encodings so
// that the viewer keeps seeing one continuous PictureID sequence.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace strata::codecs {

struct Vp8Descriptor {
  bool has_picture_id = false;
  uint16_t picture_id = 0;        // 7 or 15 bits
  bool picture_id_15bit = false;  // M bit (RFC 7741 §4.2)
  bool has_tl0picidx = false;
  uint8_t tl0picidx = 0;
  bool has_tid = false;           // T bit: TID and Y are meaningful
  uint8_t tid = 0;
  bool layer_sync = false;        // Y bit
  size_t size = 0;                // descriptor length in bytes; the VP8 payload starts here
  bool start_of_partition = false;  // S bit
  uint8_t partition_index = 0;      // PID
  // Derived from the VP8 payload header (RFC 7741 §4.3), only meaningful when
  // start_of_partition && partition_index == 0 and the payload header was present.
  bool keyframe = false;
};

// Parses the descriptor at the start of an RTP payload. Returns nullopt when the payload
// is too short for the fields its flags announce (or holds no VP8 data after them).
std::optional<Vp8Descriptor> parse_vp8(ByteSpan payload);

// Overwrites PictureID (keeping the descriptor's 7/15-bit width: the value is truncated to
// that width) and TL0PICIDX (when present) in place. Returns false when the payload does
// not parse or carries no PictureID, in which case nothing is written.
bool rewrite_vp8_picture_id(uint8_t* payload, size_t len, uint16_t picture_id, uint8_t tl0picidx);

}  // namespace strata::codecs
