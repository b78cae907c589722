// SDP fuzz body: parse, serialize, and answer in both modes (WHIP ingest and WHEP egress).
#include <string>
#include <string_view>
#include <variant>

#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

sdp::AnswerOptions answer_options(sdp::AnswerMode mode) {
  sdp::AnswerOptions o;
  o.mode = mode;
  o.ice_ufrag = "fuzzufrag";
  o.ice_pwd = "fuzzpasswordfuzzpassword";
  o.fingerprint_sha256 =
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
  o.candidates = {sdp::Candidate{"192.0.2.10", 40000, 2130706431, "1"},
                  sdp::Candidate{"2001:db8::10", 40000, 2130706175, "2"}};
  o.send_tracks = {
      sdp::SendTrack{sdp::MediaKind::kVideo, 0x1111, 0x2222, "cname", "stream", "video0",
                     sdp::Codec{"VP8", 90000, 0, ""}},
      sdp::SendTrack{sdp::MediaKind::kVideo, 0x3333, 0, "cname", "stream", "video1",
                     sdp::Codec{"H264", 90000, 0, "packetization-mode=1;profile-level-id=42e01f"}},
      sdp::SendTrack{sdp::MediaKind::kAudio, 0x4444, 0, "cname", "stream", "audio0",
                     sdp::Codec{"opus", 48000, 2, "minptime=10;useinbandfec=1"}}};
  o.session_id = "4242424242";  // fixed: a random one would make runs irreproducible
  return o;
}

volatile size_t g_sink = 0;

}  // namespace

int sdp_one_input(const uint8_t* data, size_t size) {
  // Exact-size heap copy so ASan catches any read past the end.
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = sdp::parse(text);
  auto* offer = std::get_if<sdp::SessionDescription>(&parsed);
  if (!offer) return 0;
  g_sink = g_sink + sdp::serialize(*offer).size();
  for (sdp::AnswerMode mode : {sdp::AnswerMode::kReceive, sdp::AnswerMode::kSend}) {
    auto answer = sdp::create_answer(*offer, answer_options(mode));
    if (auto* ok = std::get_if<std::pair<std::string, sdp::Negotiated>>(&answer)) {
      // An answer we would send must itself be valid SDP (browsers reject it otherwise).
      auto reparsed = sdp::parse(ok->first);
      STRATA_FUZZ_CHECK("sdp", std::holds_alternative<sdp::SessionDescription>(reparsed));
      g_sink = g_sink + ok->second.media.size();
    } else {
      g_sink = g_sink + std::get<sdp::AnswerError>(answer).error.size();
    }
  }
  return 0;
}

}  // namespace strata::fuzz
