// Which RTP codecs Strata forwards and how two descriptions of a codec are compared:
// Opus 48000/2, VP8, VP9 profile 0, AV1 profile 0, H.264 packetization-mode=1
// (RFC 6184 §8.1 profile-level-id, RFC 7741 VP8, RFC 9628 VP9, AV1 RTP spec §7.2).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sdp/session_description.hpp"

namespace strata::sdp {

struct Codec {
  std::string name;  // "opus", "VP8", "VP9", "H264", "AV1" (compared case-insensitively)
  uint32_t clock_rate = 0;
  uint8_t channels = 0;  // 0 or 1 for video
  std::string fmtp;
};

using FmtpParams = std::vector<std::pair<std::string, std::string>>;
// "a=1;b=2" -> {{"a","1"},{"b","2"}}; keys lower-cased, values trimmed; "111/111" -> {"111/111",""}.
FmtpParams parse_fmtp_params(std::string_view fmtp);
std::optional<std::string> fmtp_value(std::string_view fmtp, std::string_view key);

// H.264 profiles from profile-level-id (RFC 6184 §8.1 table 5; constrained high as libwebrtc).
enum class H264Profile : uint8_t { kConstrainedBaseline, kBaseline, kMain, kConstrainedHigh, kHigh, kOther };
// Profile from the fmtp's profile-level-id (absent = Baseline, RFC 6184 §8.1); nullopt if malformed.
std::optional<H264Profile> h264_profile(std::string_view fmtp);
// packetization-mode (absent = 0, RFC 6184 §8.1).
int h264_packetization_mode(std::string_view fmtp);

// True when Strata can forward this payload format in an m-line of `kind`.
bool is_supported_codec(MediaKind kind, const PayloadFormat& format);
// True when `offered` (a viewer's payload format) can carry the stream described by
// `ours` (what the producer publishes): same name/clock/channels and compatible fmtp.
bool codec_matches(const Codec& ours, const PayloadFormat& offered);
// codec_matches() and, for H.264, the very same profile (not just the same family).
bool codec_matches_exactly(const Codec& ours, const PayloadFormat& offered);
// Among equally acceptable payload formats of the same codec, lower is preferred
// (H.264: constrained baseline first, it is what every browser decodes).
int codec_preference(const PayloadFormat& format);

Codec codec_of(const PayloadFormat& format);
bool is_rtx(const PayloadFormat& format);
// The payload type an rtx format repairs (fmtp apt=, RFC 4588 §8.6).
std::optional<uint8_t> rtx_associated_payload(const PayloadFormat& format);

}  // namespace strata::sdp
