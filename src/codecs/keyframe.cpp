// Keyframe detection per codec; see codec.hpp for the rules and RFC references.
#include "codecs/codec.hpp"
#include "codecs/vp8.hpp"

namespace strata::codecs {
namespace {

// H.264 NAL unit types (RFC 6184 §5.4, H.264 Table 7-1).
constexpr uint8_t kNalIdr = 5;
constexpr uint8_t kNalSps = 7;
constexpr uint8_t kNalStapA = 24;
constexpr uint8_t kNalFuA = 28;

bool is_h264_key_nal(uint8_t nal_type) { return nal_type == kNalIdr || nal_type == kNalSps; }

// STAP-A (RFC 6184 §5.7.1): 1-byte header, then [16-bit size][NAL unit]...
bool stap_a_has_key_nal(ByteSpan p) {
  size_t i = 1;
  while (i + 2 <= p.size()) {
    const size_t nal_size = load_be16(&p[i]);
    i += 2;
    if (nal_size == 0 || nal_size > p.size() - i) return false;  // malformed aggregate
    if (is_h264_key_nal(p[i] & 0x1F)) return true;
    i += nal_size;
  }
  return false;
}

}  // namespace

bool is_vp8_keyframe(ByteSpan payload) {
  const auto d = parse_vp8(payload);
  return d && d->start_of_partition && d->partition_index == 0 && d->keyframe;
}

// VP9 descriptor first octet (RFC 9628 §4.2): |I|P|L|F|B|E|V|Z|
bool is_vp9_keyframe(ByteSpan p) {
  constexpr uint8_t kI = 0x80, kP = 0x40, kL = 0x20, kB = 0x08;
  if (p.empty()) return false;
  const uint8_t first = p[0];
  if (!(first & kB) || (first & kP)) return false;  // not a frame start, or inter-predicted
  size_t i = 1;
  if (first & kI) {
    if (i >= p.size()) return false;
    i += (p[i] & 0x80) ? 2 : 1;  // M bit: 15-bit PictureID
  }
  if (!(first & kL)) return i < p.size();  // no layer indices: single spatial layer
  if (i >= p.size()) return false;
  // Layer indices: |T|I|D|U| S |I|D| -> SID is bits 3..1.
  const uint8_t sid = (p[i] >> 1) & 0x07;
  return sid == 0;
}

bool is_h264_keyframe(ByteSpan p) {
  if (p.empty()) return false;
  const uint8_t type = p[0] & 0x1F;
  if (is_h264_key_nal(type)) return true;
  if (type == kNalStapA) return stap_a_has_key_nal(p);
  if (type == kNalFuA) {
    // FU header (RFC 6184 §5.8): |S|E|R| Type |; only the start fragment counts.
    if (p.size() < 2) return false;
    return (p[1] & 0x80) && is_h264_key_nal(p[1] & 0x1F);
  }
  return false;
}

// AV1 aggregation header (AV1 RTP spec §4.4): |Z|Y| W |N|-|-|-|. N=1 marks the first packet
// of a coded video sequence, i.e. a sequence header + key frame a decoder can start from.
bool is_av1_keyframe(ByteSpan p) {
  if (p.size() < 2) return false;  // header plus at least one OBU byte
  return p[0] & 0x08;
}

}  // namespace strata::codecs
