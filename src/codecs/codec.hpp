// Video/audio codec identification and per-packet payload inspection. These functions
// look only at the RTP *payload* (the bytes after the RTP header and extensions), so they
// do not depend on the rtp module and can be tested with hand-built byte arrays.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"

namespace strata::codecs {

enum class Codec { kOpus, kVp8, kVp9, kH264, kAv1, kUnknown };

// Maps an SDP rtpmap encoding name ("opus", "VP8", "h264", "AV1", ...) to a Codec,
// case-insensitively (RFC 8866 §6.6: encoding names are case-insensitive).
Codec codec_from_name(std::string_view name);
std::string_view codec_name(Codec codec);
bool is_video(Codec codec);

// True when this packet is the first packet of a keyframe (a point where a decoder can
// start), so that an SFU can switch a viewer onto this stream. Never reads out of bounds:
// truncated or garbage payloads return false.
//   VP8  : RFC 7741 §4.2/§4.3 (S=1, PID=0, payload header P bit == 0)
//   VP9  : RFC 9628 §4.2 (B=1, P=0, spatial layer 0 or no layer indices)
//   H.264: RFC 6184 §5.6-5.8 (IDR or SPS NAL, alone, in a STAP-A or starting a FU-A)
//   AV1  : AV1 RTP spec §4.4 (aggregation header N bit: new coded video sequence)
//   Opus : always false: every audio packet is independently decodable enough that
//          audio never needs a keyframe request or a switching point.
bool is_keyframe(Codec codec, ByteSpan payload);

// Temporal layer id (TID) of this packet's frame, read from the payload descriptor, so an
// SFU can drop higher temporal layers (e.g. L1T3 -> forward only TID 0..1):
//   VP8  : the TID field when the T bit is set (RFC 7741 §4.2)
//   VP9  : the TID field when the L bit is set (RFC 9628 §4.2)
//   H.264, AV1: nullopt. Their temporal ids live outside the payload Strata reads (the
//          H.264 SVC NAL header extension / the AV1 Dependency Descriptor RTP header
//          extension), so those streams are treated as a single temporal layer.
//   Opus, unknown codecs, and packets that do not parse: nullopt.
std::optional<uint8_t> temporal_layer_id(Codec codec, ByteSpan payload);

// True when this packet starts a new frame (the first packet of the frame's data):
//   VP8  : S=1 and PID=0 (RFC 7741 §4.2)
//   VP9  : B=1 (RFC 9628 §4.2). With spatial layers, every layer frame of a picture
//          starts with B=1, so this is "start of a layer frame".
//   H.264: a single NAL unit packet (types 1-23), a STAP-A, or a FU-A whose FU header has
//          S=1 (RFC 6184 §5.6-5.8). A frame made of several slices starts several NAL
//          units; this is "starts a NAL unit", which equals a frame start for the common
//          one-slice-per-frame WebRTC encoders. STAP-B/MTAP/FU-B (not used by WebRTC): false.
//   AV1  : Z=0 in the aggregation header (AV1 RTP spec §4.4): the first OBU element is
//          not the continuation of an OBU fragment from the previous packet. Frame
//          boundaries proper are only visible in the OBUs or the Dependency Descriptor;
//          this is "starts at an OBU boundary".
//   Opus : true for any non-empty payload (each packet carries whole frames).
// Truncated or garbage payloads return false.
bool is_frame_start(Codec codec, ByteSpan payload);

bool is_vp8_keyframe(ByteSpan payload);
bool is_vp9_keyframe(ByteSpan payload);
bool is_h264_keyframe(ByteSpan payload);
bool is_av1_keyframe(ByteSpan payload);

}  // namespace strata::codecs
