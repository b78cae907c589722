// RTP packet view (RFC 3550 §5.1) parsed in place over a caller-owned mutable buffer.
// This is the SFU hot path: parsing never allocates, header extension offsets (RFC 8285)
// are recorded at parse time in a small fixed array, and rewrites (sequence, timestamp,
// SSRC, payload type, marker, same-size extension values) go straight into the buffer.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace strata::rtp {

// RFC 8285 §4.2 / §4.3 "defined by profile" values.
inline constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteExtensionProfile = 0x1000;  // low 4 bits are appbits
inline constexpr uint16_t kTwoByteExtensionProfileMask = 0xFFF0;

class RtpPacket {
 public:
  static constexpr size_t kFixedHeaderSize = 12;
  // One-byte form allows ids 1..14; two-byte form more, but real senders use a handful.
  // Elements beyond this many are ignored by extension() (the bytes stay untouched).
  static constexpr size_t kMaxExtensions = 16;

  // Validates version 2, CSRC list, extension block and padding against `len`.
  // The returned view aliases `data`; it stays valid while the buffer does.
  static std::optional<RtpPacket> parse(uint8_t* data, size_t len);

  uint8_t version() const { return data_[0] >> 6; }
  bool has_padding() const { return (data_[0] & 0x20) != 0; }
  bool has_extension() const { return (data_[0] & 0x10) != 0; }
  uint8_t csrc_count() const { return data_[0] & 0x0F; }
  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence() const { return load_be16(data_ + 2); }
  uint32_t timestamp() const { return load_be32(data_ + 4); }
  uint32_t ssrc() const { return load_be32(data_ + 8); }
  uint32_t csrc(size_t index) const;  // index < csrc_count(), else 0

  // Fixed header + CSRCs + extension block.
  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return padding_size_; }
  size_t payload_size() const { return size_ - header_size_ - padding_size_; }
  size_t size() const { return size_; }
  ByteSpan payload() const { return {data_ + header_size_, payload_size()}; }
  MutableByteSpan mutable_payload() { return {data_ + header_size_, payload_size()}; }
  ByteSpan bytes() const { return {data_, size_}; }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }

  // In-place rewrites (RFC 3550 §5.1 field layout).
  void set_sequence(uint16_t seq) { store_be16(data_ + 2, seq); }
  void set_timestamp(uint32_t ts) { store_be32(data_ + 4, ts); }
  void set_ssrc(uint32_t ssrc) { store_be32(data_ + 8, ssrc); }
  void set_payload_type(uint8_t pt) { data_[1] = uint8_t((data_[1] & 0x80) | (pt & 0x7F)); }
  void set_marker(bool m) { data_[1] = uint8_t((data_[1] & 0x7F) | (m ? 0x80 : 0)); }

  // RFC 8285 header extensions. profile is 0 when the packet has no extension block.
  uint16_t extension_profile() const { return extension_profile_; }
  bool uses_two_byte_extensions() const {
    return (extension_profile_ & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile;
  }
  size_t extension_count() const { return extension_count_; }
  // Value of element `id` (id 0 is never an element). nullopt when absent.
  std::optional<ByteSpan> extension(uint8_t id) const;
  // Overwrites the value of element `id` when present and value.size() matches exactly.
  bool set_extension_value(uint8_t id, ByteSpan value);
  // Mutable access for fixed-size rewrites (e.g. transport-cc sequence renumbering).
  std::optional<MutableByteSpan> mutable_extension(uint8_t id);

 private:
  struct ExtensionEntry {
    uint8_t id;
    uint8_t length;
    uint32_t offset;  // from packet start
  };

  RtpPacket() = default;
  bool parse_extension_elements(size_t offset, size_t length);
  const ExtensionEntry* find_extension(uint8_t id) const;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t header_size_ = 0;
  size_t padding_size_ = 0;
  uint16_t extension_profile_ = 0;
  uint8_t extension_count_ = 0;
  std::array<ExtensionEntry, kMaxExtensions> extensions_{};
};

// RFC 7983 §7 demultiplexing: first byte in 128..191 is RTP or RTCP.
bool is_rtp_or_rtcp(ByteSpan first_bytes);
// RFC 5761 §4: with RTP/RTCP mux, RTCP packet types 192..223 occupy the second byte,
// which for RTP would be marker + payload type 64..95 (never used by dynamic PTs).
bool looks_like_rtcp(ByteSpan packet);

}  // namespace strata::rtp
