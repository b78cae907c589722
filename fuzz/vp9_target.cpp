// VP9 payload descriptor fuzz body (RFC 9628 §4.2): codecs::parse_vp9, the in-place
// PictureID rewrite, the per-packet helpers, and a PictureIdRewriter fed a packet stream.
#include <algorithm>
#include <vector>

#include "codecs/codec.hpp"
#include "codecs/picture_id_rewriter.hpp"
#include "codecs/vp9.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

volatile size_t g_sink = 0;

void exercise_descriptor(const std::vector<uint8_t>& buf) {
  const ByteSpan span(buf.data(), buf.size());
  const auto d = codecs::parse_vp9(span);
  size_t sum = codecs::is_keyframe(codecs::Codec::kVp9, span) + codecs::is_frame_start(codecs::Codec::kVp9, span) +
               codecs::temporal_layer_id(codecs::Codec::kVp9, span).value_or(9);
  if (d) {
    STRATA_FUZZ_CHECK("vp9", d->size < buf.size());
    STRATA_FUZZ_CHECK("vp9", d->num_p_diffs <= 3);
    STRATA_FUZZ_CHECK("vp9", d->ss_spatial_layers <= 8);
    sum += d->picture_id + d->tid + d->sid + d->tl0picidx + d->size;
  }
  // Rewriting only touches the ids: the copy re-parses to the same layout.
  std::vector<uint8_t> copy = buf;
  const uint16_t pid = uint16_t(buf.size() * 2654435761u);
  const bool ok = codecs::rewrite_vp9_picture_id(copy.data(), copy.size(), pid, uint8_t(buf.size()));
  if (!ok) STRATA_FUZZ_CHECK("vp9", copy == buf);
  if (d) {
    STRATA_FUZZ_CHECK("vp9", ok == d->has_picture_id);
    const auto after = codecs::parse_vp9(ByteSpan(copy.data(), copy.size()));
    STRATA_FUZZ_CHECK("vp9", after.has_value());
    STRATA_FUZZ_CHECK("vp9", after->size == d->size && after->picture_id_15bit == d->picture_id_15bit);
    if (ok) STRATA_FUZZ_CHECK("vp9", after->picture_id == (pid & (d->picture_id_15bit ? 0x7fff : 0x7f)));
  }
  g_sink = g_sink + sum;
}

// The input as a stream for one consumer: [control][length][length bytes]... where
// control bit 0 = dropped (temporal layer filtered), bit 1 = first packet after a switch.
void exercise_rewriter(const uint8_t* data, size_t size) {
  codecs::PictureIdRewriter rw(codecs::Codec::kVp9);
  size_t i = 0;
  while (i + 2 <= size) {
    const uint8_t control = data[i];
    const size_t len = std::min<size_t>(data[i + 1], size - i - 2);
    std::vector<uint8_t> packet(data + i + 2, data + i + 2 + len);  // exact size for ASan
    i += 2 + len;
    if (control & 1) {
      rw.drop_picture(ByteSpan(packet.data(), packet.size()));
      continue;
    }
    const std::vector<uint8_t> before = packet;
    if (!rw.rewrite(packet.data(), packet.size(), control & 2)) STRATA_FUZZ_CHECK("vp9", packet == before);
    STRATA_FUZZ_CHECK("vp9", packet.size() == before.size());
  }
  g_sink = g_sink + rw.counters().rewritten + rw.counters().dropped_pictures;
}

}  // namespace

int vp9_one_input(const uint8_t* data, size_t size) {
  // Exact-size heap copy so ASan catches any read past the end.
  const std::vector<uint8_t> buf(data, data + size);
  exercise_descriptor(buf);
  exercise_rewriter(buf.data(), buf.size());
  return 0;
}

}  // namespace strata::fuzz
