#include "loadtest/signaling.hpp"

#include <fmt/format.h>

#include <strings.h>

#include <algorithm>
#include <cstdlib>

#include "common/random.hpp"
#include "dtls/certificate.hpp"
#include "http/client.hpp"
#include "sdp/answer.hpp"
#include "sdp/codecs.hpp"
#include "sdp/session_description.hpp"

namespace strata::loadtest {
namespace {

std::string session_header(const LocalEndpoint& l) {
  return fmt::format(
      "v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\n"
      "a=msid-semantic: WMS bench\r\n",
      random_u64() >> 2);
}

std::string transport_lines(const LocalEndpoint& l, const char* setup) {
  return fmt::format(
      "c=IN IP4 0.0.0.0\r\na=ice-ufrag:{}\r\na=ice-pwd:{}\r\na=fingerprint:sha-256 {}\r\na=setup:{}\r\n"
      "a=rtcp-mux\r\na=rtcp-rsize\r\na=candidate:1 1 udp 2130706431 {} {} typ host\r\n",
      l.ufrag, l.pwd, l.fingerprint_sha256, setup, l.address.ip_string(), l.address.port());
}

std::string video_codec_lines(bool rtx) {
  std::string s = fmt::format(
      "a=rtpmap:{0} VP8/90000\r\na=rtcp-fb:{0} goog-remb\r\na=rtcp-fb:{0} transport-cc\r\na=rtcp-fb:{0} ccm fir\r\n"
      "a=rtcp-fb:{0} nack\r\na=rtcp-fb:{0} nack pli\r\n",
      kVp8Pt);
  if (rtx) s += fmt::format("a=rtpmap:{} rtx/90000\r\na=fmtp:{} apt={}\r\n", kRtxPt, kRtxPt, kVp8Pt);
  return s;
}

std::string audio_codec_lines() {
  return fmt::format("a=rtpmap:{0} opus/48000/2\r\na=fmtp:{0} minptime=10;useinbandfec=1\r\na=rtcp-fb:{0} transport-cc\r\n",
                     kOpusPt);
}

std::string extmaps(bool video, bool simulcast) {
  std::string s = fmt::format("a=extmap:{} {}\r\na=extmap:{} {}\r\n", kExtMidId, sdp::kExtMid, kExtTwccId, sdp::kExtTransportCc);
  if (video && simulcast)
    s += fmt::format("a=extmap:{} {}\r\na=extmap:{} {}\r\n", kExtRidId, sdp::kExtRid, kExtRepairedRidId, sdp::kExtRepairedRid);
  return s;
}

}  // namespace

std::string build_view_offer(const LocalEndpoint& l) {
  std::string s = session_header(l);
  s += fmt::format("m=audio 9 UDP/TLS/RTP/SAVPF {}\r\n", kOpusPt);
  s += transport_lines(l, "actpass") + "a=mid:0\r\na=recvonly\r\n" + extmaps(false, false) + audio_codec_lines();
  s += fmt::format("m=video 9 UDP/TLS/RTP/SAVPF {} {}\r\n", kVp8Pt, kRtxPt);
  s += transport_lines(l, "actpass") + "a=mid:1\r\na=recvonly\r\n" + extmaps(true, false) + video_codec_lines(true);
  return s;
}

std::string build_publish_offer(const LocalEndpoint& l, const PublishLayout& layout) {
  std::string s = session_header(l);
  s += fmt::format("m=audio 9 UDP/TLS/RTP/SAVPF {}\r\n", kOpusPt);
  s += transport_lines(l, "actpass") + "a=mid:0\r\na=sendonly\r\na=msid:bench audio\r\n" + extmaps(false, false) +
       audio_codec_lines() + fmt::format("a=ssrc:{} cname:bench\r\n", layout.audio_ssrc);
  s += fmt::format("m=video 9 UDP/TLS/RTP/SAVPF {}\r\n", kVp8Pt);
  s += transport_lines(l, "actpass") + "a=mid:1\r\na=sendonly\r\na=msid:bench video\r\n" +
       extmaps(true, layout.simulcast) + video_codec_lines(false);
  if (layout.simulcast) {
    s += "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n";
  } else {
    s += fmt::format("a=ssrc:{} cname:bench\r\n", layout.video_ssrc);
  }
  return s;
}

std::optional<RemoteMedia> parse_remote_description(const std::string& text, std::string* error) {
  auto parsed = sdp::parse(text);
  if (auto* e = std::get_if<sdp::ParseError>(&parsed)) {
    *error = "SDP: " + e->detail;
    return std::nullopt;
  }
  const auto& d = std::get<sdp::SessionDescription>(parsed);
  RemoteMedia r;
  for (const auto& m : d.media) {
    if (!m.is_rtp() || m.port == 0) continue;
    auto pick = [&](const std::optional<std::string>& media, const std::optional<std::string>& session) {
      return media ? *media : session.value_or("");
    };
    if (r.ice_ufrag.empty()) r.ice_ufrag = pick(m.transport.ice_ufrag, d.transport.ice_ufrag);
    if (r.ice_pwd.empty()) r.ice_pwd = pick(m.transport.ice_pwd, d.transport.ice_pwd);
    const auto& fps = m.transport.fingerprints.empty() ? d.transport.fingerprints : m.transport.fingerprints;
    if (r.fingerprint.empty() && !fps.empty()) r.fingerprint_algorithm = fps[0].algorithm, r.fingerprint = fps[0].value;
    for (const auto& c : m.candidates) {
      if (c.component != 1 || (c.transport != "udp" && c.transport != "UDP")) continue;
      auto a = SocketAddress::from_ip_port(c.address, c.port);
      if (a && !(a->is_v6() && c.address.rfind("fe80", 0) == 0) &&
          std::find(r.candidates.begin(), r.candidates.end(), *a) == r.candidates.end())
        r.candidates.push_back(*a);
    }
    for (const auto& p : m.payloads) {
      if (m.kind == sdp::MediaKind::kVideo && !r.video_pt && sdp::codec_of(p).name == "VP8") r.video_pt = p.payload_type;
      if (m.kind == sdp::MediaKind::kAudio && !r.audio_pt && sdp::codec_of(p).name == "opus") r.audio_pt = p.payload_type;
    }
    for (const auto& p : m.payloads)
      if (m.kind == sdp::MediaKind::kVideo && sdp::is_rtx(p) && sdp::rtx_associated_payload(p) == r.video_pt)
        r.rtx_pt = p.payload_type;
    if (m.kind == sdp::MediaKind::kVideo) {
      if (auto* e = m.find_extmap(sdp::kExtTransportCc)) r.twcc_id = e->id;
      for (const auto& g : m.ssrc_groups)
        if (g.semantics == "FID" && g.ssrcs.size() == 2) r.video_ssrc = g.ssrcs[0], r.rtx_ssrc = g.ssrcs[1];
      if (!r.video_ssrc && !m.ssrcs.empty()) r.video_ssrc = m.ssrcs[0].ssrc;
    } else if (!m.ssrcs.empty()) {
      r.audio_ssrc = m.ssrcs[0].ssrc;
    }
  }
  if (r.ice_ufrag.empty() || r.ice_pwd.empty()) *error = "no ICE credentials in the remote SDP";
  else if (r.fingerprint.empty()) *error = "no fingerprint in the remote SDP";
  else if (r.candidates.empty()) *error = "no usable UDP candidate in the remote SDP";
  else return r;
  return std::nullopt;
}

transport::TransportConfig client_transport_config(const LocalEndpoint& local, const RemoteMedia& remote,
                                                   std::shared_ptr<const dtls::Certificate> cert) {
  transport::TransportConfig c;
  c.local_ufrag = local.ufrag;
  c.local_pwd = local.pwd;
  c.remote_ufrag = remote.ice_ufrag;
  c.remote_pwd = remote.ice_pwd;
  c.remote_fingerprint_algorithm = remote.fingerprint_algorithm;
  c.remote_fingerprint = remote.fingerprint;
  c.certificate = std::move(cert);
  c.dtls_role = dtls::Role::kClient;
  c.ice_controlling = true;
  c.remote_candidates = remote.candidates;
  return c;
}

transport::TransportConfig lite_transport_config(const LocalEndpoint& local, const RemoteMedia& remote,
                                                 std::shared_ptr<const dtls::Certificate> cert) {
  transport::TransportConfig c = client_transport_config(local, remote, std::move(cert));
  c.ice_controlling = false;  // the ICE-lite agent answers Janus' checks
  c.remote_candidates.clear();
  return c;
}

std::optional<std::string> build_janus_answer(const std::string& offer, const LocalEndpoint& local, std::string* error) {
  auto parsed = sdp::parse(offer);
  if (auto* e = std::get_if<sdp::ParseError>(&parsed)) {
    *error = "Janus offer: " + e->detail;
    return std::nullopt;
  }
  sdp::AnswerOptions opts;
  opts.mode = sdp::AnswerMode::kReceive;
  opts.ice_ufrag = local.ufrag;
  opts.ice_pwd = local.pwd;
  opts.fingerprint_sha256 = local.fingerprint_sha256;
  opts.candidates.push_back({local.address.ip_string(), local.address.port(), 2130706431u, "1"});
  auto result = sdp::create_answer(std::get<sdp::SessionDescription>(parsed), opts);
  if (auto* e = std::get_if<sdp::AnswerError>(&result)) {
    *error = "cannot answer the Janus offer: " + e->detail;
    return std::nullopt;
  }
  std::string answer = std::get<0>(std::get<std::pair<std::string, sdp::Negotiated>>(result));
  // We are the DTLS client (RFC 8842 §5.3 active) so that our transport starts the handshake.
  for (size_t at; (at = answer.find("a=setup:passive")) != std::string::npos;) answer.replace(at, 15, "a=setup:active");
  return answer;
}

std::string resolve_url(const std::string& base, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  auto scheme = base.find("://");
  auto path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string origin = path == std::string::npos ? base : base.substr(0, path);
  if (!location.empty() && location[0] == '/') return origin + location;
  auto slash = base.rfind('/');
  return (slash != std::string::npos && slash > scheme + 2 ? base.substr(0, slash + 1) : origin + "/") + location;
}

PostResult post_sdp(const std::string& url, const std::string& sdp, Duration timeout) {
  PostResult out;
  std::string target = url;
  for (int hop = 0; hop < 5; ++hop) {
    auto res = http::http_request("POST", target, {{"Content-Type", "application/sdp"}}, sdp, timeout, &out.error);
    if (!res) return out;
    out.status = res->status;
    out.body = std::move(res->body);
    std::string location;
    for (auto& [k, v] : res->headers) {
      if (strcasecmp(k.c_str(), "location") == 0) location = v;
      if (strcasecmp(k.c_str(), "retry-after") == 0) out.retry_after = std::atoi(v.c_str());
    }
    if ((res->status == 307 || res->status == 308) && !location.empty()) {
      target = resolve_url(target, location);
      continue;
    }
    if (res->status == 201) out.session_url = location.empty() ? "" : resolve_url(target, location);
    else out.error = fmt::format("HTTP {} from {}: {}", res->status, target, out.body.substr(0, 200));
    return out;
  }
  out.error = "too many redirects";
  out.status = 0;
  return out;
}

void delete_session(const std::string& session_url, Duration timeout) {
  std::string error;
  if (!session_url.empty()) http::http_request("DELETE", session_url, {}, "", timeout, &error);
}

}  // namespace strata::loadtest
