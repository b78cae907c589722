#include "codecs/vp9.hpp"

namespace strata::codecs {
namespace {

// First octet (RFC 9628 §4.2): |I|P|L|F|B|E|V|Z|
constexpr uint8_t kI = 0x80;
constexpr uint8_t kP = 0x40;
constexpr uint8_t kL = 0x20;
constexpr uint8_t kF = 0x10;
constexpr uint8_t kB = 0x08;
constexpr uint8_t kE = 0x04;
constexpr uint8_t kV = 0x02;
constexpr uint8_t kZ = 0x01;
constexpr uint8_t kM = 0x80;       // PictureID first octet: |M| PICTURE ID |
constexpr uint8_t kPdiffN = 0x01;  // |P_DIFF|N|: another P_DIFF follows
constexpr size_t kMaxPdiffs = 3;   // §4.2: "up to 3 times"
constexpr size_t kMaxSpatialLayers = 8;  // N_S is 3 bits

struct Offsets {
  size_t picture_id = 0;  // 0 = absent (offset 0 is always the first octet)
  size_t tl0picidx = 0;
};

// A bounds-checked cursor: every read says whether the byte was there.
struct Cursor {
  ByteSpan p;
  size_t i = 0;
  bool has(size_t n) const { return n <= p.size() - i; }
  bool u8(uint8_t& out) {
    if (!has(1)) return false;
    out = p[i++];
    return true;
  }
  bool u16(uint16_t& out) {
    if (!has(2)) return false;
    out = load_be16(&p[i]);
    i += 2;
    return true;
  }
  bool skip(size_t n) {
    if (!has(n)) return false;
    i += n;
    return true;
  }
};

bool read_picture_id(Cursor& c, Vp9Descriptor& d, Offsets& off) {
  off.picture_id = c.i;
  uint8_t b = 0;
  if (!c.u8(b)) return false;
  d.has_picture_id = true;
  d.picture_id_15bit = b & kM;
  d.picture_id = b & 0x7F;
  if (!d.picture_id_15bit) return true;
  uint8_t low = 0;
  if (!c.u8(low)) return false;
  d.picture_id = uint16_t(d.picture_id << 8 | low);
  return true;
}

// |TID|U|SID|D| then, in non-flexible mode, TL0PICIDX.
bool read_layer_indices(Cursor& c, Vp9Descriptor& d, Offsets& off) {
  uint8_t b = 0;
  if (!c.u8(b)) return false;
  d.tid = uint8_t(b >> 5);
  d.switching_up = b & 0x10;
  d.sid = uint8_t((b >> 1) & 0x07);
  d.inter_layer_dependency = b & 0x01;
  if (d.flexible_mode) return true;
  off.tl0picidx = c.i;
  if (!c.u8(d.tl0picidx)) return false;
  d.has_tl0picidx = true;
  return true;
}

bool read_p_diffs(Cursor& c, Vp9Descriptor& d) {
  for (;;) {
    uint8_t b = 0;
    if (d.num_p_diffs == kMaxPdiffs || !c.u8(b)) return false;
    d.p_diff[d.num_p_diffs++] = uint8_t(b >> 1);
    if (!(b & kPdiffN)) return true;
  }
}

// Scalability structure (§4.2.1): |N_S|Y|G|-|-|-|, N_S+1 x (WIDTH, HEIGHT) when Y,
// then when G: N_G and N_G x (|TID|U|R|-|-| + R x P_DIFF).
bool read_scalability_structure(Cursor& c, Vp9Descriptor& d) {
  uint8_t b = 0;
  if (!c.u8(b)) return false;
  d.ss_spatial_layers = uint8_t((b >> 5) + 1);
  d.ss_has_resolution = b & 0x10;
  const bool has_group = b & 0x08;
  if (d.ss_has_resolution) {
    for (size_t s = 0; s < d.ss_spatial_layers && s < kMaxSpatialLayers; ++s) {
      if (!c.u16(d.ss_width[s]) || !c.u16(d.ss_height[s])) return false;
    }
  }
  if (!has_group) return true;
  if (!c.u8(d.ss_pictures_in_group)) return false;
  for (size_t g = 0; g < d.ss_pictures_in_group; ++g) {
    uint8_t entry = 0;
    if (!c.u8(entry)) return false;
    const size_t refs = (entry >> 2) & 0x03;  // R
    if (!c.skip(refs)) return false;
  }
  return true;
}

// Walks the optional fields in §4.2 order; fills `d` and the rewritable fields' offsets.
bool walk(ByteSpan p, Vp9Descriptor& d, Offsets& off) {
  Cursor c{p};
  uint8_t first = 0;
  if (!c.u8(first)) return false;
  d.inter_picture_predicted = first & kP;
  d.has_layer_indices = first & kL;
  d.flexible_mode = first & kF;
  d.beginning_of_frame = first & kB;
  d.end_of_frame = first & kE;
  d.has_scalability_structure = first & kV;
  d.not_upper_layer_reference = first & kZ;
  if ((first & kI) && !read_picture_id(c, d, off)) return false;
  if (d.has_layer_indices && !read_layer_indices(c, d, off)) return false;
  if (d.flexible_mode && d.inter_picture_predicted && !read_p_diffs(c, d)) return false;
  if (d.has_scalability_structure && !read_scalability_structure(c, d)) return false;
  d.size = c.i;
  return true;
}

}  // namespace

std::optional<Vp9Descriptor> parse_vp9(ByteSpan payload) {
  Vp9Descriptor d;
  Offsets off;
  if (!walk(payload, d, off)) return std::nullopt;
  if (d.size >= payload.size()) return std::nullopt;  // descriptor with no VP9 data
  return d;
}

bool rewrite_vp9_picture_id(uint8_t* payload, size_t len, uint16_t picture_id,
                            std::optional<uint8_t> tl0picidx) {
  if (payload == nullptr) return false;
  Vp9Descriptor d;
  Offsets off;
  if (!walk(ByteSpan(payload, len), d, off) || !d.has_picture_id) return false;
  uint8_t* pid = payload + off.picture_id;
  if (d.picture_id_15bit) {
    pid[0] = uint8_t(kM | ((picture_id >> 8) & 0x7F));
    pid[1] = uint8_t(picture_id);
  } else {
    pid[0] = uint8_t(picture_id & 0x7F);
  }
  if (d.has_tl0picidx && tl0picidx) payload[off.tl0picidx] = *tl0picidx;
  return true;
}

}  // namespace strata::codecs
