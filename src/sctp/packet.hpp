// SCTP packets (RFC 9260 §3): the 12-byte common header, the CRC-32C checksum (§6.8), and a
// bounds-checked iterator over the chunks. Sans-IO and non-allocating: views borrow the bytes.
// An SCTP packet for a WebRTC data channel is one DTLS application-data record (RFC 8261).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace strata::sctp {

inline constexpr size_t kCommonHeaderSize = 12;
inline constexpr size_t kChunkHeaderSize = 4;

inline constexpr size_t pad4(size_t n) { return (n + 3) & ~size_t(3); }

// Chunks and parameters (and error causes) share one framing (RFC 9260 §3.2, §3.2.1): a
// 4-byte header whose bytes 2-3 are the length of header and value, padding to 4 bytes
// after it, which the last one may lack. Returns the TLV at `offset` (header included, no
// padding) and moves `offset` past it; nullopt at the end, or with `malformed` set for a
// length under 4 or past the data.
std::optional<ByteSpan> next_tlv(ByteSpan data, size_t& offset, bool& malformed);

// RFC 9260 §3.2 and the extensions a data channel uses: RFC 3758 (FORWARD TSN), RFC 6525
// (RE-CONFIG), RFC 8260 (I-DATA, I-FORWARD-TSN; not negotiated by Strata).
enum class ChunkType : uint8_t {
  kData = 0,
  kInit = 1,
  kInitAck = 2,
  kSack = 3,
  kHeartbeat = 4,
  kHeartbeatAck = 5,
  kAbort = 6,
  kShutdown = 7,
  kShutdownAck = 8,
  kError = 9,
  kCookieEcho = 10,
  kCookieAck = 11,
  kShutdownComplete = 14,
  kIData = 64,
  kReconfig = 130,
  kForwardTsn = 192,
  kIForwardTsn = 194,
};

struct CommonHeader {
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  uint32_t verification_tag = 0;
  bool operator==(const CommonHeader&) const = default;
};

// One chunk: its type and flags, and its value (after the 4-byte chunk header, without the
// padding that follows it).
struct ChunkView {
  uint8_t type = 0;
  uint8_t flags = 0;
  ByteSpan value;
  bool is(ChunkType t) const { return type == uint8_t(t); }
};

// RFC 9260 §3.2: what a receiver does with a chunk type it does not know, from its two
// high bits: 00 stop processing the packet, 01 stop and report it in an ERROR chunk,
// 10 skip it, 11 skip it and report it.
struct UnknownChunkAction {
  bool skip = false;
  bool report = false;
};
inline UnknownChunkAction unknown_chunk_action(uint8_t type) { return {(type & 0x80) != 0, (type & 0x40) != 0}; }

enum class PacketError : uint8_t {
  kTooShort,         // under the common header plus one chunk header
  kBadChecksum,      // CRC-32C mismatch (RFC 9260 §6.8: discard silently)
};

// The checksum sits in bytes 8-11 as the CRC's little-endian bytes (RFC 9260 Appendix A: the
// reflected CRC's low byte goes first on the wire).
bool checksum_ok(ByteSpan packet);
// Writes the checksum of a finished packet (its bytes 8-11 are overwritten).
void stamp_checksum(MutableByteSpan packet);

// The header of a packet whose size and checksum are right; the chunks are not looked at.
std::optional<CommonHeader> parse_common_header(ByteSpan packet, PacketError* error = nullptr);

// Walks the chunks after the common header. next() returns nullopt at the end or at the first
// malformed chunk (a length under 4 or past the packet); malformed() tells which. The last
// chunk's padding may be short or missing.
class ChunkIterator {
 public:
  explicit ChunkIterator(ByteSpan packet) : data_(packet), offset_(kCommonHeaderSize) {}
  std::optional<ChunkView> next();
  bool malformed() const { return malformed_; }

 private:
  ByteSpan data_;
  size_t offset_;
  bool malformed_ = false;
};

// Packet assembly: begin_packet writes the common header (checksum zero), append_chunk_header
// starts a chunk whose length finish_chunk sets (and pads to 4 bytes; a chunk over the 16-bit
// length is removed again and finish_chunk returns false), finish_packet stamps the checksum.
void begin_packet(Bytes& out, const CommonHeader& header);
size_t append_chunk_header(Bytes& out, ChunkType type, uint8_t flags);
bool finish_chunk(Bytes& out, size_t chunk_start);
void finish_packet(Bytes& out);

}  // namespace strata::sctp
