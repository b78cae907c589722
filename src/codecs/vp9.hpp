// VP9 RTP payload descriptor (RFC 9628 §4.2) parsing and in-place PictureID/TL0PICIDX
// rewriting, the VP9 counterpart of vp8.hpp: an SFU that switches a viewer between
// simulcast encodings, or drops temporal layers, rewrites the picture ids so the viewer's
// decoder keeps seeing one continuous sequence (see picture_id_rewriter.hpp).
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |I|P|L|F|B|E|V|Z| (REQUIRED)
//       +-+-+-+-+-+-+-+-+
//  I:   |M| PICTURE ID  |
//  M:   | EXTENDED PID  |
//  L:   |  TID  |U| SID |D|
//       |   TL0PICIDX   |  (only when F=0, "non-flexible mode")
//  P,F: | P_DIFF      |N|  (up to 3 times, only when F=1 and P=1)
//  V:   | SS ...        |  (scalability structure, §4.2.1)
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace strata::codecs {

struct Vp9Descriptor {
  // First octet flags (RFC 9628 §4.2).
  bool has_picture_id = false;     // I
  bool inter_picture_predicted = false;  // P
  bool has_layer_indices = false;  // L
  bool flexible_mode = false;      // F
  bool beginning_of_frame = false; // B: first packet of a (layer) frame
  bool end_of_frame = false;       // E: last packet of a (layer) frame
  bool has_scalability_structure = false;  // V
  bool not_upper_layer_reference = false;  // Z: not used by higher spatial layers

  uint16_t picture_id = 0;         // 7 or 15 bits
  bool picture_id_15bit = false;   // M bit

  // Layer indices, meaningful when has_layer_indices.
  uint8_t tid = 0;                 // temporal layer id (3 bits)
  bool switching_up = false;       // U: switching up point to a higher temporal layer
  uint8_t sid = 0;                 // spatial layer id (3 bits)
  bool inter_layer_dependency = false;  // D
  bool has_tl0picidx = false;      // L=1 and F=0
  uint8_t tl0picidx = 0;

  // Reference picture id differences (flexible mode with P=1), 7 bits each.
  uint8_t num_p_diffs = 0;
  std::array<uint8_t, 3> p_diff{};

  // Scalability structure (V=1, §4.2.1), summarized; the group entries are skipped.
  uint8_t ss_spatial_layers = 0;   // N_S + 1 (0 when V=0)
  bool ss_has_resolution = false;  // Y
  std::array<uint16_t, 8> ss_width{};
  std::array<uint16_t, 8> ss_height{};
  uint8_t ss_pictures_in_group = 0;  // N_G (0 when G=0)

  size_t size = 0;  // descriptor length in bytes; the VP9 payload starts here
};

// Parses the descriptor at the start of an RTP payload. Returns nullopt when the payload
// is too short for the fields its flags announce, announces more than 3 P_DIFFs, or holds
// no VP9 data after the descriptor. Never reads outside `payload`.
std::optional<Vp9Descriptor> parse_vp9(ByteSpan payload);

// Overwrites PictureID (keeping the descriptor's 7/15-bit width: the value is truncated to
// that width) and, when both the packet carries TL0PICIDX and `tl0picidx` is given,
// TL0PICIDX, in place. Returns false (writing nothing) when the descriptor does not parse
// or carries no PictureID. Unlike parse_vp9, a descriptor with no data after it is fine.
bool rewrite_vp9_picture_id(uint8_t* payload, size_t len, uint16_t picture_id,
                            std::optional<uint8_t> tl0picidx);

}  // namespace strata::codecs
