// VP8 RTP packetization (RFC 7741 §4): one frame split into near-equal payloads of at most
// `max_payload` bytes, each led by a 4-byte payload descriptor carrying a 15-bit PictureID
// (X=1, I=1, M=1) so receivers and the SFU can track pictures. Allocation-free: payloads
// are written into a caller buffer one at a time.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"

namespace strata::loadtest {

inline constexpr size_t kVp8DescriptorSize = 4;

class Vp8Packetizer {
 public:
  // `max_payload` includes the descriptor (>= kVp8DescriptorSize + 1).
  Vp8Packetizer(ByteSpan frame, uint16_t picture_id, size_t max_payload);

  size_t packet_count() const { return count_; }
  // Writes payload `index` (< packet_count()) into out; returns its length (0 if it does
  // not fit in `capacity`). The last payload of the frame gets the RTP marker bit.
  size_t write(size_t index, uint8_t* out, size_t capacity) const;

 private:
  ByteSpan frame_;
  uint16_t picture_id_;
  size_t count_ = 0;
  size_t chunk_ = 0;  // bytes of frame data per payload (the last one may be shorter)
};

}  // namespace strata::loadtest
