#include "sctp/packet.hpp"

#include <algorithm>

#include "sctp/crc32c.hpp"

namespace strata::sctp {
namespace {

constexpr size_t kChecksumOffset = 8;

uint32_t computed_checksum(ByteSpan packet) {
  static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
  uint32_t crc = crc32c(packet.first(kChecksumOffset));
  crc = crc32c(ByteSpan(kZero, 4), crc);
  return crc32c(packet.subspan(kChecksumOffset + 4), crc);
}

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

bool checksum_ok(ByteSpan packet) {
  if (packet.size() < kCommonHeaderSize) return false;
  return load_le32(&packet[kChecksumOffset]) == computed_checksum(packet);
}

void stamp_checksum(MutableByteSpan packet) {
  if (packet.size() < kCommonHeaderSize) return;
  const uint32_t crc = computed_checksum(packet);
  for (size_t k = 0; k < 4; ++k) packet[kChecksumOffset + k] = uint8_t(crc >> (8 * k));
}

std::optional<CommonHeader> parse_common_header(ByteSpan packet, PacketError* error) {
  if (packet.size() < kCommonHeaderSize + kChunkHeaderSize) {
    if (error) *error = PacketError::kTooShort;
    return std::nullopt;
  }
  if (!checksum_ok(packet)) {
    if (error) *error = PacketError::kBadChecksum;
    return std::nullopt;
  }
  return CommonHeader{load_be16(&packet[0]), load_be16(&packet[2]), load_be32(&packet[4])};
}

std::optional<ByteSpan> next_tlv(ByteSpan data, size_t& offset, bool& malformed) {
  if (malformed || offset >= data.size()) return std::nullopt;
  const size_t left = data.size() - offset;
  const size_t length = left < 4 ? 0 : load_be16(&data[offset + 2]);
  if (length < 4 || length > left) {
    malformed = true;
    return std::nullopt;
  }
  const ByteSpan tlv = data.subspan(offset, length);
  offset += std::min(pad4(length), left);  // the last one's padding may be short or missing
  return tlv;
}

std::optional<ChunkView> ChunkIterator::next() {
  const auto tlv = next_tlv(data_, offset_, malformed_);
  if (!tlv) return std::nullopt;
  return ChunkView{(*tlv)[0], (*tlv)[1], tlv->subspan(kChunkHeaderSize)};
}

void begin_packet(Bytes& out, const CommonHeader& header) {
  ByteWriter w(out);
  w.u16(header.source_port);
  w.u16(header.destination_port);
  w.u32(header.verification_tag);
  w.u32(0);
}

size_t append_chunk_header(Bytes& out, ChunkType type, uint8_t flags) {
  const size_t start = out.size();
  ByteWriter w(out);
  w.u8(uint8_t(type));
  w.u8(flags);
  w.u16(0);
  return start;
}

bool finish_chunk(Bytes& out, size_t chunk_start) {
  const size_t length = out.size() - chunk_start;
  if (length > 0xFFFF) {
    out.resize(chunk_start);
    return false;
  }
  store_be16(&out[chunk_start + 2], uint16_t(length));
  out.resize(chunk_start + pad4(length), 0);
  return true;
}

void finish_packet(Bytes& out) { stamp_checksum(out); }

}  // namespace strata::sctp
