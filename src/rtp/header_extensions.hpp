// Typed readers/writers for the RTP header extensions an SFU negotiates (RFC 8285 ids
// are per-session, so every call takes the negotiated id; 0 means "not negotiated").
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "rtp/rtp_packet.hpp"

namespace strata::rtp {

// Negotiated extmap ids (SDP a=extmap, RFC 8285 §5). 0 = not negotiated.
struct HeaderExtensionIds {
  uint8_t mid = 0;
  uint8_t rid = 0;
  uint8_t repaired_rid = 0;
  uint8_t abs_send_time = 0;
  uint8_t transport_cc = 0;
  uint8_t audio_level = 0;
};

namespace uri {
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";                // RFC 8843 §15.2
inline constexpr std::string_view kRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";      // RFC 8852 §4.3
inline constexpr std::string_view kRepairedRid =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";                                   // RFC 8852 §4.4
inline constexpr std::string_view kAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";  // RFC 6464
}  // namespace uri

// Maps an extmap URI to the matching field of `ids`; false for URIs we do not use.
bool assign_extension_id(HeaderExtensionIds& ids, std::string_view uri, uint8_t id);

// SDES-item style extensions carry the identifier bytes directly (RFC 8852 §4).
// The view aliases the packet buffer.
std::optional<std::string_view> read_mid(const RtpPacket& p, uint8_t id);
std::optional<std::string_view> read_rid(const RtpPacket& p, uint8_t id);
std::optional<std::string_view> read_repaired_rid(const RtpPacket& p, uint8_t id);

// abs-send-time: 24-bit 6.18 fixed-point seconds (low bits of the NTP time).
std::optional<uint32_t> read_abs_send_time(const RtpPacket& p, uint8_t id);
bool write_abs_send_time(RtpPacket& p, uint8_t id, uint32_t abs_send_time_24);
// NTP 64-bit (32.32) to abs-send-time 6.18.
inline uint32_t abs_send_time_from_ntp(uint64_t ntp) { return uint32_t(ntp >> 14) & 0xFFFFFF; }

// transport-wide-cc: 16-bit transport sequence number (draft-holmer §2).
std::optional<uint16_t> read_transport_cc_seq(const RtpPacket& p, uint8_t id);
bool write_transport_cc_seq(RtpPacket& p, uint8_t id, uint16_t seq);

// RFC 6464 §3: V bit + 7-bit level in -dBov (0 = loudest, 127 = silence).
struct AudioLevel {
  bool voice_activity = false;
  uint8_t level = 127;
};
std::optional<AudioLevel> read_audio_level(const RtpPacket& p, uint8_t id);

}  // namespace strata::rtp
