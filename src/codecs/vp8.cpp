#include "codecs/vp8.hpp"

namespace strata::codecs {
namespace {

// First octet (RFC 7741 §4.2): |X|R|N|S|R| PID |
constexpr uint8_t kX = 0x80;
constexpr uint8_t kS = 0x10;
constexpr uint8_t kPidMask = 0x07;
// Extension octet: |I|L|T|K| RSV |
constexpr uint8_t kI = 0x80;
constexpr uint8_t kL = 0x40;
constexpr uint8_t kT = 0x20;
constexpr uint8_t kK = 0x10;
// PictureID first octet: |M| PictureID |
constexpr uint8_t kM = 0x80;

struct Offsets {
  size_t picture_id = 0;  // 0 = absent (offset 0 is always the first octet)
  size_t tl0picidx = 0;
};

// Walks the optional fields; fills `d` and the offsets of the rewritable fields.
bool walk(ByteSpan p, Vp8Descriptor& d, Offsets& off) {
  if (p.empty()) return false;
  size_t i = 0;
  const uint8_t first = p[i++];
  d.start_of_partition = first & kS;
  d.partition_index = first & kPidMask;
  if (first & kX) {
    if (i >= p.size()) return false;
    const uint8_t ext = p[i++];
    if (ext & kI) {
      if (i >= p.size()) return false;
      off.picture_id = i;
      d.has_picture_id = true;
      d.picture_id_15bit = p[i] & kM;
      if (d.picture_id_15bit) {
        if (i + 1 >= p.size()) return false;
        d.picture_id = uint16_t((p[i] & 0x7F) << 8 | p[i + 1]);
        i += 2;
      } else {
        d.picture_id = p[i] & 0x7F;
        i += 1;
      }
    }
    if (ext & kL) {
      if (i >= p.size()) return false;
      off.tl0picidx = i;
      d.has_tl0picidx = true;
      d.tl0picidx = p[i++];
    }
    if (ext & (kT | kK)) {
      // |TID|Y| KEYIDX | shared by the T and K fields (§4.2).
      if (i >= p.size()) return false;
      if (ext & kT) {
        d.has_tid = true;
        d.tid = uint8_t(p[i] >> 6);
        d.layer_sync = p[i] & 0x20;
      }
      ++i;
    }
  }
  d.size = i;
  return true;
}

}  // namespace

std::optional<Vp8Descriptor> parse_vp8(ByteSpan payload) {
  Vp8Descriptor d;
  Offsets off;
  if (!walk(payload, d, off)) return std::nullopt;
  if (d.size >= payload.size()) return std::nullopt;  // descriptor with no VP8 data
  // VP8 payload header (§4.3) starts the first partition: |Size0|H|VER|P|, P=0 keyframe.
  if (d.start_of_partition && d.partition_index == 0) d.keyframe = (payload[d.size] & 0x01) == 0;
  return d;
}

bool rewrite_vp8_picture_id(uint8_t* payload, size_t len, uint16_t picture_id, uint8_t tl0picidx) {
  if (payload == nullptr) return false;
  Vp8Descriptor d;
  Offsets off;
  if (!walk(ByteSpan(payload, len), d, off) || !d.has_picture_id) return false;
  uint8_t* pid = payload + off.picture_id;
  if (d.picture_id_15bit) {
    pid[0] = uint8_t(kM | ((picture_id >> 8) & 0x7F));
    pid[1] = uint8_t(picture_id);
  } else {
    pid[0] = uint8_t(picture_id & 0x7F);
  }
  if (d.has_tl0picidx) payload[off.tl0picidx] = tl0picidx;
  return true;
}

}  // namespace strata::codecs
