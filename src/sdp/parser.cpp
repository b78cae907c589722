// SDP parser (RFC 8866 §5 grammar, attributes from the RFCs cited in the header).
// Strategy: split into lines, dispatch on the type letter, and for a= lines on the
// attribute name. Known attributes are parsed strictly (a malformed rtpmap is an error,
// not silently dropped: a wrong payload type mapping would break media later); unknown
// ones are stored verbatim.
#include <string>

#include "sdp/session_description.hpp"
#include "sdp/text.hpp"

namespace strata::sdp {
namespace {

using text::iequals;
using text::parse_uint;
using text::split;
using text::split_words;
using text::trim;

// Error message or nullptr. Attribute parsers return this so the caller adds the line.
using Err = const char*;

// The tail of `value` starting at `word`, which must be a view into `value`.
std::string_view rest_from(std::string_view value, std::string_view word) {
  return trim(value.substr(size_t(word.data() - value.data())));
}

std::optional<Direction> direction_from(std::string_view s) {
  if (s == "sendrecv") return Direction::kSendRecv;
  if (s == "sendonly") return Direction::kSendOnly;
  if (s == "recvonly") return Direction::kRecvOnly;
  if (s == "inactive") return Direction::kInactive;
  return std::nullopt;
}

MediaKind kind_from(std::string_view media) {
  if (media == "audio") return MediaKind::kAudio;
  if (media == "video") return MediaKind::kVideo;
  if (media == "application") return MediaKind::kApplication;
  return MediaKind::kOther;
}

// Static payload types that browsers offer without a=rtpmap (RFC 3551 §6).
void fill_static_payload(PayloadFormat& p) {
  struct Static { uint8_t pt; const char* name; uint32_t clock; };
  static constexpr Static kTable[] = {{0, "PCMU", 8000}, {8, "PCMA", 8000}, {9, "G722", 8000},
                                      {13, "CN", 8000}};
  for (const Static& s : kTable) {
    if (s.pt == p.payload_type) {
      p.name = s.name;
      p.clock_rate = s.clock;
      p.channels = 1;
    }
  }
}

Err parse_origin(std::string_view value, Origin& o) {
  auto w = split_words(value);
  if (w.size() != 6) return "o= needs 6 fields";
  o = Origin{std::string(w[0]), std::string(w[1]), std::string(w[2]),
             std::string(w[3]), std::string(w[4]), std::string(w[5])};
  return nullptr;
}

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 §5.14)
Err parse_media_line(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() < 4) return "m= needs media, port, proto and at least one format";
  m.media = std::string(w[0]);
  m.kind = kind_from(w[0]);
  auto port_parts = split(w[1], '/');
  auto port = parse_uint<uint16_t>(port_parts[0]);
  if (!port || port_parts.size() > 2) return "m= port is not a number in 0..65535";
  m.port = *port;
  if (port_parts.size() == 2) {
    auto count = parse_uint<uint16_t>(port_parts[1]);
    if (!count) return "m= port count is not a number";
    m.port_count = *count;
  }
  m.proto = std::string(w[2]);
  bool rtp = m.proto.find("RTP") != std::string::npos;
  for (size_t i = 3; i < w.size(); ++i) {
    m.formats.emplace_back(w[i]);
    if (!rtp) continue;
    auto pt = parse_uint<uint8_t>(w[i]);
    if (!pt || *pt > 127) return "m= RTP format is not a payload type 0..127";
    if (m.find_payload(*pt)) continue;  // duplicate format, keep the first
    PayloadFormat p;
    p.payload_type = *pt;
    fill_static_payload(p);
    m.payloads.push_back(std::move(p));
  }
  return nullptr;
}

// a=rtpmap:<pt> <name>/<clock rate>[/<channels>] (RFC 8866 §6.6)
Err parse_rtpmap(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() != 2) return "malformed a=rtpmap";
  auto pt = parse_uint<uint8_t>(w[0]);
  auto enc = split(w[1], '/');
  if (!pt || enc.size() < 2 || enc.size() > 3 || enc[0].empty()) return "malformed a=rtpmap";
  auto clock = parse_uint<uint32_t>(enc[1]);
  if (!clock) return "a=rtpmap clock rate is not a number";
  std::optional<uint8_t> channels = uint8_t(0);
  if (enc.size() == 3) channels = parse_uint<uint8_t>(enc[2]);
  if (!channels) return "a=rtpmap channel count is not a number";
  PayloadFormat* p = m.find_payload(*pt);
  if (!p) return nullptr;  // describes a payload type the m-line does not list: ignore
  p->name = std::string(enc[0]);
  p->clock_rate = *clock;
  p->channels = *channels;
  p->has_rtpmap = true;
  return nullptr;
}

// a=fmtp:<pt> <parameters> (RFC 8866 §6.15)
Err parse_fmtp(std::string_view value, MediaDescription& m) {
  size_t sp = value.find_first_of(" \t");
  auto pt = parse_uint<uint8_t>(value.substr(0, sp));
  if (!pt) return "malformed a=fmtp";
  if (PayloadFormat* p = m.find_payload(*pt))
    p->fmtp = sp == std::string_view::npos ? std::string() : std::string(trim(value.substr(sp)));
  return nullptr;
}

// a=rtcp-fb:<pt|*> <type> [<parameters>] (RFC 4585 §4.2)
Err parse_rtcp_fb(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() < 2) return "malformed a=rtcp-fb";
  RtcpFeedback fb{std::string(w[1]), {}};
  if (w.size() > 2) {
    fb.parameter = std::string(rest_from(value, w[2]));
  }
  if (w[0] == "*") {
    m.feedback_all.push_back(std::move(fb));
    return nullptr;
  }
  auto pt = parse_uint<uint8_t>(w[0]);
  if (!pt) return "a=rtcp-fb payload type is not a number";
  if (PayloadFormat* p = m.find_payload(*pt)) p->feedback.push_back(std::move(fb));
  return nullptr;
}

// a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §8)
Err parse_extmap(std::string_view value, std::vector<ExtMap>& out) {
  auto w = split_words(value);
  if (w.size() < 2) return "malformed a=extmap";
  auto id_parts = split(w[0], '/');
  auto id = parse_uint<uint8_t>(id_parts[0]);
  if (!id || *id == 0 || id_parts.size() > 2) return "a=extmap id must be 1..255";
  ExtMap e;
  e.id = *id;
  if (id_parts.size() == 2) {
    e.direction = direction_from(id_parts[1]);
    if (!e.direction) return "a=extmap direction is not sendrecv/sendonly/recvonly/inactive";
  }
  e.uri = std::string(w[1]);
  if (w.size() > 2) e.attributes = std::string(rest_from(value, w[2]));
  out.push_back(std::move(e));
  return nullptr;
}

// a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1)
Err parse_ssrc(std::string_view value, MediaDescription& m) {
  size_t sp = value.find_first_of(" \t");
  auto ssrc = parse_uint<uint32_t>(value.substr(0, sp));
  if (!ssrc || sp == std::string_view::npos) return "malformed a=ssrc";
  std::string_view rest = trim(value.substr(sp));
  size_t colon = rest.find(':');
  std::string_view name = rest.substr(0, colon);
  std::string_view attr_value = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  if (name.empty()) return "a=ssrc without attribute";
  SsrcAttributes* entry = nullptr;
  for (auto& s : m.ssrcs)
    if (s.ssrc == *ssrc) entry = &s;
  if (!entry) {
    m.ssrcs.push_back(SsrcAttributes{*ssrc, {}, {}, {}});
    entry = &m.ssrcs.back();
  }
  if (name == "cname") {
    entry->cname = std::string(attr_value);
  } else if (name == "msid") {
    entry->msid = std::string(trim(attr_value));
  } else {
    entry->other.emplace_back(std::string(name), std::string(attr_value));
  }
  return nullptr;
}

// a=ssrc-group:<semantics> <ssrc> ... (RFC 5576 §4.2)
Err parse_ssrc_group(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() < 2) return "a=ssrc-group needs semantics and at least one ssrc";
  SsrcGroup g{std::string(w[0]), {}};
  for (size_t i = 1; i < w.size(); ++i) {
    auto ssrc = parse_uint<uint32_t>(w[i]);
    if (!ssrc) return "a=ssrc-group member is not a 32-bit number";
    g.ssrcs.push_back(*ssrc);
  }
  m.ssrc_groups.push_back(std::move(g));
  return nullptr;
}

// a=rid:<id> <send|recv> [pt=<fmt-list>;<restriction>=<value>...] (RFC 8851 §10)
Err parse_rid(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() < 2) return "a=rid needs an id and a direction";
  Rid rid;
  rid.id = std::string(w[0]);
  if (w[1] == "send") {
    rid.direction = RidDirection::kSend;
  } else if (w[1] == "recv") {
    rid.direction = RidDirection::kRecv;
  } else {
    return "a=rid direction must be send or recv";
  }
  if (w.size() > 2) rid.params = std::string(rest_from(value, w[2]));
  for (std::string_view param : split(rid.params, ';')) {
    param = trim(param);
    if (param.substr(0, 3) != "pt=") continue;
    for (std::string_view pt : split(param.substr(3), ',')) {
      auto v = parse_uint<uint8_t>(trim(pt));
      if (!v) return "a=rid pt= list has a bad payload type";
      rid.payload_types.push_back(*v);
    }
  }
  m.rids.push_back(std::move(rid));
  return nullptr;
}

Err parse_simulcast_streams(std::string_view list, std::vector<SimulcastStream>& out) {
  if (list.substr(0, 4) == "rid=") list.remove_prefix(4);  // old draft-ietf-mmusic-sdp-simulcast
  for (std::string_view stream : split(list, ';')) {
    SimulcastStream alternatives;
    for (std::string_view alt : split(stream, ',')) {
      SimulcastRid r;
      if (!alt.empty() && alt.front() == '~') {
        r.paused = true;
        alt.remove_prefix(1);
      }
      if (alt.empty()) return "a=simulcast has an empty rid";
      r.rid = std::string(alt);
      alternatives.push_back(std::move(r));
    }
    out.push_back(std::move(alternatives));
  }
  return nullptr;
}

// a=simulcast:<send|recv> <streams> [<send|recv> <streams>] (RFC 8853 §5.1)
Err parse_simulcast(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.empty() || w.size() % 2 != 0 || w.size() > 4) return "malformed a=simulcast";
  Simulcast sc;
  for (size_t i = 0; i < w.size(); i += 2) {
    std::vector<SimulcastStream>* target = nullptr;
    if (w[i] == "send") target = &sc.send;
    if (w[i] == "recv") target = &sc.recv;
    if (!target || !target->empty()) return "a=simulcast direction must be send or recv, once each";
    if (Err e = parse_simulcast_streams(w[i + 1], *target)) return e;
  }
  m.simulcast = std::move(sc);
  return nullptr;
}

// a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
// (RFC 8839 §5.1)
Err parse_candidate(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.size() < 8 || w[6] != "typ") return "malformed a=candidate";
  IceCandidate c;
  c.foundation = std::string(w[0]);
  auto component = parse_uint<uint16_t>(w[1]);
  auto priority = parse_uint<uint32_t>(w[3]);
  auto port = parse_uint<uint16_t>(w[5]);
  if (!component || !priority || !port) return "a=candidate has a bad component/priority/port";
  c.component = *component;
  c.transport = std::string(w[2]);
  c.priority = *priority;
  c.address = std::string(w[4]);
  c.port = *port;
  c.type = std::string(w[7]);
  if (w.size() > 8) c.extensions = std::string(rest_from(value, w[8]));
  m.candidates.push_back(std::move(c));
  return nullptr;
}

// a=fingerprint:<hash-func> <XX:XX:...> (RFC 8122 §5)
Err parse_fingerprint(std::string_view value, TransportParams& t) {
  auto w = split_words(value);
  if (w.size() != 2) return "malformed a=fingerprint";
  Fingerprint fp;
  fp.algorithm = text::to_lower(w[0]);
  for (std::string_view byte : split(w[1], ':')) {
    Bytes b = byte.size() == 2 ? from_hex(byte) : Bytes{};
    if (b.size() != 1) return "a=fingerprint value must be colon-separated hex bytes";
    fp.value.push_back(b[0]);
  }
  t.fingerprints.push_back(std::move(fp));
  return nullptr;
}

Err parse_setup(std::string_view value, TransportParams& t) {
  if (value == "actpass") t.setup = SetupRole::kActPass;
  else if (value == "active") t.setup = SetupRole::kActive;
  else if (value == "passive") t.setup = SetupRole::kPassive;
  else if (value == "holdconn") t.setup = SetupRole::kHoldConn;
  else return "a=setup must be actpass, active, passive or holdconn";
  return nullptr;
}

// Attributes valid at both levels. Sets `handled` when the name was one of them.
Err parse_transport_attribute(std::string_view name, std::string_view value, TransportParams& t,
                              bool& handled) {
  handled = true;
  if (name == "ice-ufrag") {
    if (value.empty()) return "empty a=ice-ufrag";
    t.ice_ufrag = std::string(value);
  } else if (name == "ice-pwd") {
    if (value.empty()) return "empty a=ice-pwd";
    t.ice_pwd = std::string(value);
  } else if (name == "ice-options") {
    for (auto opt : split_words(value)) t.ice_options.emplace_back(opt);
  } else if (name == "fingerprint") {
    return parse_fingerprint(value, t);
  } else if (name == "setup") {
    return parse_setup(value, t);
  } else {
    handled = false;
  }
  return nullptr;
}

Err parse_msid(std::string_view value, MediaDescription& m) {
  auto w = split_words(value);
  if (w.empty() || w.size() > 2) return "malformed a=msid";
  m.msids.push_back(Msid{std::string(w[0]), w.size() == 2 ? std::string(w[1]) : std::string()});
  return nullptr;
}

// Flag attributes of an m-section. Returns true when `name` was one.
bool parse_media_flag(std::string_view name, MediaDescription& m) {
  if (auto dir = direction_from(name)) m.direction = *dir;
  else if (name == "rtcp-mux") m.rtcp_mux = true;
  else if (name == "rtcp-mux-only") m.rtcp_mux_only = true;
  else if (name == "rtcp-rsize") m.rtcp_rsize = true;
  else if (name == "bundle-only") m.bundle_only = true;
  else if (name == "end-of-candidates") m.end_of_candidates = true;
  else return false;
  return true;
}

Err parse_media_attribute(std::string_view name, std::string_view value, bool has_value,
                          MediaDescription& m) {
  bool handled = false;
  if (Err e = parse_transport_attribute(name, value, m.transport, handled)) return e;
  if (handled || parse_media_flag(name, m)) return nullptr;
  if (name == "mid") {
    if (value.empty()) return "empty a=mid";
    m.mid = std::string(value);
    return nullptr;
  }
  if (name == "rtpmap") return parse_rtpmap(value, m);
  if (name == "fmtp") return parse_fmtp(value, m);
  if (name == "rtcp-fb") return parse_rtcp_fb(value, m);
  if (name == "extmap") return parse_extmap(value, m.extmaps);
  if (name == "ssrc") return parse_ssrc(value, m);
  if (name == "ssrc-group") return parse_ssrc_group(value, m);
  if (name == "rid") return parse_rid(value, m);
  if (name == "simulcast") return parse_simulcast(value, m);
  if (name == "msid") return parse_msid(value, m);
  if (name == "candidate") return parse_candidate(value, m);
  if (name == "sctp-port") {
    m.sctp_port = parse_uint<uint16_t>(value);
    return m.sctp_port ? nullptr : "a=sctp-port is not a port number";
  }
  m.attributes.push_back(Attribute{std::string(name), std::string(value), has_value});
  return nullptr;
}

Err parse_group(std::string_view value, SessionDescription& s) {
  auto w = split_words(value);
  if (w.empty()) return "a=group without semantics";
  Group g{std::string(w[0]), {}};
  for (size_t i = 1; i < w.size(); ++i) g.mids.emplace_back(w[i]);
  s.groups.push_back(std::move(g));
  return nullptr;
}

Err parse_session_attribute(std::string_view name, std::string_view value, bool has_value,
                            SessionDescription& s) {
  bool handled = false;
  if (Err e = parse_transport_attribute(name, value, s.transport, handled)) return e;
  if (handled) return nullptr;
  if (name == "group") return parse_group(value, s);
  if (name == "ice-lite") s.ice_lite = true;
  else if (name == "extmap-allow-mixed") s.extmap_allow_mixed = true;
  else if (name == "msid-semantic") s.msid_semantic = std::string(value);
  else if (name == "extmap") return parse_extmap(value, s.extmaps);
  else s.attributes.push_back(Attribute{std::string(name), std::string(value), has_value});
  return nullptr;
}

class Parser {
 public:
  std::variant<SessionDescription, ParseError> run(std::string_view input) {
    bool seen_version = false;
    bool seen_origin = false;
    for (std::string_view line : split(input, '\n')) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (trim(line).empty()) continue;
      if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
        return error("not a '<letter>=<value>' line");
      char type = line[0];
      std::string_view value = line.substr(2);
      if (!seen_version) {
        if (type != 'v' || trim(value) != "0") return error("SDP must start with v=0");
        seen_version = true;
        continue;
      }
      if (type == 'o') seen_origin = true;
      if (Err e = parse_line(type, value)) return error(e);
    }
    if (!seen_version) return ParseError{"empty SDP"};
    if (!seen_origin) return ParseError{"missing o= line"};
    return std::move(sdp_);
  }

 private:
  ParseError error(std::string_view what) const {
    return ParseError{"line " + std::to_string(line_no_) + ": " + std::string(what)};
  }

  MediaDescription* current() { return sdp_.media.empty() ? nullptr : &sdp_.media.back(); }

  Err parse_line(char type, std::string_view value) {
    switch (type) {
      case 'v': return "duplicate v= line";
      case 'o': return current() ? "o= inside a media section" : parse_origin(value, sdp_.origin);
      case 's': if (!current()) sdp_.session_name = std::string(value); return nullptr;
      case 't': if (!current()) sdp_.timing = std::string(value); return nullptr;
      case 'c':
        (current() ? current()->connection : sdp_.connection) = std::string(trim(value));
        return nullptr;
      case 'm':
        sdp_.media.emplace_back();
        return parse_media_line(value, sdp_.media.back());
      case 'a': return parse_attribute(value);
      default: return nullptr;  // b=, i=, u=, e=, p=, r=, z=, k=: not needed
    }
  }

  Err parse_attribute(std::string_view value) {
    size_t colon = value.find(':');
    bool has_value = colon != std::string_view::npos;
    std::string_view name = trim(value.substr(0, colon));
    std::string_view attr_value = has_value ? trim(value.substr(colon + 1)) : std::string_view();
    if (name.empty()) return "a= line without attribute name";
    if (MediaDescription* m = current()) return parse_media_attribute(name, attr_value, has_value, *m);
    return parse_session_attribute(name, attr_value, has_value, sdp_);
  }

  SessionDescription sdp_;
  size_t line_no_ = 0;
};

}  // namespace

std::variant<SessionDescription, ParseError> parse(std::string_view text) { return Parser().run(text); }

}  // namespace strata::sdp
