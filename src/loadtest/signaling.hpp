// The bench's side of WHIP/WHEP (RFC 9725) and Janus negotiation: SDP offers a browser
// would send (recvonly audio+video for a viewer; VP8 simulcast + Opus for a host), the
// parts of the server's answer a client transport needs, the answer a viewer gives to a
// Janus offer, and an HTTP POST that follows a broker's 307.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "transport/webrtc_transport.hpp"

namespace strata::loadtest {

// Payload types and extension ids the bench offers (the answerer echoes them, RFC 8829 §5.3.1).
inline constexpr uint8_t kVp8Pt = 96, kRtxPt = 97, kOpusPt = 111;
inline constexpr uint8_t kExtMidId = 1, kExtTwccId = 3, kExtRidId = 4, kExtRepairedRidId = 5;

struct LocalEndpoint {
  std::string ufrag, pwd;
  std::string fingerprint_sha256;  // "AB:CD:..."
  SocketAddress address;           // our host candidate
};

struct PublishLayout {
  bool simulcast = true;            // rids q, h, f on one video m-line (RFC 8853)
  uint32_t video_ssrc = 0;          // without simulcast
  uint32_t audio_ssrc = 0;
};

std::string build_view_offer(const LocalEndpoint& local);
std::string build_publish_offer(const LocalEndpoint& local, const PublishLayout& layout);

// What the bench needs from a remote description (answer from Strata, offer from Janus).
struct RemoteMedia {
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm;
  Bytes fingerprint;
  std::vector<SocketAddress> candidates;  // UDP IPv4/IPv6 host candidates
  uint8_t video_pt = 0, rtx_pt = 0, audio_pt = 0;  // 0 = not present
  uint8_t twcc_id = 0;                              // video m-line's transport-cc extmap
  uint32_t video_ssrc = 0, rtx_ssrc = 0, audio_ssrc = 0;  // from a=ssrc / FID (0 = unknown)
};
std::optional<RemoteMedia> parse_remote_description(const std::string& sdp, std::string* error);

// TransportConfig for the client side of WHIP/WHEP: ICE controlling + DTLS client.
transport::TransportConfig client_transport_config(const LocalEndpoint& local, const RemoteMedia& remote,
                                                   std::shared_ptr<const dtls::Certificate> cert);
// Janus mode: Janus offers with full ICE (controlling); we answer ICE-lite + DTLS client.
transport::TransportConfig lite_transport_config(const LocalEndpoint& local, const RemoteMedia& remote,
                                                 std::shared_ptr<const dtls::Certificate> cert);
// Our answer to a Janus streaming offer: recvonly, a=ice-lite, a=setup:active.
std::optional<std::string> build_janus_answer(const std::string& offer, const LocalEndpoint& local, std::string* error);

struct PostResult {
  int status = 0;                 // 0 = no HTTP answer (error set)
  std::string body;
  std::string session_url;        // absolute URL of Location, on 201
  std::string error;
  std::optional<int> retry_after;  // seconds (409/503)
};
// POST an SDP offer to `url`, following up to 4 redirects (307/308) with the same body.
PostResult post_sdp(const std::string& url, const std::string& sdp, Duration timeout);
void delete_session(const std::string& session_url, Duration timeout);

// "http://h:p/a/b" + "/x" → "http://h:p/x"; absolute locations are returned as they are.
std::string resolve_url(const std::string& base, const std::string& location);

}  // namespace strata::loadtest
