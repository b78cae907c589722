// Robustness: parse() and create_answer() must never crash or read out of bounds on
// random bytes, truncations or mutations of real offers (run under ASan in CI builds).
#include <gtest/gtest.h>

#include <random>

#include "sdp/answer.hpp"
#include "test_util.hpp"

namespace strata::sdp {
namespace {

AnswerOptions fuzz_options(AnswerMode mode) {
  AnswerOptions o;
  o.mode = mode;
  o.ice_ufrag = "u";
  o.ice_pwd = "p";
  o.fingerprint_sha256 =
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
  o.candidates = {Candidate{"10.0.0.1", 5000, 1, "1"}};
  o.send_tracks = {SendTrack{MediaKind::kVideo, 1, 2, "c", "s", "t", Codec{"VP8", 90000, 0, ""}},
                   SendTrack{MediaKind::kAudio, 3, 0, "c", "s", "a", Codec{"opus", 48000, 2, ""}}};
  return o;
}

// Parses and, when that succeeds, answers in both modes; answers must re-parse.
void exercise(std::string_view text) {
  auto r = parse(text);
  auto* s = std::get_if<SessionDescription>(&r);
  if (!s) {
    EXPECT_FALSE(std::get<ParseError>(r).detail.empty());
    return;
  }
  (void)serialize(*s);
  for (AnswerMode mode : {AnswerMode::kReceive, AnswerMode::kSend}) {
    auto a = create_answer(*s, fuzz_options(mode));
    if (auto* ok = std::get_if<std::pair<std::string, Negotiated>>(&a)) {
      EXPECT_TRUE(std::holds_alternative<SessionDescription>(parse(ok->first))) << ok->first;
    }
  }
}

TEST(SdpFuzz, RandomBytes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = char(rng());
    exercise(s);
  }
}

TEST(SdpFuzz, RandomSdpLikeLines) {
  static const char* kPieces[] = {"v=0", "o=- 1 1 IN IP4 0.0.0.0", "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
                                  "m=audio 0 RTP/SAVPF 111", "a=rtpmap:96 VP8/90000", "a=rtpmap:111 opus/48000/2",
                                  "a=fmtp:97 apt=96", "a=rtpmap:97 rtx/90000", "a=mid:", "a=mid:0", "a=mid:1",
                                  "a=group:BUNDLE 0 1", "a=group:BUNDLE", "a=rtcp-mux", "a=bundle-only",
                                  "a=rid:q send", "a=simulcast:send q;~h", "a=simulcast:", "a=ssrc-group:FID 1",
                                  "a=ssrc:1 msid:", "a=ssrc:1 msid: ", "a=candidate:1 1 udp 1 1.2.3.4 5 typ host",
                                  "a=fingerprint:sha-256 AA:BB", "a=ice-ufrag:x", "a=ice-pwd:y", "a=setup:passive",
                                  "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid", "a=sendonly", "a=recvonly",
                                  "a=rtcp-fb:* nack", "a=rtcp-fb:96", "a=", "a=:", "x", "", "m=", "a=msid: "};
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n";
    int lines = int(rng() % 30);
    for (int j = 0; j < lines; ++j) s += std::string(kPieces[rng() % std::size(kPieces)]) + (rng() % 2 ? "\r\n" : "\n");
    exercise(s);
  }
}

TEST(SdpFuzz, TruncatedAndMutatedRealOffers) {
  std::mt19937 rng(7);
  for (const std::string& name : testing::offer_files()) {
    std::string offer = testing::read_sdp(name);
    for (size_t len = 0; len < offer.size(); len += 1 + offer.size() / 150) exercise(offer.substr(0, len));
    for (int i = 0; i < 100; ++i) {
      std::string mutated = offer;
      for (int k = 0; k < 4; ++k) mutated[rng() % mutated.size()] = char(rng());
      exercise(mutated);
    }
  }
}

}  // namespace
}  // namespace strata::sdp
