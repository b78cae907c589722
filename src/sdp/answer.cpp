// create_answer(): validates an offer against what an ICE-lite BUNDLE-only server can do,
// picks codecs/extensions per m-line and builds the answer as a SessionDescription that
// is then serialized (so the answer always re-parses with parse()).
#include "sdp/answer.hpp"

#include <algorithm>

#include "common/random.hpp"
#include "sdp/text.hpp"

namespace strata::sdp {
namespace {

using text::iequals;

AnswerError bad_offer(std::string code, std::string detail) {
  return AnswerError{400, std::move(code), std::move(detail)};
}

std::string describe(const MediaDescription& m, size_t index) {
  return "m-line " + std::to_string(index) + " (" + m.media + (m.mid.empty() ? "" : ", mid " + m.mid) + ")";
}

bool in_group(const Group& g, std::string_view mid) {
  return std::find(g.mids.begin(), g.mids.end(), mid) != g.mids.end();
}

// An m-line the offerer wants transported (not rejected with port 0, RFC 8843 §7.3.3).
bool is_live_rtp(const MediaDescription& m) { return m.is_rtp() && (m.port != 0 || m.bundle_only); }

// Offer-wide transport requirements (RFC 8843 BUNDLE, RFC 8858 rtcp-mux-only).
std::optional<AnswerError> check_offer_structure(const SessionDescription& offer) {
  const Group* bundle = offer.find_group("BUNDLE");
  if (!bundle || bundle->mids.empty())
    return bad_offer("bundle-required", "offer has no a=group:BUNDLE; this server only supports BUNDLE (RFC 8843)");
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& m = offer.media[i];
    if (!is_live_rtp(m)) continue;
    if (m.mid.empty()) return bad_offer("mid-required", describe(m, i) + " has no a=mid (RFC 8843 §7.1)");
    if (!in_group(*bundle, m.mid)) continue;  // will be rejected, no need for rtcp-mux
    if (!m.rtcp_mux)
      return bad_offer("rtcp-mux-required", describe(m, i) + " lacks a=rtcp-mux; this server requires RTP/RTCP mux (RFC 8858)");
  }
  return std::nullopt;
}

// The m-line whose transport BUNDLE uses: the first mid of the group present in the offer.
const MediaDescription* bundle_tag(const SessionDescription& offer) {
  const Group* bundle = offer.find_group("BUNDLE");
  for (const auto& mid : bundle->mids)
    if (const MediaDescription* m = offer.find_media(mid)) return m;
  return nullptr;
}

template <class T>
std::optional<T> media_or_session(const MediaDescription* m, const std::optional<T>& session_value,
                                  std::optional<T> TransportParams::*field) {
  if (m && (m->transport.*field)) return m->transport.*field;
  return session_value;
}

const Fingerprint* pick_fingerprint(const std::vector<Fingerprint>& fps) {
  for (const auto& fp : fps)
    if (fp.algorithm == "sha-256") return &fp;
  return fps.empty() ? nullptr : &fps.front();
}

// Remote ICE credentials, DTLS fingerprint and our DTLS role (RFC 8842 §5.1: answer passive
// to actpass/active, active to passive).
std::optional<AnswerError> negotiate_transport(const SessionDescription& offer, Negotiated& out) {
  const MediaDescription* tag = bundle_tag(offer);
  auto ufrag = media_or_session(tag, offer.transport.ice_ufrag, &TransportParams::ice_ufrag);
  auto pwd = media_or_session(tag, offer.transport.ice_pwd, &TransportParams::ice_pwd);
  if (!ufrag || !pwd)
    return bad_offer("ice-credentials-required", "offer has no a=ice-ufrag/a=ice-pwd (RFC 8839 §5.4)");
  const Fingerprint* fp = tag ? pick_fingerprint(tag->transport.fingerprints) : nullptr;
  if (!fp) fp = pick_fingerprint(offer.transport.fingerprints);
  if (!fp || fp->value.empty())
    return bad_offer("fingerprint-required", "offer has no a=fingerprint; DTLS-SRTP needs one (RFC 8122 §5)");
  auto setup = media_or_session(tag, offer.transport.setup, &TransportParams::setup);
  if (setup == SetupRole::kHoldConn)
    return bad_offer("setup-invalid", "offer has a=setup:holdconn; expected actpass, active or passive");
  out.remote_ufrag = *ufrag;
  out.remote_pwd = *pwd;
  out.remote_fingerprint_algorithm = fp->algorithm;
  out.remote_fingerprint = fp->value;
  out.our_setup = setup == SetupRole::kPassive ? Negotiated::Setup::kActive : Negotiated::Setup::kPassive;
  return std::nullopt;
}

// Why an m-line cannot be accepted whatever its codecs; empty = eligible.
std::string eligibility(const MediaDescription& m, const Group& bundle, AnswerMode mode) {
  if (!m.is_rtp()) return "unsupported media kind " + m.media;
  if (m.port == 0 && !m.bundle_only) return "rejected by the offerer (port 0)";
  if (!in_group(bundle, m.mid)) return "not in the BUNDLE group";
  if (m.proto.find("SAVP") == std::string::npos) return "not DTLS-SRTP (proto " + m.proto + ")";
  bool sends = m.direction == Direction::kSendOnly || m.direction == Direction::kSendRecv;
  bool receives = m.direction == Direction::kRecvOnly || m.direction == Direction::kSendRecv;
  if (mode == AnswerMode::kReceive && !sends) return "offer does not send media on this m-line";
  if (mode == AnswerMode::kSend && !receives) return "offer does not receive media on this m-line";
  return {};
}

// kReceive: the offerer's first supported codec; among its payload formats (e.g. several
// H.264 profiles) the most compatible one (constrained baseline).
const PayloadFormat* pick_receive_codec(const MediaDescription& m) {
  const PayloadFormat* best = nullptr;
  for (const auto& p : m.payloads) {
    if (!is_supported_codec(m.kind, p)) continue;
    if (!best) best = &p;
    else if (iequals(p.name, best->name) && codec_preference(p) < codec_preference(*best)) best = &p;
  }
  return best;
}

// kSend: the viewer's first payload format that carries the producer's codec, preferring
// one with the very same H.264 profile over one of the same family.
const PayloadFormat* pick_send_codec(const MediaDescription& m, const SendTrack& track) {
  for (const auto& p : m.payloads)
    if (!is_rtx(p) && codec_matches_exactly(track.codec, p)) return &p;
  for (const auto& p : m.payloads)
    if (!is_rtx(p) && codec_matches(track.codec, p)) return &p;
  return nullptr;
}

const PayloadFormat* find_rtx_for(const MediaDescription& m, uint8_t payload_type) {
  for (const auto& p : m.payloads)
    if (is_rtx(p) && rtx_associated_payload(p) == payload_type) return &p;
  return nullptr;
}

// Keeps only the feedback Strata implements (RFC 4585 nack/pli, RFC 5104 fir, REMB, TWCC).
std::vector<RtcpFeedback> supported_feedback(const MediaDescription& m, const PayloadFormat& p,
                                             NegotiatedCodec& codec) {
  std::vector<RtcpFeedback> kept;
  auto consider = [&](const RtcpFeedback& fb) {
    bool* flag = nullptr;
    if (fb.type == "nack" && fb.parameter.empty()) flag = &codec.nack;
    else if (fb.type == "nack" && fb.parameter == "pli") flag = &codec.nack_pli;
    else if (fb.type == "ccm" && fb.parameter == "fir") flag = &codec.ccm_fir;
    else if (fb.type == "goog-remb" && fb.parameter.empty()) flag = &codec.goog_remb;
    else if (fb.type == "transport-cc" && fb.parameter.empty()) flag = &codec.transport_cc;
    if (!flag || *flag) return;
    *flag = true;
    kept.push_back(fb);
  };
  for (const auto& fb : p.feedback) consider(fb);
  for (const auto& fb : m.feedback_all) consider(fb);
  return kept;
}

// Adds the chosen codec (and its rtx) to the negotiated media and to the answer m-line.
void add_codec(const MediaDescription& offered, const PayloadFormat& chosen, bool with_rtx,
               NegotiatedMedia& neg, MediaDescription& answer) {
  NegotiatedCodec codec;
  codec.payload_type = chosen.payload_type;
  codec.name = chosen.name;
  codec.clock_rate = chosen.clock_rate;
  codec.channels = chosen.channels;
  codec.fmtp = chosen.fmtp;
  PayloadFormat primary = chosen;
  primary.has_rtpmap = true;
  primary.feedback = supported_feedback(offered, chosen, codec);
  answer.payloads.push_back(primary);
  answer.formats.push_back(std::to_string(chosen.payload_type));
  if (const PayloadFormat* rtx = with_rtx ? find_rtx_for(offered, chosen.payload_type) : nullptr) {
    codec.rtx_payload_type = rtx->payload_type;
    PayloadFormat repair = *rtx;
    repair.has_rtpmap = true;
    repair.feedback.clear();
    repair.fmtp = "apt=" + std::to_string(chosen.payload_type);
    answer.payloads.push_back(repair);
    answer.formats.push_back(std::to_string(rtx->payload_type));
  }
  neg.codecs.push_back(std::move(codec));
}

// Echoes the offered ids of the extensions Strata reads or writes (RFC 8285 §6).
void add_extensions(const MediaDescription& offered, AnswerMode mode, bool simulcast,
                    NegotiatedMedia& neg, MediaDescription& answer) {
  struct Wanted { std::string_view uri; uint8_t ExtensionIds::*field; bool wanted; };
  const bool audio = offered.kind == MediaKind::kAudio;
  const bool rid = mode == AnswerMode::kReceive && simulcast;
  const Wanted table[] = {
      {kExtMid, &ExtensionIds::mid, true},
      {kExtRid, &ExtensionIds::rid, rid},
      {kExtRepairedRid, &ExtensionIds::repaired_rid, rid},
      {kExtAbsSendTime, &ExtensionIds::abs_send_time, true},
      {kExtTransportCc, &ExtensionIds::transport_cc, true},
      {kExtAudioLevel, &ExtensionIds::audio_level, audio},
  };
  for (const auto& e : offered.extmaps) {
    for (const Wanted& w : table) {
      if (!w.wanted || e.uri != w.uri || neg.extensions.*w.field) continue;
      neg.extensions.*w.field = e.id;
      answer.extmaps.push_back(ExtMap{e.id, std::nullopt, e.uri, {}});
    }
  }
}

// kReceive simulcast (RFC 8853 §5.3): answer "a=rid:<id> recv" + "a=simulcast:recv" with the
// offered send streams in order.
void add_simulcast(const MediaDescription& offered, NegotiatedMedia& neg, MediaDescription& answer) {
  if (!offered.simulcast || offered.simulcast->send.empty()) return;
  Simulcast sc;
  sc.recv = offered.simulcast->send;
  for (const auto& stream : sc.recv) {
    for (const auto& alt : stream) {
      neg.rids.push_back(alt.rid);
      answer.rids.push_back(Rid{alt.rid, RidDirection::kRecv, {}, {}});
    }
  }
  answer.simulcast = std::move(sc);
}

// What the offerer told us about its own streams (RFC 5576 ssrc, RFC 4588 FID, RFC 8830 msid).
void record_remote_streams(const MediaDescription& m, NegotiatedMedia& neg) {
  std::vector<uint32_t> repair;
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics != "FID" || g.ssrcs.size() < 2) continue;
    repair.push_back(g.ssrcs[1]);
    if (!neg.remote_rtx_ssrc) neg.remote_rtx_ssrc = g.ssrcs[1];
  }
  for (const auto& s : m.ssrcs)
    if (std::find(repair.begin(), repair.end(), s.ssrc) == repair.end()) neg.remote_ssrcs.push_back(s.ssrc);
  std::string_view msid;
  if (!m.msids.empty()) {
    neg.remote_stream_id = m.msids[0].stream_id;
    neg.remote_track_id = m.msids[0].track_id;
  } else if (!m.ssrcs.empty() && !(msid = m.ssrcs[0].msid).empty()) {
    auto words = text::split_words(msid);
    neg.remote_stream_id = std::string(words[0]);
    if (words.size() > 1) neg.remote_track_id = std::string(words[1]);
  }
}

// kSend: our SSRCs in the answer (RFC 5576, RFC 8830; FID for rtx per RFC 4588 §8.7).
void add_send_track(const SendTrack& t, bool has_rtx, MediaDescription& answer) {
  answer.msids.push_back(Msid{t.stream_id, t.track_id});
  std::string msid = t.stream_id + " " + t.track_id;
  if (has_rtx) answer.ssrc_groups.push_back(SsrcGroup{"FID", {t.ssrc, t.rtx_ssrc}});
  answer.ssrcs.push_back(SsrcAttributes{t.ssrc, t.cname, msid, {}});
  if (has_rtx) answer.ssrcs.push_back(SsrcAttributes{t.rtx_ssrc, t.cname, msid, {}});
}

struct LocalTransport {
  TransportParams params;
  std::vector<IceCandidate> candidates;
  uint16_t port = 9;  // RFC 8840 §4.1.1 placeholder when we have no candidate
  std::string connection = "IN IP4 0.0.0.0";
};

std::optional<LocalTransport> make_local_transport(const AnswerOptions& opts, Negotiated::Setup setup) {
  LocalTransport t;
  t.params.ice_ufrag = opts.ice_ufrag;
  t.params.ice_pwd = opts.ice_pwd;
  Fingerprint fp{"sha-256", {}};
  for (std::string_view byte : text::split(opts.fingerprint_sha256, ':')) {
    Bytes b = byte.size() == 2 ? from_hex(byte) : Bytes{};
    if (b.size() != 1) return std::nullopt;
    fp.value.push_back(b[0]);
  }
  if (opts.ice_ufrag.empty() || opts.ice_pwd.empty() || fp.value.size() != 32) return std::nullopt;
  t.params.fingerprints.push_back(std::move(fp));
  t.params.setup = setup == Negotiated::Setup::kPassive ? SetupRole::kPassive : SetupRole::kActive;
  for (const Candidate& c : opts.candidates)
    t.candidates.push_back(IceCandidate{c.foundation, 1, "udp", c.priority, c.ip, c.port, "host", {}});
  if (!opts.candidates.empty()) {
    const Candidate& first = opts.candidates.front();
    t.port = first.port;
    t.connection = std::string(first.ip.find(':') == std::string::npos ? "IN IP4 " : "IN IP6 ") + first.ip;
  }
  return t;
}

MediaDescription rejected_media(const MediaDescription& offered) {
  MediaDescription a;
  a.kind = offered.kind;
  a.media = offered.media;
  a.port = 0;
  a.proto = offered.proto;
  a.formats = offered.formats;
  if (a.formats.empty()) a.formats.push_back("0");
  a.mid = offered.mid;
  a.direction = Direction::kInactive;
  return a;
}

class AnswerBuilder {
 public:
  AnswerBuilder(const SessionDescription& offer, const AnswerOptions& opts, LocalTransport local)
      : offer_(offer), opts_(opts), local_(std::move(local)), used_tracks_(opts.send_tracks.size(), false) {}

  // Negotiates one offered m-line; fills `neg` and returns the answer m-line.
  MediaDescription negotiate(const MediaDescription& m, NegotiatedMedia& neg) {
    neg.mid = m.mid;
    neg.kind = m.kind;
    std::string why = eligibility(m, *offer_.find_group("BUNDLE"), opts_.mode);
    const PayloadFormat* chosen = nullptr;
    std::optional<size_t> track;
    if (why.empty()) {
      if (opts_.mode == AnswerMode::kReceive) {
        chosen = pick_receive_codec(m);
      } else if ((track = find_track(m))) {
        chosen = pick_send_codec(m, opts_.send_tracks[*track]);
      } else if (!has_track_of_kind(m.kind)) {
        // Nothing of this kind to send (a video-only stream, the viewer also offers audio):
        // keep the m-line in the BUNDLE as inactive rather than rejecting it with port 0,
        // which browsers fail to apply when it carried the offer's BUNDLE tag.
        chosen = pick_receive_codec(m);
      }
      if (!chosen) why = no_codec_reason(m);
    }
    if (!why.empty()) {
      neg.rejected = true;
      neg.reject_reason = std::move(why);
      return rejected_media(m);
    }
    return accept(m, *chosen, track, neg);
  }

 private:
  std::string no_codec_reason(const MediaDescription& m) const {
    if (opts_.mode == AnswerMode::kReceive) return "no supported codec";
    for (size_t i = 0; i < opts_.send_tracks.size(); ++i)
      if (!used_tracks_[i] && opts_.send_tracks[i].kind == m.kind) return "no common codec with the track to send";
    return "no track to send";
  }

  bool has_track_of_kind(MediaKind kind) const {
    for (auto& t : opts_.send_tracks)
      if (t.kind == kind) return true;
    return false;
  }

  // First unused track of the m-line's kind whose codec the viewer offers.
  std::optional<size_t> find_track(const MediaDescription& m) const {
    for (size_t i = 0; i < opts_.send_tracks.size(); ++i) {
      const SendTrack& t = opts_.send_tracks[i];
      if (!used_tracks_[i] && t.kind == m.kind && pick_send_codec(m, t)) return i;
    }
    return std::nullopt;
  }

  MediaDescription accept(const MediaDescription& m, const PayloadFormat& chosen,
                          std::optional<size_t> track, NegotiatedMedia& neg) {
    const bool send = opts_.mode == AnswerMode::kSend;
    MediaDescription a;
    a.kind = m.kind;
    a.media = m.media;
    a.port = local_.port;
    a.proto = m.proto;
    a.connection = local_.connection;
    a.transport = local_.params;
    a.mid = m.mid;
    a.direction = !send ? Direction::kRecvOnly : track ? Direction::kSendOnly : Direction::kInactive;
    a.rtcp_mux = true;
    a.rtcp_rsize = m.rtcp_rsize;
    a.candidates = local_.candidates;
    a.end_of_candidates = true;
    neg.direction = a.direction;
    neg.rtcp_rsize = m.rtcp_rsize;
    bool with_rtx = !send || (track && opts_.send_tracks[*track].rtx_ssrc != 0);
    add_codec(m, chosen, with_rtx, neg, a);
    bool simulcast = !send && m.simulcast && !m.simulcast->send.empty();
    add_extensions(m, opts_.mode, simulcast, neg, a);
    if (send && track) {
      used_tracks_[*track] = true;
      const SendTrack& t = opts_.send_tracks[*track];
      add_send_track(t, neg.codecs[0].rtx_payload_type.has_value(), a);
      neg.send_track = t;
    } else if (!send) {
      add_simulcast(m, neg, a);
    }
    record_remote_streams(m, neg);
    return a;
  }

  const SessionDescription& offer_;
  const AnswerOptions& opts_;
  LocalTransport local_;
  std::vector<bool> used_tracks_;
};

SessionDescription answer_skeleton(const AnswerOptions& opts) {
  SessionDescription a;
  a.origin.session_id = opts.session_id.empty() ? std::to_string(random_u64() >> 2) : opts.session_id;
  a.origin.session_version = "2";
  a.ice_lite = true;  // RFC 8839 §5.3: we only answer checks, never send them
  a.msid_semantic = "WMS *";
  return a;
}

std::string summary_of_all(const Negotiated& neg) {
  std::string s;
  for (const NegotiatedMedia& m : neg.media)
    s += (s.empty() ? "" : "; ") + ("mid " + (m.mid.empty() ? "?" : m.mid) + ": " + m.reject_reason);
  return s;
}

std::string rejection_summary(const Negotiated& neg) {
  std::string s;
  for (const auto& m : neg.media)
    s += (s.empty() ? "" : "; ") + ("mid " + (m.mid.empty() ? "?" : m.mid) + ": " + m.reject_reason);
  return s.empty() ? "offer has no m-lines" : s;
}

}  // namespace

AnswerResult create_answer(const SessionDescription& offer, const AnswerOptions& opts) {
  if (auto err = check_offer_structure(offer)) return *err;
  Negotiated neg;
  if (auto err = negotiate_transport(offer, neg)) return *err;
  auto local = make_local_transport(opts, neg.our_setup);
  if (!local)
    return AnswerError{500, "bad-local-config", "our ICE credentials or sha-256 fingerprint are missing or malformed"};

  SessionDescription answer = answer_skeleton(opts);
  AnswerBuilder builder(offer, opts, std::move(*local));
  Group bundle{"BUNDLE", {}};
  for (const MediaDescription& m : offer.media) {
    NegotiatedMedia& nm = neg.media.emplace_back();
    answer.media.push_back(builder.negotiate(m, nm));
    if (!nm.rejected) bundle.mids.push_back(nm.mid);
  }
  if (bundle.mids.empty())
    return AnswerError{406, "no-common-codec", "no m-line could be accepted: " + rejection_summary(neg)};
  bool sends = std::any_of(neg.media.begin(), neg.media.end(), [](const NegotiatedMedia& m) { return m.send_track.has_value(); });
  if (opts.mode == AnswerMode::kSend && !sends) {
    // Inactive m-lines alone would give the viewer nothing.
    for (auto& m : neg.media) {
      if (!m.rejected) m.reject_reason = "no track to send";
    }
    return AnswerError{406, "no-common-codec", "no m-line can carry a track to send: " + summary_of_all(neg)};
  }
  answer.groups.push_back(std::move(bundle));
  return std::make_pair(serialize(answer), std::move(neg));
}

}  // namespace strata::sdp
