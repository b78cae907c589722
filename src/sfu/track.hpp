// What the control plane tells the data plane about tracks: negotiated from SDP, immutable
// once a session starts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codecs/codec.hpp"
#include "common/bytes.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtp_packet.hpp"

namespace strata::sfu {

enum class MediaKind { kAudio, kVideo };
inline const char* to_string(MediaKind k) { return k == MediaKind::kAudio ? "audio" : "video"; }

struct CodecParams {
  uint8_t payload_type = 0;
  std::optional<uint8_t> rtx_payload_type;
  std::string name;
  uint32_t clock_rate = 90000;
  uint8_t channels = 0;
  std::string fmtp;
  codecs::Codec codec = codecs::Codec::kUnknown;
  bool nack = false, pli = false, fir = false;
};

// One m-line of the host's offer.
struct IngestTrackInfo {
  uint32_t index = 0;
  std::string mid;
  MediaKind kind = MediaKind::kVideo;
  CodecParams codec;
  std::vector<std::string> rids;        // simulcast encodings (RFC 8853), empty if none
  std::vector<uint32_t> ssrcs;          // from a=ssrc, when signalled
  std::optional<uint32_t> rtx_ssrc;     // from a=ssrc-group:FID
  // Simulcast SSRCs learned from the first packets' rid / repaired-rid (index = layer,
  // 0 = not seen yet). Browsers stop sending rid after a while, so a relay to an edge that
  // starts later carries these instead (docs/ARCHITECTURE.md, "Cluster").
  std::vector<uint32_t> layer_ssrcs, layer_rtx_ssrcs;
  rtp::HeaderExtensionIds extensions;
};

// What the producer learned about one media packet, computed once where it arrives and
// carried with it to every consumer, so no consumer re-parses the codec payload for these.
struct PacketFacts {
  uint8_t layer = 0;         // simulcast encoding index (rids lowest quality first)
  bool keyframe = false;     // a decoder can start here (codecs::is_keyframe)
  bool frame_start = false;  // first packet of a picture
  int8_t temporal = -1;      // temporal layer id (VP8/VP9); -1 when the payload names none
  // Where the payload lies in the packet (after the header with its CSRCs and extension
  // block, before any padding), found once by the producer's parse so that a consumer,
  // once per viewer, reads the fixed header instead of parsing it again. Both 0: unknown
  // (facts made without a parse), the consumer parses.
  uint16_t payload_offset = 0;
  uint16_t payload_size = 0;
};
PacketFacts packet_facts(codecs::Codec codec, MediaKind kind, ByteSpan payload, uint8_t layer);
// The same, with the payload's place in `packet` (a valid parse of the whole packet).
PacketFacts packet_facts(codecs::Codec codec, MediaKind kind, const rtp::RtpPacket& packet, uint8_t layer);

// One m-line of a viewer's answer: what we send it for one of the host's tracks.
struct EgressTrackInfo {
  uint32_t source_track = 0;
  std::string mid;
  MediaKind kind = MediaKind::kVideo;
  CodecParams codec;      // the viewer's payload types
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // used only when codec.rtx_payload_type is set
  std::string cname;
  // Simulcast source: how many encodings the host sends (rids, lowest quality first) and
  // the highest one this viewer wants (-1: the top one).
  uint32_t source_layers = 1;
  int max_layer = -1;
  // transport-wide-cc header extension id in the viewer's SDP (0: not negotiated).
  uint8_t transport_cc_ext = 0;
};

}  // namespace strata::sfu
