// In-memory model of an SDP session description (RFC 8866) with the WebRTC attributes
// Strata needs (RFC 8829 JSEP, RFC 8843 BUNDLE, RFC 8839 ICE, RFC 8122 fingerprints,
// RFC 8285 extmap, RFC 8851 rid, RFC 8853 simulcast, RFC 5576 ssrc, RFC 8830 msid),
// plus parse() and serialize(). Unknown attributes are kept verbatim in `attributes`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/bytes.hpp"

namespace strata::sdp {

enum class MediaKind : uint8_t { kAudio, kVideo, kApplication, kOther };
enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
// a=setup roles (RFC 4145 §4, RFC 8842 §5).
enum class SetupRole : uint8_t { kActPass, kActive, kPassive, kHoldConn };

std::string_view to_string(MediaKind kind);
std::string_view to_string(Direction direction);
std::string_view to_string(SetupRole role);

struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
};

struct Group {  // a=group:<semantics> <mid>... (RFC 5888)
  std::string semantics;
  std::vector<std::string> mids;
};

struct Fingerprint {  // a=fingerprint:<hash-func> <hex:hex:...> (RFC 8122 §5)
  std::string algorithm;  // lower case, e.g. "sha-256"
  Bytes value;
};

struct RtcpFeedback {  // a=rtcp-fb:<pt> <type> [<parameter>] (RFC 4585 §4.2)
  std::string type;       // "nack", "ccm", "goog-remb", "transport-cc"
  std::string parameter;  // "", "pli", "fir"
};

// One payload type of an RTP m-line, with its rtpmap/fmtp/rtcp-fb lines merged in.
struct PayloadFormat {
  uint8_t payload_type = 0;
  std::string name;  // as written ("opus", "OPUS", "H264", "rtx")
  uint32_t clock_rate = 0;
  uint8_t channels = 0;  // 0 = not given
  std::string fmtp;      // raw parameter string
  std::vector<RtcpFeedback> feedback;
  bool has_rtpmap = false;
};

struct ExtMap {  // a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §8)
  uint8_t id = 0;
  std::optional<Direction> direction;
  std::string uri;
  std::string attributes;
};

struct SsrcAttributes {  // a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1)
  uint32_t ssrc = 0;
  std::string cname;
  std::string msid;  // "<stream> <track>" as written
  std::vector<std::pair<std::string, std::string>> other;
};

struct SsrcGroup {  // a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2), FID/SIM/FEC-FR
  std::string semantics;
  std::vector<uint32_t> ssrcs;
};

enum class RidDirection : uint8_t { kSend, kRecv };

struct Rid {  // a=rid:<id> <send|recv> [<params>] (RFC 8851 §10)
  std::string id;
  RidDirection direction = RidDirection::kSend;
  std::string params;                  // raw, e.g. "pt=96,97;max-width=1280"
  std::vector<uint8_t> payload_types;  // from pt=
};

struct SimulcastRid {
  std::string rid;
  bool paused = false;  // "~" prefix (RFC 8853 §5.1)
};
using SimulcastStream = std::vector<SimulcastRid>;  // comma-separated alternatives

struct Simulcast {  // a=simulcast:send <streams> recv <streams> (RFC 8853 §5.1)
  std::vector<SimulcastStream> send;
  std::vector<SimulcastStream> recv;
};

struct Msid {  // a=msid:<stream id> [<track id>] (RFC 8830 §2)
  std::string stream_id;
  std::string track_id;
};

struct IceCandidate {  // a=candidate: (RFC 8839 §5.1)
  std::string foundation;
  uint16_t component = 1;
  std::string transport;  // "udp", "tcp" (as written)
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  std::string type;        // "host", "srflx", ...
  std::string extensions;  // everything after the type, raw
};

struct Attribute {  // an attribute this model has no field for, kept verbatim
  std::string name;
  std::string value;
  bool has_value = false;
};

// Attributes that may appear at session or media level; media level wins (RFC 8839 §5.4,
// RFC 8122 §5).
struct TransportParams {
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::optional<SetupRole> setup;
};

struct MediaDescription {
  MediaKind kind = MediaKind::kOther;
  std::string media;  // "audio", "video", "application", ... as written
  uint16_t port = 0;
  uint16_t port_count = 0;  // 0 = no "/<n>" given
  std::string proto;
  std::vector<std::string> formats;
  std::string connection;  // c= value without "c="
  std::string mid;
  Direction direction = Direction::kSendRecv;  // RFC 8866 §6.7: default sendrecv
  bool rtcp_mux = false;
  bool rtcp_mux_only = false;
  bool rtcp_rsize = false;
  bool bundle_only = false;
  bool end_of_candidates = false;
  TransportParams transport;
  std::vector<PayloadFormat> payloads;       // numeric formats, m-line order
  std::vector<RtcpFeedback> feedback_all;    // a=rtcp-fb:* ...
  std::vector<ExtMap> extmaps;
  std::vector<SsrcAttributes> ssrcs;         // order of first appearance
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;
  std::vector<Msid> msids;
  std::vector<IceCandidate> candidates;
  std::optional<uint16_t> sctp_port;
  std::vector<Attribute> attributes;

  const PayloadFormat* find_payload(uint8_t payload_type) const;
  PayloadFormat* find_payload(uint8_t payload_type);
  const SsrcAttributes* find_ssrc(uint32_t ssrc) const;
  const ExtMap* find_extmap(std::string_view uri) const;
  bool is_rtp() const { return kind == MediaKind::kAudio || kind == MediaKind::kVideo; }
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::string timing = "0 0";
  std::string connection;
  std::vector<Group> groups;
  bool ice_lite = false;
  bool extmap_allow_mixed = false;
  std::string msid_semantic;  // value as written, trimmed ("WMS *")
  TransportParams transport;
  std::vector<ExtMap> extmaps;  // session-level extmaps (RFC 8285 §5)
  std::vector<Attribute> attributes;
  std::vector<MediaDescription> media;

  const Group* find_group(std::string_view semantics) const;  // case-insensitive
  const MediaDescription* find_media(std::string_view mid) const;
};

struct ParseError {
  std::string detail;
};

// Parses an SDP blob. Accepts \n or \r\n line ends and blank lines; unknown lines and
// attributes are kept or ignored. Structurally bad input (missing v=0, a line that is not
// "<letter>=", a malformed m=/o=/rtpmap/extmap/ssrc/candidate/...) gives a ParseError whose
// detail names the line. Never throws on bad input; never reads out of bounds.
std::variant<SessionDescription, ParseError> parse(std::string_view text);

// Writes the description back as SDP with \r\n line ends (fields in JSEP order).
std::string serialize(const SessionDescription& sdp);

}  // namespace strata::sdp
