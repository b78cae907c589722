// SDP answer generation for an ICE-lite, BUNDLE-only, rtcp-mux-only SFU (RFC 8829 §5.3,
// RFC 8843, RFC 8839 §5 ice-lite, RFC 8842 setup, RFC 9725 WHIP / WHEP).
//   kReceive (WHIP ingest): the offer sends media; we answer recvonly, one codec (+rtx)
//                           per m-line, and accept simulcast (rids echoed as recv).
//   kSend    (WHEP egress): the offer receives media; we answer sendonly with our SSRCs,
//                           using the viewer's payload type for the producer's codec.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "sdp/codecs.hpp"
#include "sdp/session_description.hpp"

namespace strata::sdp {

enum class AnswerMode : uint8_t { kReceive, kSend };

struct Candidate {  // one of our host UDP candidates
  std::string ip;
  uint16_t port = 0;
  uint32_t priority = 0;
  std::string foundation;
};

struct SendTrack {  // a stream we forward to the viewer (kSend)
  MediaKind kind = MediaKind::kVideo;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0 = no rtx
  std::string cname, stream_id, track_id;
  Codec codec;  // what the producer publishes
};

struct AnswerOptions {
  AnswerMode mode = AnswerMode::kReceive;
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_sha256;  // "AB:CD:..." (32 bytes)
  std::vector<Candidate> candidates;
  // kSend only: assigned to offered m-lines of the same kind, in order; a track is used by
  // the first eligible m-line whose codecs can carry it.
  std::vector<SendTrack> send_tracks;
  std::string session_id;  // o= session id; empty = random
};

struct NegotiatedCodec {
  uint8_t payload_type = 0;
  std::string name;
  uint32_t clock_rate = 0;
  uint8_t channels = 0;
  std::string fmtp;
  std::optional<uint8_t> rtx_payload_type;
  bool nack = false, nack_pli = false, ccm_fir = false, goog_remb = false, transport_cc = false;
};

// RTP header extension ids agreed for one m-line (RFC 8285); 0 = not negotiated.
struct ExtensionIds {
  uint8_t mid = 0, rid = 0, repaired_rid = 0, abs_send_time = 0, transport_cc = 0, audio_level = 0;
};

struct NegotiatedMedia {
  std::string mid;
  MediaKind kind = MediaKind::kOther;
  bool rejected = false;
  std::string reject_reason;
  Direction direction = Direction::kInactive;  // ours, as written in the answer
  std::vector<NegotiatedCodec> codecs;         // [0] is the chosen primary
  ExtensionIds extensions;
  bool rtcp_rsize = false;
  std::vector<std::string> rids;       // kReceive simulcast, offer order (alternatives flattened)
  std::vector<uint32_t> remote_ssrcs;  // a=ssrc values, minus FID repair ssrcs
  std::optional<uint32_t> remote_rtx_ssrc;  // second member of the first FID group
  std::string remote_stream_id, remote_track_id;  // a=msid (or a=ssrc msid:)
  std::optional<SendTrack> send_track;
};

struct Negotiated {
  enum class Setup : uint8_t { kActive, kPassive };  // our DTLS role
  std::string remote_ufrag, remote_pwd;
  std::string remote_fingerprint_algorithm;  // "sha-256" preferred when several are offered
  Bytes remote_fingerprint;
  Setup our_setup = Setup::kPassive;
  std::vector<NegotiatedMedia> media;  // one per offered m-line, in order
};

// HTTP status choices: 400 for offers that break our transport requirements
// ("bundle-required", "rtcp-mux-required", "mid-required", "fingerprint-required",
// "ice-credentials-required", "setup-invalid"); 406 Not Acceptable for "no-common-codec"
// (nothing in the offer can be negotiated: no accepted m-line); 500 for "bad-local-config".
struct AnswerError {
  int http_status = 400;
  std::string error;   // short code
  std::string detail;  // human-readable, names the offending m-line
};

using AnswerResult = std::variant<std::pair<std::string, Negotiated>, AnswerError>;

AnswerResult create_answer(const SessionDescription& offer, const AnswerOptions& opts);

// RTP header extension URIs Strata negotiates (RFC 8285 §8 extmap).
inline constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kExtRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kExtAbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

}  // namespace strata::sdp
