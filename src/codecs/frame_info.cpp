// Per-packet frame information other than keyframes (temporal layer id, frame start);
// see codec.hpp for the rules and RFC references.
#include "codecs/codec.hpp"
#include "codecs/vp8.hpp"
#include "codecs/vp9.hpp"

namespace strata::codecs {
namespace {

// H.264 NAL unit types (RFC 6184 §5.2).
constexpr uint8_t kNalSingleFirst = 1;
constexpr uint8_t kNalSingleLast = 23;
constexpr uint8_t kNalStapA = 24;
constexpr uint8_t kNalFuA = 28;

bool is_h264_frame_start(ByteSpan p) {
  if (p.empty()) return false;
  const uint8_t type = p[0] & 0x1F;
  if (type >= kNalSingleFirst && type <= kNalSingleLast) return true;
  if (type == kNalStapA) return p.size() > 1;
  // FU header (RFC 6184 §5.8): |S|E|R| Type |
  if (type == kNalFuA) return p.size() >= 2 && (p[1] & 0x80);
  return false;
}

// AV1 aggregation header (AV1 RTP spec §4.4): |Z|Y| W |N|-|-|-|
bool is_av1_frame_start(ByteSpan p) { return p.size() >= 2 && !(p[0] & 0x80); }

}  // namespace

std::optional<uint8_t> temporal_layer_id(Codec codec, ByteSpan payload) {
  switch (codec) {
    case Codec::kVp8: {
      const auto d = parse_vp8(payload);
      if (d && d->has_tid) return d->tid;
      return std::nullopt;
    }
    case Codec::kVp9: {
      const auto d = parse_vp9(payload);
      if (d && d->has_layer_indices) return d->tid;
      return std::nullopt;
    }
    case Codec::kH264:  // Not in the payload (see header).
    case Codec::kAv1:
    case Codec::kOpus:
    case Codec::kUnknown: return std::nullopt;
  }
  return std::nullopt;
}

bool is_frame_start(Codec codec, ByteSpan payload) {
  switch (codec) {
    case Codec::kVp8: {
      const auto d = parse_vp8(payload);
      return d && d->start_of_partition && d->partition_index == 0;
    }
    case Codec::kVp9: {
      const auto d = parse_vp9(payload);
      return d && d->beginning_of_frame;
    }
    case Codec::kH264: return is_h264_frame_start(payload);
    case Codec::kAv1: return is_av1_frame_start(payload);
    case Codec::kOpus: return !payload.empty();
    case Codec::kUnknown: return false;
  }
  return false;
}

}  // namespace strata::codecs
