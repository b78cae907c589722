#include "sfu/track.hpp"

namespace strata::sfu {

PacketFacts packet_facts(codecs::Codec codec, MediaKind kind, ByteSpan payload, uint8_t layer) {
  PacketFacts f;
  f.layer = layer;
  if (kind != MediaKind::kVideo) return f;
  f.keyframe = codecs::is_keyframe(codec, payload);
  f.frame_start = codecs::is_frame_start(codec, payload);
  if (auto tid = codecs::temporal_layer_id(codec, payload)) f.temporal = int8_t(*tid);
  return f;
}

}  // namespace strata::sfu
