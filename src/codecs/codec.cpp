#include "codecs/codec.hpp"

#include <array>
#include <cctype>

namespace strata::codecs {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct NamedCodec {
  std::string_view name;
  Codec codec;
};

constexpr std::array<NamedCodec, 5> kNames{{
    {"opus", Codec::kOpus},
    {"VP8", Codec::kVp8},
    {"VP9", Codec::kVp9},
    {"H264", Codec::kH264},
    {"AV1", Codec::kAv1},
}};

}  // namespace

Codec codec_from_name(std::string_view name) {
  for (const auto& n : kNames) {
    if (iequals(n.name, name)) return n.codec;
  }
  return Codec::kUnknown;
}

std::string_view codec_name(Codec codec) {
  for (const auto& n : kNames) {
    if (n.codec == codec) return n.name;
  }
  return "unknown";
}

bool is_video(Codec codec) {
  return codec == Codec::kVp8 || codec == Codec::kVp9 || codec == Codec::kH264 || codec == Codec::kAv1;
}

bool is_keyframe(Codec codec, ByteSpan payload) {
  switch (codec) {
    case Codec::kVp8: return is_vp8_keyframe(payload);
    case Codec::kVp9: return is_vp9_keyframe(payload);
    case Codec::kH264: return is_h264_keyframe(payload);
    case Codec::kAv1: return is_av1_keyframe(payload);
    case Codec::kOpus:  // Audio has no keyframes (see header).
    case Codec::kUnknown: return false;
  }
  return false;
}

}  // namespace strata::codecs
