#include "signaling/negotiation.hpp"

#include "codecs/codec.hpp"

namespace strata::signaling {

namespace {

rtp::HeaderExtensionIds extension_ids(const sdp::ExtensionIds& e) {
  rtp::HeaderExtensionIds ids;
  ids.mid = e.mid;
  ids.rid = e.rid;
  ids.repaired_rid = e.repaired_rid;
  ids.abs_send_time = e.abs_send_time;
  ids.transport_cc = e.transport_cc;
  ids.audio_level = e.audio_level;
  return ids;
}

}  // namespace

std::variant<sdp::SessionDescription, ApiError> parse_offer(const std::string& offer, size_t max_media) {
  if (offer.empty()) return ApiError{400, "bad-sdp", "the request body is empty; expected an SDP offer"};
  auto parsed = sdp::parse(offer);
  if (auto* e = std::get_if<sdp::ParseError>(&parsed))
    return ApiError{400, "bad-sdp", "the offer does not parse: " + e->detail};
  auto& sd = std::get<sdp::SessionDescription>(parsed);
  // Each m-line costs a negotiation, a track and an SSRC: a stranger's offer may not make
  // us do that work a thousand times.
  if (sd.media.size() > max_media)
    return ApiError{400, "too-many-m-lines",
                    "an offer has at most " + std::to_string(max_media) + " m-lines here; this one has " +
                        std::to_string(sd.media.size())};
  return std::move(sd);
}

size_t max_media_sections(size_t max_hosts) { return 2 * max_hosts + 2; }

sfu::MediaKind media_kind(sdp::MediaKind k) {
  return k == sdp::MediaKind::kAudio ? sfu::MediaKind::kAudio : sfu::MediaKind::kVideo;
}

sfu::CodecParams codec_params(const sdp::NegotiatedCodec& c) {
  sfu::CodecParams p;
  p.payload_type = c.payload_type;
  p.rtx_payload_type = c.rtx_payload_type;
  p.name = c.name;
  p.clock_rate = c.clock_rate;
  p.channels = c.channels;
  p.fmtp = c.fmtp;
  p.codec = codecs::codec_from_name(c.name);
  p.nack = c.nack;
  p.pli = c.nack_pli;
  p.fir = c.ccm_fir;
  return p;
}

sfu::IngestTrackInfo ingest_track(const sdp::NegotiatedMedia& m, uint32_t index) {
  sfu::IngestTrackInfo t;
  t.index = index;
  t.mid = m.mid;
  t.kind = media_kind(m.kind);
  t.codec = codec_params(m.codecs[0]);
  t.rids = m.rids;
  t.ssrcs = m.remote_ssrcs;
  t.rtx_ssrc = m.remote_rtx_ssrc;
  t.extensions = extension_ids(m.extensions);
  return t;
}

}  // namespace strata::signaling
