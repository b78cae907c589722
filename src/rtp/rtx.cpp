#include "rtp/rtx.hpp"

namespace strata::rtp {

size_t write_rtx(const RtpPacket& original, uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq,
                 uint8_t* out, size_t capacity) {
  const size_t header = original.header_size();
  const ByteSpan payload = original.payload();
  const size_t total = header + 2 + payload.size();
  if (out == nullptr || total > capacity) return 0;
  std::memmove(out, original.data(), header);
  out[0] &= uint8_t(~0x20);  // padding is not carried over
  store_be16(out + header, original.sequence());
  if (!payload.empty()) std::memmove(out + header + 2, payload.data(), payload.size());
  out[1] = uint8_t((out[1] & 0x80) | (rtx_pt & 0x7F));
  store_be16(out + 2, rtx_seq);
  store_be32(out + 8, rtx_ssrc);
  return total;
}

std::optional<uint16_t> rtx_original_sequence(const RtpPacket& rtx) {
  if (rtx.payload_size() < 2) return std::nullopt;
  return load_be16(rtx.payload().data());
}

std::optional<RtpPacket> restore_from_rtx(RtpPacket& rtx, uint8_t original_pt, uint32_t original_ssrc) {
  auto osn = rtx_original_sequence(rtx);
  if (!osn) return std::nullopt;
  uint8_t* data = rtx.data();
  const size_t header = rtx.header_size();
  const size_t tail = rtx.size() - header - 2;  // payload + padding
  std::memmove(data + header, data + header + 2, tail);
  rtx.set_sequence(*osn);
  rtx.set_ssrc(original_ssrc);
  rtx.set_payload_type(original_pt);
  return RtpPacket::parse(data, rtx.size() - 2);
}

}  // namespace strata::rtp
