#include "loadtest/vp8_packetizer.hpp"

#include <algorithm>
#include <cstring>

namespace strata::loadtest {

Vp8Packetizer::Vp8Packetizer(ByteSpan frame, uint16_t picture_id, size_t max_payload)
    : frame_(frame), picture_id_(picture_id & 0x7FFF) {
  if (frame.empty() || max_payload <= kVp8DescriptorSize) return;
  size_t room = max_payload - kVp8DescriptorSize;
  count_ = (frame.size() + room - 1) / room;
  // Equal split instead of "full packets then a runt": fewer tiny packets on the wire.
  chunk_ = (frame.size() + count_ - 1) / count_;
}

size_t Vp8Packetizer::write(size_t index, uint8_t* out, size_t capacity) const {
  if (index >= count_) return 0;
  size_t begin = index * chunk_;
  size_t len = std::min(chunk_, frame_.size() - begin);
  if (capacity < kVp8DescriptorSize + len) return 0;
  // RFC 7741 §4.2: X|R|N|S|R|PID, then I|L|T|K|RSV, then M=1 + 15-bit PictureID.
  out[0] = uint8_t(0x80 | (index == 0 ? 0x10 : 0x00));
  out[1] = 0x80;
  out[2] = uint8_t(0x80 | (picture_id_ >> 8));
  out[3] = uint8_t(picture_id_ & 0xFF);
  std::memcpy(out + kVp8DescriptorSize, frame_.data() + begin, len);
  return kVp8DescriptorSize + len;
}

}  // namespace strata::loadtest
