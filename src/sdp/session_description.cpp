// Model helpers and the SDP writer. Field order follows what browsers emit (JSEP,
// RFC 8829 §5.2/§5.3) so answers look familiar when debugging; parsers do not depend on it.
#include <string>

#include "sdp/session_description.hpp"
#include "sdp/text.hpp"

namespace strata::sdp {

std::string_view to_string(MediaKind kind) {
  switch (kind) {
    case MediaKind::kAudio: return "audio";
    case MediaKind::kVideo: return "video";
    case MediaKind::kApplication: return "application";
    case MediaKind::kOther: break;
  }
  return "other";
}

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::kSendRecv: return "sendrecv";
    case Direction::kSendOnly: return "sendonly";
    case Direction::kRecvOnly: return "recvonly";
    case Direction::kInactive: break;
  }
  return "inactive";
}

std::string_view to_string(SetupRole role) {
  switch (role) {
    case SetupRole::kActPass: return "actpass";
    case SetupRole::kActive: return "active";
    case SetupRole::kPassive: return "passive";
    case SetupRole::kHoldConn: break;
  }
  return "holdconn";
}

const PayloadFormat* MediaDescription::find_payload(uint8_t payload_type) const {
  for (const auto& p : payloads)
    if (p.payload_type == payload_type) return &p;
  return nullptr;
}

PayloadFormat* MediaDescription::find_payload(uint8_t payload_type) {
  for (auto& p : payloads)
    if (p.payload_type == payload_type) return &p;
  return nullptr;
}

const SsrcAttributes* MediaDescription::find_ssrc(uint32_t ssrc) const {
  for (const auto& s : ssrcs)
    if (s.ssrc == ssrc) return &s;
  return nullptr;
}

const ExtMap* MediaDescription::find_extmap(std::string_view uri) const {
  for (const auto& e : extmaps)
    if (e.uri == uri) return &e;
  return nullptr;
}

const Group* SessionDescription::find_group(std::string_view semantics) const {
  for (const auto& g : groups)
    if (text::iequals(g.semantics, semantics)) return &g;
  return nullptr;
}

const MediaDescription* SessionDescription::find_media(std::string_view mid) const {
  for (const auto& m : media)
    if (m.mid == mid) return &m;
  return nullptr;
}

namespace {

class Writer {
 public:
  void line(std::string_view type_and_value) {
    out_.append(type_and_value);
    out_.append("\r\n");
  }
  void attr(std::string_view name) { line("a=" + std::string(name)); }
  void attr(std::string_view name, std::string_view value) {
    line("a=" + std::string(name) + ":" + std::string(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string fingerprint_hex(const Bytes& value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s;
  for (size_t i = 0; i < value.size(); ++i) {
    if (i) s.push_back(':');
    s.push_back(kDigits[value[i] >> 4]);
    s.push_back(kDigits[value[i] & 15]);
  }
  return s;
}

void write_transport(Writer& w, const TransportParams& t) {
  if (t.ice_ufrag) w.attr("ice-ufrag", *t.ice_ufrag);
  if (t.ice_pwd) w.attr("ice-pwd", *t.ice_pwd);
  if (!t.ice_options.empty()) {
    std::string opts;
    for (const auto& o : t.ice_options) opts += (opts.empty() ? "" : " ") + o;
    w.attr("ice-options", opts);
  }
  for (const auto& fp : t.fingerprints) w.attr("fingerprint", fp.algorithm + " " + fingerprint_hex(fp.value));
  if (t.setup) w.attr("setup", to_string(*t.setup));
}

void write_extmaps(Writer& w, const std::vector<ExtMap>& extmaps) {
  for (const auto& e : extmaps) {
    std::string v = std::to_string(e.id);
    if (e.direction) v += "/" + std::string(to_string(*e.direction));
    v += " " + e.uri;
    if (!e.attributes.empty()) v += " " + e.attributes;
    w.attr("extmap", v);
  }
}

void write_other(Writer& w, const std::vector<Attribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.has_value) w.attr(a.name, a.value);
    else w.attr(a.name);
  }
}

std::string feedback_value(std::string_view pt, const RtcpFeedback& fb) {
  std::string v = std::string(pt) + " " + fb.type;
  if (!fb.parameter.empty()) v += " " + fb.parameter;
  return v;
}

void write_payloads(Writer& w, const MediaDescription& m) {
  for (const auto& p : m.payloads) {
    std::string pt = std::to_string(p.payload_type);
    if (p.has_rtpmap || p.payload_type >= 96) {
      std::string map = pt + " " + p.name + "/" + std::to_string(p.clock_rate);
      if (p.channels) map += "/" + std::to_string(p.channels);
      w.attr("rtpmap", map);
    }
    for (const auto& fb : p.feedback) w.attr("rtcp-fb", feedback_value(pt, fb));
    if (!p.fmtp.empty()) w.attr("fmtp", pt + " " + p.fmtp);
  }
  for (const auto& fb : m.feedback_all) w.attr("rtcp-fb", feedback_value("*", fb));
}

void write_ssrcs(Writer& w, const MediaDescription& m) {
  for (const auto& g : m.ssrc_groups) {
    std::string v = g.semantics;
    for (uint32_t s : g.ssrcs) v += " " + std::to_string(s);
    w.attr("ssrc-group", v);
  }
  for (const auto& s : m.ssrcs) {
    std::string id = std::to_string(s.ssrc);
    if (!s.cname.empty()) w.attr("ssrc", id + " cname:" + s.cname);
    if (!s.msid.empty()) w.attr("ssrc", id + " msid:" + s.msid);
    for (const auto& [name, value] : s.other)
      w.attr("ssrc", id + " " + name + (value.empty() ? "" : ":" + value));
  }
}

std::string simulcast_list(const std::vector<SimulcastStream>& streams) {
  std::string v;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) v += ";";
    for (size_t j = 0; j < streams[i].size(); ++j) {
      if (j) v += ",";
      v += (streams[i][j].paused ? "~" : "") + streams[i][j].rid;
    }
  }
  return v;
}

void write_simulcast(Writer& w, const MediaDescription& m) {
  for (const auto& r : m.rids) {
    std::string v = r.id + (r.direction == RidDirection::kSend ? " send" : " recv");
    if (!r.params.empty()) v += " " + r.params;
    w.attr("rid", v);
  }
  if (!m.simulcast) return;
  std::string v;
  if (!m.simulcast->send.empty()) v = "send " + simulcast_list(m.simulcast->send);
  if (!m.simulcast->recv.empty()) v += (v.empty() ? "" : " ") + ("recv " + simulcast_list(m.simulcast->recv));
  w.attr("simulcast", v);
}

void write_candidates(Writer& w, const MediaDescription& m) {
  for (const auto& c : m.candidates) {
    std::string v = c.foundation + " " + std::to_string(c.component) + " " + c.transport + " " +
                    std::to_string(c.priority) + " " + c.address + " " + std::to_string(c.port) +
                    " typ " + c.type;
    if (!c.extensions.empty()) v += " " + c.extensions;
    w.attr("candidate", v);
  }
  if (m.end_of_candidates) w.attr("end-of-candidates");
}

void write_media(Writer& w, const MediaDescription& m) {
  std::string mline = "m=" + m.media + " " + std::to_string(m.port);
  if (m.port_count) mline += "/" + std::to_string(m.port_count);
  mline += " " + m.proto;
  for (const auto& f : m.formats) mline += " " + f;
  w.line(mline);
  if (!m.connection.empty()) w.line("c=" + m.connection);
  write_transport(w, m.transport);
  if (!m.mid.empty()) w.attr("mid", m.mid);
  write_extmaps(w, m.extmaps);
  w.attr(to_string(m.direction));
  for (const auto& msid : m.msids)
    w.attr("msid", msid.stream_id + (msid.track_id.empty() ? "" : " " + msid.track_id));
  if (m.rtcp_mux) w.attr("rtcp-mux");
  if (m.rtcp_mux_only) w.attr("rtcp-mux-only");
  if (m.rtcp_rsize) w.attr("rtcp-rsize");
  if (m.bundle_only) w.attr("bundle-only");
  write_payloads(w, m);
  write_ssrcs(w, m);
  write_simulcast(w, m);
  if (m.sctp_port) w.attr("sctp-port", std::to_string(*m.sctp_port));
  write_other(w, m.attributes);
  write_candidates(w, m);
}

}  // namespace

std::string serialize(const SessionDescription& sdp) {
  Writer w;
  const Origin& o = sdp.origin;
  w.line("v=0");
  w.line("o=" + o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " +
         o.addr_type + " " + o.address);
  w.line("s=" + (sdp.session_name.empty() ? std::string("-") : sdp.session_name));
  w.line("t=" + sdp.timing);
  if (!sdp.connection.empty()) w.line("c=" + sdp.connection);
  if (sdp.ice_lite) w.attr("ice-lite");
  for (const auto& g : sdp.groups) {
    std::string v = g.semantics;
    for (const auto& mid : g.mids) v += " " + mid;
    w.attr("group", v);
  }
  if (sdp.extmap_allow_mixed) w.attr("extmap-allow-mixed");
  if (!sdp.msid_semantic.empty()) w.attr("msid-semantic", " " + sdp.msid_semantic);
  write_transport(w, sdp.transport);
  write_extmaps(w, sdp.extmaps);
  write_other(w, sdp.attributes);
  for (const auto& m : sdp.media) write_media(w, m);
  return w.take();
}

}  // namespace strata::sdp
