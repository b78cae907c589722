// Readers for the pre-encoded clip the bench publisher replays: IVF (VP8 frames, the
// container libvpx/ffmpeg write) and Ogg Opus (RFC 7845 over RFC 3533 pages). Both parse a
// whole file held in memory once at start-up; replay then only indexes into the frames.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace strata::loadtest {

struct VideoFrame {
  uint64_t pts = 0;  // in the IVF time base (IvfFile::timebase_num / timebase_den seconds)
  bool keyframe = false;
  Bytes data;
};

struct IvfFile {
  std::string fourcc;  // "VP80"
  uint16_t width = 0, height = 0;
  uint32_t timebase_num = 1, timebase_den = 30;  // pts * num / den = seconds
  std::vector<VideoFrame> frames;

  // Microseconds from the first frame to frame i.
  int64_t frame_time_us(size_t i) const;
  // Length of one loop of the clip (last frame time + one frame period).
  int64_t duration_us() const;
};

// Parses an IVF file (32-byte "DKIF" header, then 12-byte frame headers: size u32le,
// pts u64le). Stops at a truncated trailing frame; nullopt on a bad header or no frames.
std::optional<IvfFile> parse_ivf(ByteSpan file, std::string* error);

// RFC 6386 §9.1: bit 0 of the first byte of a VP8 frame is 0 for a keyframe.
inline bool vp8_frame_is_keyframe(ByteSpan frame) { return !frame.empty() && (frame[0] & 1) == 0; }

struct OpusFile {
  uint8_t channels = 2;
  std::vector<Bytes> packets;  // audio packets in order (OpusHead/OpusTags removed)
};

// Parses Ogg pages ("OggS", segment table lacing, RFC 3533 §6) of the first logical
// stream and returns its packets after the two Opus header packets (RFC 7845 §5).
std::optional<OpusFile> parse_ogg_opus(ByteSpan file, std::string* error);

std::optional<Bytes> read_file(const std::string& path, std::string* error);

}  // namespace strata::loadtest
