#include "rtp/rtp_packet_builder.hpp"

#include "rtp/rtp_packet.hpp"

namespace strata::rtp {

RtpPacketBuilder& RtpPacketBuilder::csrc(uint32_t csrc) {
  if (csrc_count_ >= kMaxCsrcs) { error_ = true; return *this; }
  csrcs_[csrc_count_++] = csrc;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::extension(uint8_t id, ByteSpan value) {
  // Two-byte form caps values at 255 bytes (RFC 8285 §4.3).
  if (id == 0 || extension_count_ >= kMaxExtensions || value.size() > 255) {
    error_ = true;
    return *this;
  }
  extensions_[extension_count_++] = {id, value};
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::extension(uint8_t id, std::string_view value) {
  return extension(id, ByteSpan(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
}

bool RtpPacketBuilder::uses_two_byte_extensions() const {
  if (force_two_byte_) return true;
  for (size_t i = 0; i < extension_count_; ++i) {
    const auto& e = extensions_[i];
    // One-byte form: id 1..14, length 1..16 (RFC 8285 §4.2).
    if (e.id > 14 || e.value.empty() || e.value.size() > 16) return true;
  }
  return false;
}

size_t RtpPacketBuilder::extension_block_size() const {
  if (extension_count_ == 0) return 0;
  size_t per_element = uses_two_byte_extensions() ? 2 : 1;
  size_t n = 0;
  for (size_t i = 0; i < extension_count_; ++i) n += per_element + extensions_[i].value.size();
  return (n + 3) & ~size_t(3);
}

size_t RtpPacketBuilder::size() const {
  size_t n = RtpPacket::kFixedHeaderSize + 4 * csrc_count_;
  if (extension_count_ > 0) n += 4 + extension_block_size();
  return n + payload_.size() + padding_;
}

size_t RtpPacketBuilder::write_extensions(uint8_t* out) const {
  const bool two_byte = uses_two_byte_extensions();
  const size_t block = extension_block_size();
  store_be16(out, two_byte ? kTwoByteExtensionProfile : kOneByteExtensionProfile);
  store_be16(out + 2, uint16_t(block / 4));
  uint8_t* p = out + 4;
  for (size_t i = 0; i < extension_count_; ++i) {
    const auto& e = extensions_[i];
    if (two_byte) {
      *p++ = e.id;
      *p++ = uint8_t(e.value.size());
    } else {
      *p++ = uint8_t(e.id << 4 | (e.value.size() - 1));
    }
    if (!e.value.empty()) std::memcpy(p, e.value.data(), e.value.size());
    p += e.value.size();
  }
  std::memset(p, 0, size_t(out + 4 + block - p));  // padding bytes (id 0)
  return 4 + block;
}

size_t RtpPacketBuilder::write(uint8_t* out, size_t capacity) const {
  const size_t total = size();
  if (error_ || out == nullptr || total > capacity) return 0;
  out[0] = uint8_t(0x80 | (padding_ ? 0x20 : 0) | (extension_count_ ? 0x10 : 0) | csrc_count_);
  out[1] = uint8_t((marker_ ? 0x80 : 0) | pt_);
  store_be16(out + 2, seq_);
  store_be32(out + 4, ts_);
  store_be32(out + 8, ssrc_);
  size_t pos = RtpPacket::kFixedHeaderSize;
  for (size_t i = 0; i < csrc_count_; ++i, pos += 4) store_be32(out + pos, csrcs_[i]);
  if (extension_count_ > 0) pos += write_extensions(out + pos);
  if (!payload_.empty()) std::memcpy(out + pos, payload_.data(), payload_.size());
  pos += payload_.size();
  if (padding_ > 0) {
    std::memset(out + pos, 0, padding_);
    out[pos + padding_ - 1] = padding_;
    pos += padding_;
  }
  return pos;
}

Bytes RtpPacketBuilder::build() const {
  Bytes out(size());
  size_t n = write(out.data(), out.size());
  out.resize(n);
  return out;
}

}  // namespace strata::rtp
