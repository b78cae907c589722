// Per-viewer rewriting of VP8/VP9 PictureID and TL0PICIDX, so the viewer's decoder sees
// one continuous picture sequence although the SFU
//   - switches the viewer between simulcast encodings (each has its own PictureID and
//     TL0PICIDX counters, RFC 7741 §4.2 / RFC 9628 §4.2), and
//   - drops higher temporal layers (a receiver that sees a PictureID gap waits for the
//     missing picture, e.g. libwebrtc's frame buffer, so dropped pictures must not leave
//     holes).
// RTP sequence numbers and timestamps are rewritten elsewhere (rtp/sfu); this only touches
// the payload descriptor, in place, without changing its size.
//
// Rules:
//   output = input + offset. The offset is reset at a switch so the new encoding's first
//   picture gets (last output PictureID + 1), and TL0PICIDX (last output TL0PICIDX + 1);
//   it decreases by one for every wholly dropped picture newer than every forwarded one.
//   Arithmetic is modulo 2^15 and each packet is written with its own descriptor's width
//   (the M bit is never changed, as that would resize the descriptor): a 7-bit stream
//   thus gets the low 7 bits, which continue modulo 2^7 since 2^7 divides 2^15. Browsers
//   send 15-bit ids on every simulcast encoding, so the widths agree in practice.
//   Input ids are unwrapped to 64 bits (against the newest input, within half the id
//   space) and a history of the last kHistorySize pictures maps each input picture to its
//   offset, so every packet of one picture gets the same output, and a late (reordered)
//   packet gets the id it would have had in order. A late drop cannot close a gap that is
//   already on the wire (a newer picture was forwarded), so it shifts nothing.
//
// Other codecs: rewrite() succeeds without touching the payload. H.264 has no picture id
// in the payload; AV1's frame numbers live in the Dependency Descriptor RTP header
// extension, which Strata does not forward (the AV1 aggregation header has no picture id),
// so AV1 needs no payload rewriting either.
//
// Sans-IO, no allocation: fixed-size history, O(kHistorySize) work per packet at most.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "codecs/codec.hpp"

namespace strata::codecs {

class PictureIdRewriter {
 public:
  static constexpr size_t kHistorySize = 64;

  struct Counters {
    uint64_t rewritten = 0;         // packets whose PictureID was rewritten
    uint64_t passed_through = 0;    // other codecs, or VP8/VP9 packets without PictureID
    uint64_t malformed = 0;         // VP8/VP9 descriptor did not parse: rewrite() false
    uint64_t too_old = 0;           // older than the history / the switch: rewrite() false
    uint64_t dropped_pictures = 0;  // distinct pictures passed to drop_picture
    uint64_t switches = 0;          // switched_source packets that reset the offsets
  };

  explicit PictureIdRewriter(Codec codec);

  // Rewrites the viewer's copy of a forwarded packet's payload in place. Call for every
  // forwarded packet, in forwarding order. `switched_source` marks the first packet of a
  // keyframe of a different encoding (if that packet has no PictureID, the next one that
  // has does the switch). Returns false when the packet should not be sent: its VP8/VP9
  // descriptor is malformed (nothing written), or it belongs to a picture older than every
  // picture in the history, including pictures of the new encoding from before the switch
  // keyframe. Returns true (payload untouched) for other codecs and packets without
  // PictureID.
  bool rewrite(uint8_t* payload, size_t len, bool switched_source);

  // The consumer did not forward this packet because its temporal layer is filtered out.
  // Call for every such packet; each picture is counted once, and a picture of which some
  // packets were already forwarded is left alone (so spatial-layer drops are harmless).
  void drop_picture(ByteSpan payload);

  const Counters& counters() const { return counters_; }

 private:
  struct InputIds {
    bool has_picture_id = false;
    uint16_t picture_id = 0;
    int bits = 15;  // 7 or 15
    std::optional<uint8_t> tl0picidx;
  };
  struct Entry {
    int64_t input = 0;   // unwrapped input PictureID
    int64_t offset = 0;  // output = input + offset, had it been (or when) forwarded
    bool dropped = false;
  };

  std::optional<InputIds> read_ids(ByteSpan payload) const;
  void start_new_source(const InputIds& ids);
  int64_t unwrap(uint16_t picture_id, int bits);
  Entry* find(int64_t input);
  const Entry* nearest_before(int64_t input) const;
  std::optional<int64_t> offset_for_new(int64_t input) const;
  void insert(int64_t input, int64_t offset, bool dropped);
  std::optional<uint8_t> output_tl0(const InputIds& ids);
  bool write(uint8_t* payload, size_t len, uint16_t picture_id, std::optional<uint8_t> tl0) const;

  Codec codec_;
  Counters counters_;

  // Current source (reset by a switch).
  bool have_input_ = false;
  int64_t newest_input_ = 0;  // forwarded or dropped
  bool have_forwarded_ = false;
  int64_t newest_forwarded_ = 0;
  int64_t offset_ = 0;  // for pictures newer than newest_input_
  bool tl0_needs_base_ = true;
  uint8_t tl0_offset_ = 0;
  bool pending_switch_ = false;
  std::array<Entry, kHistorySize> history_{};
  size_t history_count_ = 0;
  size_t history_next_ = 0;

  // What the viewer last saw, across sources.
  bool have_last_out_ = false;
  uint16_t last_out_picture_id_ = 0;  // 15-bit
  bool have_last_out_tl0_ = false;
  uint8_t last_out_tl0_ = 0;
};

}  // namespace strata::codecs
