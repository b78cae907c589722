// From SDP to the data plane's track descriptions: the offer parsed (or an API error), a
// host's negotiated m-line as an ingest track, a viewer's as codec parameters.
#pragma once
#include <string>
#include <variant>

#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"
#include "sfu/track.hpp"
#include "signaling/session_manager.hpp"

namespace strata::signaling {

// 400 bad-sdp when it does not parse, 400 too-many-m-lines beyond max_media m-lines.
std::variant<sdp::SessionDescription, ApiError> parse_offer(const std::string& offer, size_t max_media);
// The m-lines an offer may have on a server whose lives hold max_hosts hosts: a viewer's
// slots (a video and an audio m-line each), plus two (a host's own, a data channel).
size_t max_media_sections(size_t max_hosts);
sfu::MediaKind media_kind(sdp::MediaKind k);
sfu::CodecParams codec_params(const sdp::NegotiatedCodec& c);
// One m-line of the host's offer becomes one ingest track.
sfu::IngestTrackInfo ingest_track(const sdp::NegotiatedMedia& m, uint32_t index);

}  // namespace strata::signaling
