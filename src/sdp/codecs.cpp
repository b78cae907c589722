#include "sdp/codecs.hpp"

#include <algorithm>

#include "sdp/text.hpp"

namespace strata::sdp {

using text::iequals;

FmtpParams parse_fmtp_params(std::string_view fmtp) {
  FmtpParams out;
  for (std::string_view item : text::split(fmtp, ';')) {
    item = text::trim(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = text::to_lower(text::trim(item.substr(0, eq)));
    std::string value = eq == std::string_view::npos ? std::string() : std::string(text::trim(item.substr(eq + 1)));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::optional<std::string> fmtp_value(std::string_view fmtp, std::string_view key) {
  for (auto& [k, v] : parse_fmtp_params(fmtp))
    if (iequals(k, key)) return v;
  return std::nullopt;
}

std::optional<H264Profile> h264_profile(std::string_view fmtp) {
  auto id = fmtp_value(fmtp, "profile-level-id");
  if (!id) return H264Profile::kBaseline;
  Bytes b = id->size() == 6 ? from_hex(*id) : Bytes{};
  if (b.size() != 3) return std::nullopt;
  uint8_t idc = b[0], iop = b[1];
  switch (idc) {
    case 0x42: return (iop & 0x40) ? H264Profile::kConstrainedBaseline : H264Profile::kBaseline;
    case 0x4D: return (iop & 0x80) ? H264Profile::kConstrainedBaseline : H264Profile::kMain;
    case 0x58:
      if ((iop & 0xC0) == 0xC0) return H264Profile::kConstrainedBaseline;
      return (iop & 0x80) ? H264Profile::kBaseline : H264Profile::kOther;  // else Extended
    case 0x64: return (iop & 0x0C) == 0x0C ? H264Profile::kConstrainedHigh : H264Profile::kHigh;
    default: return H264Profile::kOther;
  }
}

int h264_packetization_mode(std::string_view fmtp) {
  auto mode = fmtp_value(fmtp, "packetization-mode");
  if (!mode) return 0;
  auto v = text::parse_uint<uint8_t>(*mode);
  return v ? *v : -1;
}

namespace {

// VP9 profile-id / AV1 profile; both default to 0 when absent.
int numeric_param(std::string_view fmtp, std::string_view key) {
  auto v = fmtp_value(fmtp, key);
  if (!v) return 0;
  auto n = text::parse_uint<uint8_t>(*v);
  return n ? *n : -1;
}

// Baseline and constrained baseline are treated as one family: WebRTC encoders only
// produce constrained baseline streams, and browsers offer both ids for the same decoder.
int h264_family(H264Profile p) {
  return p == H264Profile::kBaseline ? int(H264Profile::kConstrainedBaseline) : int(p);
}

bool h264_acceptable(std::string_view fmtp) {
  auto profile = h264_profile(fmtp);
  return h264_packetization_mode(fmtp) == 1 && profile && *profile != H264Profile::kOther;
}

}  // namespace

bool is_rtx(const PayloadFormat& format) { return iequals(format.name, "rtx"); }

std::optional<uint8_t> rtx_associated_payload(const PayloadFormat& format) {
  auto apt = fmtp_value(format.fmtp, "apt");
  if (!apt) return std::nullopt;
  return text::parse_uint<uint8_t>(*apt);
}

bool is_supported_codec(MediaKind kind, const PayloadFormat& f) {
  if (kind == MediaKind::kAudio)
    return iequals(f.name, "opus") && f.clock_rate == 48000 && f.channels == 2;
  if (kind != MediaKind::kVideo || f.clock_rate != 90000) return false;
  if (iequals(f.name, "VP8")) return true;
  if (iequals(f.name, "VP9")) return numeric_param(f.fmtp, "profile-id") == 0;
  if (iequals(f.name, "AV1")) return numeric_param(f.fmtp, "profile") == 0;
  if (iequals(f.name, "H264")) return h264_acceptable(f.fmtp);
  return false;
}

bool codec_matches(const Codec& ours, const PayloadFormat& offered) {
  if (!iequals(ours.name, offered.name) || ours.clock_rate != offered.clock_rate) return false;
  if (std::max<uint8_t>(ours.channels, 1) != std::max<uint8_t>(offered.channels, 1)) return false;
  if (iequals(ours.name, "VP9"))
    return numeric_param(ours.fmtp, "profile-id") == numeric_param(offered.fmtp, "profile-id");
  if (iequals(ours.name, "AV1"))
    return numeric_param(ours.fmtp, "profile") == numeric_param(offered.fmtp, "profile");
  if (iequals(ours.name, "H264")) {
    if (!h264_acceptable(offered.fmtp)) return false;
    auto mine = h264_profile(ours.fmtp);
    auto theirs = h264_profile(offered.fmtp);
    return mine && theirs && h264_family(*mine) == h264_family(*theirs);
  }
  return true;
}

bool codec_matches_exactly(const Codec& ours, const PayloadFormat& offered) {
  if (!codec_matches(ours, offered)) return false;
  return !iequals(ours.name, "H264") || h264_profile(ours.fmtp) == h264_profile(offered.fmtp);
}

int codec_preference(const PayloadFormat& format) {
  if (!iequals(format.name, "H264")) return 0;
  auto profile = h264_profile(format.fmtp);
  return profile == H264Profile::kConstrainedBaseline ? 0 : 1;
}

Codec codec_of(const PayloadFormat& format) {
  return Codec{format.name, format.clock_rate, format.channels, format.fmtp};
}

}  // namespace strata::sdp
