#include "rtp/rtp_packet.hpp"

namespace strata::rtp {

std::optional<RtpPacket> RtpPacket::parse(uint8_t* data, size_t len) {
  if (data == nullptr || len < kFixedHeaderSize) return std::nullopt;
  RtpPacket p;
  p.data_ = data;
  p.size_ = len;
  if (p.version() != 2) return std::nullopt;

  size_t offset = kFixedHeaderSize + 4 * size_t(p.csrc_count());
  if (offset > len) return std::nullopt;

  if (p.has_extension()) {
    // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words (excluding this word).
    if (offset + 4 > len) return std::nullopt;
    p.extension_profile_ = load_be16(data + offset);
    size_t ext_len = size_t(load_be16(data + offset + 2)) * 4;
    offset += 4;
    if (offset + ext_len > len) return std::nullopt;
    if (!p.parse_extension_elements(offset, ext_len)) return std::nullopt;
    offset += ext_len;
  }
  p.header_size_ = offset;

  if (p.has_padding()) {
    // RFC 3550 §5.1: last octet counts padding octets, itself included.
    size_t pad = data[len - 1];
    if (pad == 0 || pad > len - offset) return std::nullopt;
    p.padding_size_ = pad;
  }
  return p;
}

// RFC 8285 §4.2 (one-byte) and §4.3 (two-byte) element walks. Unknown profiles are not
// an error: the block is simply opaque. A truncated element ends the walk (elements
// before it remain usable) rather than rejecting the whole packet.
bool RtpPacket::parse_extension_elements(size_t offset, size_t length) {
  const bool one_byte = extension_profile_ == kOneByteExtensionProfile;
  const bool two_byte = uses_two_byte_extensions();
  if (!one_byte && !two_byte) return true;
  size_t pos = offset;
  const size_t end = offset + length;
  while (pos < end) {
    uint8_t id;
    size_t value_len;
    size_t header_len;
    if (one_byte) {
      id = data_[pos] >> 4;
      if (id == 0) { ++pos; continue; }  // padding byte
      if (id == 15) break;               // reserved: stop processing (§4.2)
      value_len = size_t(data_[pos] & 0x0F) + 1;
      header_len = 1;
    } else {
      id = data_[pos];
      if (id == 0) { ++pos; continue; }  // padding byte
      if (pos + 2 > end) break;
      value_len = data_[pos + 1];
      header_len = 2;
    }
    if (pos + header_len + value_len > end) break;
    if (extension_count_ < kMaxExtensions) {
      extensions_[extension_count_++] = {id, uint8_t(value_len), uint32_t(pos + header_len)};
    }
    pos += header_len + value_len;
  }
  return true;
}

uint32_t RtpPacket::csrc(size_t index) const {
  if (index >= csrc_count()) return 0;
  return load_be32(data_ + kFixedHeaderSize + 4 * index);
}

const RtpPacket::ExtensionEntry* RtpPacket::find_extension(uint8_t id) const {
  if (id == 0) return nullptr;
  for (size_t i = 0; i < extension_count_; ++i) {
    if (extensions_[i].id == id) return &extensions_[i];
  }
  return nullptr;
}

std::optional<ByteSpan> RtpPacket::extension(uint8_t id) const {
  const ExtensionEntry* e = find_extension(id);
  if (e == nullptr) return std::nullopt;
  return ByteSpan(data_ + e->offset, e->length);
}

std::optional<MutableByteSpan> RtpPacket::mutable_extension(uint8_t id) {
  const ExtensionEntry* e = find_extension(id);
  if (e == nullptr) return std::nullopt;
  return MutableByteSpan(data_ + e->offset, e->length);
}

bool RtpPacket::set_extension_value(uint8_t id, ByteSpan value) {
  const ExtensionEntry* e = find_extension(id);
  if (e == nullptr || e->length != value.size()) return false;
  if (!value.empty()) std::memmove(data_ + e->offset, value.data(), value.size());
  return true;
}

bool is_rtp_or_rtcp(ByteSpan first_bytes) {
  return !first_bytes.empty() && first_bytes[0] >= 128 && first_bytes[0] <= 191;
}

bool looks_like_rtcp(ByteSpan packet) {
  return packet.size() >= 2 && is_rtp_or_rtcp(packet) && packet[1] >= 192 && packet[1] <= 223;
}

}  // namespace strata::rtp
