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

PacketFacts packet_facts(codecs::Codec codec, MediaKind kind, const rtp::RtpPacket& packet, uint8_t layer) {
  PacketFacts f = packet_facts(codec, kind, packet.payload(), layer);
  // Datagrams are far below 64 KiB; a packet that is not leaves the fields unknown.
  if (packet.size() <= UINT16_MAX) {
    f.payload_offset = uint16_t(packet.header_size());
    f.payload_size = uint16_t(packet.payload_size());
  }
  return f;
}

}  // namespace strata::sfu
