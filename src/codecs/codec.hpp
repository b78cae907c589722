// Video/audio codec identification and per-packet payload inspection. These functions
// look only at the RTP *payload* (the bytes after the RTP header and extensions), so they
// do not depend on the rtp module and can be tested with hand-built byte arrays.
#pragma once
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

bool is_vp8_keyframe(ByteSpan payload);
bool is_vp9_keyframe(ByteSpan payload);
bool is_h264_keyframe(ByteSpan payload);
bool is_av1_keyframe(ByteSpan payload);

}  // namespace strata::codecs
