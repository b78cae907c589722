#include "sdp/answer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "sdp/codecs.hpp"
#include "test_util.hpp"

namespace strata::sdp {
namespace {

using testing::drop_lines;
using testing::parse_ok;
using testing::read_sdp;

const char* kOurFingerprint =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

SendTrack opus_track() {
  return SendTrack{MediaKind::kAudio, 1111, 0, "strata", "stream1", "audio1", Codec{"opus", 48000, 2, "minptime=10;useinbandfec=1"}};
}
SendTrack video_track(Codec codec) {
  return SendTrack{MediaKind::kVideo, 2222, 3333, "strata", "stream1", "video1", std::move(codec)};
}
Codec vp8() { return Codec{"VP8", 90000, 0, ""}; }

AnswerOptions options(AnswerMode mode, std::vector<SendTrack> tracks = {}) {
  AnswerOptions o;
  o.mode = mode;
  o.ice_ufrag = "srvU";
  o.ice_pwd = "serverpasswordserverpass";
  o.fingerprint_sha256 = kOurFingerprint;
  o.candidates = {Candidate{"203.0.113.5", 8443, 2130706431, "1"}, Candidate{"2001:db8::5", 8443, 2130706175, "2"}};
  o.send_tracks = std::move(tracks);
  o.session_id = "42";
  return o;
}

AnswerOptions send_options() { return options(AnswerMode::kSend, {opus_track(), video_track(vp8())}); }

std::pair<std::string, Negotiated> answer_ok(const std::string& offer_text, const AnswerOptions& opts) {
  auto r = create_answer(parse_ok(offer_text), opts);
  if (auto* e = std::get_if<AnswerError>(&r)) ADD_FAILURE() << e->error << ": " << e->detail;
  auto* ok = std::get_if<std::pair<std::string, Negotiated>>(&r);
  return ok ? *ok : std::pair<std::string, Negotiated>{};
}

AnswerError answer_error(const std::string& offer_text, const AnswerOptions& opts) {
  auto r = create_answer(parse_ok(offer_text), opts);
  EXPECT_TRUE(std::holds_alternative<AnswerError>(r));
  auto* e = std::get_if<AnswerError>(&r);
  return e ? *e : AnswerError{};
}

struct AnswerCase {
  const char* file;
  AnswerMode mode;
  const char* video_codec;  // expected primary codec names
  const char* audio_codec;
  uint8_t video_pt;
  size_t rid_count;
};

void PrintTo(const AnswerCase& c, std::ostream* os) { *os << c.file; }

class AnswerEveryOffer : public ::testing::TestWithParam<AnswerCase> {};

// Properties every answer must have, checked on the re-parsed answer text.
void check_answer_invariants(const SessionDescription& offer, const SessionDescription& answer,
                             const Negotiated& neg, AnswerMode mode) {
  EXPECT_TRUE(answer.ice_lite);
  ASSERT_EQ(answer.media.size(), offer.media.size());
  ASSERT_EQ(neg.media.size(), offer.media.size());
  const Group* bundle = answer.find_group("BUNDLE");
  ASSERT_NE(bundle, nullptr);
  std::vector<std::string> accepted;
  for (size_t i = 0; i < answer.media.size(); ++i) {
    const MediaDescription& a = answer.media[i];
    EXPECT_EQ(a.mid, offer.media[i].mid) << "mids keep offer order";
    EXPECT_EQ(neg.media[i].rejected, a.port == 0);
    if (a.port == 0) continue;
    accepted.push_back(a.mid);
    EXPECT_EQ(a.direction, mode == AnswerMode::kReceive ? Direction::kRecvOnly : Direction::kSendOnly);
    EXPECT_TRUE(a.rtcp_mux);
    EXPECT_EQ(a.transport.setup, SetupRole::kPassive);
    EXPECT_EQ(a.transport.ice_ufrag, "srvU");
    ASSERT_EQ(a.transport.fingerprints.size(), 1u);
    EXPECT_EQ(a.transport.fingerprints[0].value.size(), 32u);
    ASSERT_EQ(a.candidates.size(), 2u);
    EXPECT_EQ(a.candidates[0].address, "203.0.113.5");
    EXPECT_EQ(a.candidates[0].type, "host");
    EXPECT_TRUE(a.end_of_candidates);
    EXPECT_FALSE(a.payloads.empty());
    const PayloadFormat* primary = a.find_payload(neg.media[i].codecs[0].payload_type);
    ASSERT_NE(primary, nullptr);
    EXPECT_NE(offer.media[i].find_payload(primary->payload_type), nullptr) << "payload type comes from the offer";
    for (const auto& fb : primary->feedback) EXPECT_NE(fb.type, "unknown");
    if (mode == AnswerMode::kSend) {
      ASSERT_FALSE(a.ssrcs.empty());
      EXPECT_EQ(a.ssrcs[0].cname, "strata");
      ASSERT_EQ(a.msids.size(), 1u);
      EXPECT_EQ(a.msids[0].stream_id, "stream1");
    }
  }
  EXPECT_EQ(bundle->mids, accepted);
  EXPECT_FALSE(accepted.empty());
  EXPECT_EQ(neg.our_setup, Negotiated::Setup::kPassive);
  EXPECT_FALSE(neg.remote_ufrag.empty());
  EXPECT_EQ(neg.remote_fingerprint_algorithm, "sha-256");
  EXPECT_EQ(neg.remote_fingerprint.size(), 32u);
}

TEST_P(AnswerEveryOffer, AnswerIsValidAndPicksExpectedCodecs) {
  const AnswerCase& c = GetParam();
  std::string offer_text = read_sdp(c.file);
  SessionDescription offer = parse_ok(offer_text);
  AnswerOptions opts = c.mode == AnswerMode::kReceive ? options(AnswerMode::kReceive) : send_options();
  auto [text, neg] = answer_ok(offer_text, opts);
  ASSERT_FALSE(text.empty());
  SessionDescription answer = parse_ok(text);
  check_answer_invariants(offer, answer, neg, c.mode);
  for (size_t i = 0; i < neg.media.size(); ++i) {
    const NegotiatedMedia& m = neg.media[i];
    ASSERT_FALSE(m.rejected) << m.mid << ": " << m.reject_reason;
    const char* expected = m.kind == MediaKind::kVideo ? c.video_codec : c.audio_codec;
    EXPECT_TRUE(strcasecmp(m.codecs[0].name.c_str(), expected) == 0) << m.codecs[0].name;
    bool offers_mid_ext = offer.media[i].find_extmap(kExtMid) != nullptr;  // GStreamer does not
    EXPECT_EQ(m.extensions.mid != 0, offers_mid_ext);
    if (m.kind != MediaKind::kVideo) continue;
    EXPECT_EQ(m.codecs[0].payload_type, c.video_pt);
    EXPECT_EQ(m.rids.size(), c.rid_count);
    if (c.rid_count) {
      EXPECT_EQ(m.rids, (std::vector<std::string>{"q", "h", "f"}));
      ASSERT_TRUE(answer.media[i].simulcast);
      EXPECT_EQ(answer.media[i].simulcast->recv.size(), 3u);
      EXPECT_EQ(answer.media[i].rids[0].direction, RidDirection::kRecv);
      EXPECT_NE(text.find("a=simulcast:recv q;h;f\r\n"), std::string::npos);
      EXPECT_NE(text.find("a=rid:q recv\r\n"), std::string::npos);
      EXPECT_EQ(m.extensions.rid, 10);
      EXPECT_EQ(m.extensions.repaired_rid, 11);
    }
  }
  EXPECT_NE(text.find("a=ice-lite\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=candidate:1 1 udp 2130706431 203.0.113.5 8443 typ host\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=end-of-candidates\r\n"), std::string::npos);
}

// GStreamer offers sendrecv, so it is answered in both modes.
INSTANTIATE_TEST_SUITE_P(
    Sdp, AnswerEveryOffer,
    ::testing::Values(AnswerCase{"aiortc14-publish-offer.sdp", AnswerMode::kReceive, "VP8", "opus", 97, 0},
                      AnswerCase{"aiortc14-view-offer.sdp", AnswerMode::kSend, "VP8", "opus", 97, 0},
                      AnswerCase{"chrome156-publish-gathered-offer.sdp", AnswerMode::kReceive, "VP8", "opus", 96, 0},
                      AnswerCase{"chrome156-simulcast-vp8-offer.sdp", AnswerMode::kReceive, "VP8", "opus", 96, 3},
                      AnswerCase{"chrome156-simulcast-h264-offer.sdp", AnswerMode::kReceive, "H264", "opus", 108, 3},
                      AnswerCase{"chrome156-simulcast-vp9-l1t3-offer.sdp", AnswerMode::kReceive, "VP9", "opus", 98, 3},
                      AnswerCase{"chrome156-simulcast-av1-l1t3-offer.sdp", AnswerMode::kReceive, "AV1", "opus", 45, 3},
                      AnswerCase{"chrome156-view-recvonly-offer.sdp", AnswerMode::kSend, "VP8", "opus", 96, 0},
                      AnswerCase{"gstreamer122-webrtcbin-offer.sdp", AnswerMode::kReceive, "VP8", "OPUS", 96, 0},
                      AnswerCase{"gstreamer122-webrtcbin-offer.sdp", AnswerMode::kSend, "VP8", "OPUS", 96, 0},
                      AnswerCase{"janus112-streaming-offer.sdp", AnswerMode::kReceive, "VP8", "opus", 96, 0}),
    [](const auto& info) {
      std::string n = std::string(info.param.file).substr(0, std::string(info.param.file).find("-offer"));
      n += info.param.mode == AnswerMode::kReceive ? "_receive" : "_send";
      for (char& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(SdpAnswer, EveryOfferFixtureIsCovered) { EXPECT_EQ(testing::offer_files().size(), 10u); }

TEST(SdpAnswer, ChromePublishGatheredPicksVp8AndOpusWithRtx) {
  auto [text, neg] = answer_ok(read_sdp("chrome156-publish-gathered-offer.sdp"), options(AnswerMode::kReceive));
  const NegotiatedMedia& audio = neg.media[0];
  const NegotiatedMedia& video = neg.media[1];
  EXPECT_EQ(audio.codecs[0].payload_type, 111);
  EXPECT_EQ(audio.codecs[0].fmtp, "minptime=10;useinbandfec=1");
  EXPECT_TRUE(audio.codecs[0].transport_cc);
  EXPECT_EQ(audio.extensions.audio_level, 1);
  EXPECT_EQ(audio.extensions.mid, 4);
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[0].rtx_payload_type, 97);
  EXPECT_TRUE(video.codecs[0].nack && video.codecs[0].nack_pli && video.codecs[0].ccm_fir);
  EXPECT_TRUE(video.codecs[0].goog_remb && video.codecs[0].transport_cc);
  EXPECT_EQ(video.extensions.transport_cc, 3);
  EXPECT_EQ(video.extensions.abs_send_time, 2);
  EXPECT_EQ(video.extensions.audio_level, 0);
  EXPECT_EQ(video.extensions.rid, 0) << "no simulcast: rid not negotiated";
  EXPECT_EQ(video.remote_ssrcs, (std::vector<uint32_t>{4224757013u}));
  EXPECT_EQ(video.remote_rtx_ssrc, 4152758052u);
  EXPECT_EQ(video.remote_track_id, "cb554c30-1b86-48d0-a01b-c6a4ede3bed9");
  EXPECT_TRUE(video.rtcp_rsize);
  EXPECT_NE(text.find("a=rtcp-rsize"), std::string::npos);
  EXPECT_NE(text.find("m=video 8443 UDP/TLS/RTP/SAVPF 96 97\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=fmtp:97 apt=96\r\n"), std::string::npos);
  EXPECT_EQ(text.find("toffset"), std::string::npos) << "unsupported extmaps are not echoed";
  EXPECT_EQ(text.find("red/"), std::string::npos);
}

TEST(SdpAnswer, H264SimulcastKeepsPacketizationModeOneAndLevelAsymmetry) {
  auto [text, neg] = answer_ok(read_sdp("chrome156-simulcast-h264-offer.sdp"), options(AnswerMode::kReceive));
  const NegotiatedCodec& c = neg.media[0].codecs[0];
  EXPECT_EQ(h264_packetization_mode(c.fmtp), 1);
  EXPECT_EQ(h264_profile(c.fmtp), H264Profile::kConstrainedBaseline);
  EXPECT_EQ(fmtp_value(c.fmtp, "level-asymmetry-allowed"), "1");
  EXPECT_EQ(c.rtx_payload_type, 109);
}

TEST(SdpAnswer, SendModeWritesOurSsrcsAndUsesViewerPayloadTypes) {
  auto [text, neg] = answer_ok(read_sdp("chrome156-view-recvonly-offer.sdp"), send_options());
  EXPECT_NE(text.find("a=ssrc-group:FID 2222 3333\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ssrc:2222 cname:strata\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ssrc:3333 msid:stream1 video1\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=msid:stream1 audio1\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ssrc:1111 cname:strata\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=sendonly"), std::string::npos);
  EXPECT_EQ(neg.media[0].send_track->ssrc, 2222u);
  EXPECT_EQ(neg.media[0].codecs[0].rtx_payload_type, 97);
  EXPECT_EQ(neg.media[1].send_track->ssrc, 1111u);
  EXPECT_FALSE(neg.media[1].codecs[0].rtx_payload_type) << "audio track has no rtx ssrc";
}

struct SendCodecCase {
  const char* name;
  Codec codec;
  uint8_t expected_pt;  // 0 = video rejected
};

class SendCodecMatch : public ::testing::TestWithParam<SendCodecCase> {};

TEST_P(SendCodecMatch, PicksViewerPayloadTypeForProducerCodec) {
  const SendCodecCase& c = GetParam();
  auto r = create_answer(parse_ok(read_sdp("chrome156-view-recvonly-offer.sdp")),
                         options(AnswerMode::kSend, {opus_track(), video_track(c.codec)}));
  auto& [text, neg] = std::get<std::pair<std::string, Negotiated>>(r);
  if (c.expected_pt == 0) {
    EXPECT_TRUE(neg.media[0].rejected);
    EXPECT_NE(text.find("m=video 0 "), std::string::npos);
    EXPECT_FALSE(neg.media[1].rejected);
    return;
  }
  ASSERT_FALSE(neg.media[0].rejected) << neg.media[0].reject_reason;
  EXPECT_EQ(neg.media[0].codecs[0].payload_type, c.expected_pt);
}

INSTANTIATE_TEST_SUITE_P(
    Sdp, SendCodecMatch,
    ::testing::Values(
        SendCodecCase{"Vp8", {"VP8", 90000, 0, ""}, 96},
        SendCodecCase{"Vp9Profile0", {"VP9", 90000, 0, "profile-id=0"}, 98},
        SendCodecCase{"Vp9Profile2", {"VP9", 90000, 0, "profile-id=2"}, 100},
        SendCodecCase{"Av1", {"AV1", 90000, 0, "level-idx=5;profile=0;tier=0"}, 45},
        SendCodecCase{"H264ConstrainedBaselineExact", {"H264", 90000, 0, "packetization-mode=1;profile-level-id=42e01f"}, 108},
        SendCodecCase{"H264BaselineExact", {"H264", 90000, 0, "packetization-mode=1;profile-level-id=42001f"}, 102},
        SendCodecCase{"H264Main", {"H264", 90000, 0, "packetization-mode=1;profile-level-id=4d001f"}, 116},
        SendCodecCase{"H265NotOffered", {"H265", 90000, 0, ""}, 0},
        SendCodecCase{"WrongClock", {"VP8", 48000, 0, ""}, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpAnswer, OfferPassiveMakesUsActive) {
  std::string offer = read_sdp("aiortc14-publish-offer.sdp");
  for (size_t at; (at = offer.find("a=setup:actpass")) != std::string::npos;) offer.replace(at, 15, "a=setup:passive");
  auto [text, neg] = answer_ok(offer, options(AnswerMode::kReceive));
  EXPECT_EQ(neg.our_setup, Negotiated::Setup::kActive);
  EXPECT_NE(text.find("a=setup:active\r\n"), std::string::npos);
}

TEST(SdpAnswer, ApplicationAndUnsupportedMediaRejectedInPlace) {
  std::string offer = read_sdp("chrome156-publish-gathered-offer.sdp");
  offer.replace(offer.find("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0 1 2");
  offer += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sctp-port:5000\r\n";
  auto [text, neg] = answer_ok(offer, options(AnswerMode::kReceive));
  ASSERT_EQ(neg.media.size(), 3u);
  EXPECT_TRUE(neg.media[2].rejected);
  SessionDescription answer = parse_ok(text);
  EXPECT_EQ(answer.media[2].port, 0);
  EXPECT_EQ(answer.media[2].mid, "2");
  EXPECT_EQ(answer.media[2].formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(answer.find_group("BUNDLE")->mids, (std::vector<std::string>{"0", "1"}));
}

TEST(SdpAnswer, PortZeroWithoutBundleOnlyIsRejected) {
  std::string offer = drop_lines(read_sdp("gstreamer122-webrtcbin-offer.sdp"), "a=bundle-only");
  auto [text, neg] = answer_ok(offer, options(AnswerMode::kReceive));
  EXPECT_FALSE(neg.media[0].rejected);
  EXPECT_TRUE(neg.media[1].rejected);
  EXPECT_EQ(parse_ok(text).find_group("BUNDLE")->mids, (std::vector<std::string>{"video0"}));
}

TEST(SdpAnswer, ReceiveModeRejectsRecvonlyMLines) {
  auto e = answer_error(read_sdp("chrome156-view-recvonly-offer.sdp"), options(AnswerMode::kReceive));
  EXPECT_EQ(e.http_status, 406);
  EXPECT_EQ(e.error, "no-common-codec");
  EXPECT_NE(e.detail.find("does not send"), std::string::npos);
}

struct ErrorCase {
  const char* name;
  std::string offer;
  AnswerMode mode;
  int status;
  const char* error;
  const char* detail_contains;
};

class AnswerErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(AnswerErrors, ClearErrorForUnacceptableOffer) {
  const ErrorCase& c = GetParam();
  AnswerOptions opts = c.mode == AnswerMode::kReceive ? options(c.mode) : send_options();
  AnswerError e = answer_error(c.offer, opts);
  EXPECT_EQ(e.http_status, c.status);
  EXPECT_EQ(e.error, c.error);
  EXPECT_NE(e.detail.find(c.detail_contains), std::string::npos) << e.detail;
}

std::string only_unsupported_codecs() {
  return "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
         "a=fingerprint:sha-256 " + std::string(kOurFingerprint) + "\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 0 8 9\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n"
         "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=0;profile-level-id=42e01f\r\n"
         "a=rtpmap:97 H265/90000\r\n";
}

std::string remove_first(std::string s, const std::string& what) {
  s.erase(s.find(what), what.size());
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Sdp, AnswerErrors,
    ::testing::Values(
        ErrorCase{"MissingBundle", drop_lines(read_sdp("chrome156-simulcast-vp8-offer.sdp"), "a=group:"),
                  AnswerMode::kReceive, 400, "bundle-required", "BUNDLE"},
        ErrorCase{"MissingRtcpMux", remove_first(read_sdp("aiortc14-publish-offer.sdp"), "a=rtcp-mux\r\n"),
                  AnswerMode::kReceive, 400, "rtcp-mux-required", "mid 0"},
        ErrorCase{"MissingFingerprint", drop_lines(read_sdp("janus112-streaming-offer.sdp"), "a=fingerprint"),
                  AnswerMode::kReceive, 400, "fingerprint-required", "fingerprint"},
        ErrorCase{"MissingIceCredentials", drop_lines(read_sdp("janus112-streaming-offer.sdp"), "a=ice-ufrag"),
                  AnswerMode::kReceive, 400, "ice-credentials-required", "ice-ufrag"},
        ErrorCase{"MissingMid", drop_lines(read_sdp("aiortc14-view-offer.sdp"), "a=mid:"), AnswerMode::kSend, 400,
                  "mid-required", "m-line 0"},
        ErrorCase{"OnlyUnsupportedCodecs", only_unsupported_codecs(), AnswerMode::kReceive, 406,
                  "no-common-codec", "no supported codec"},
        ErrorCase{"SendModeToPublisher", read_sdp("aiortc14-publish-offer.sdp"), AnswerMode::kSend, 406,
                  "no-common-codec", "does not receive"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpAnswer, SendModeWithoutTracksIsNoCommonCodec) {
  auto e = answer_error(read_sdp("aiortc14-view-offer.sdp"), options(AnswerMode::kSend));
  EXPECT_EQ(e.error, "no-common-codec");
  EXPECT_NE(e.detail.find("no track to send"), std::string::npos);
}

TEST(SdpAnswer, BadLocalFingerprintIsReported) {
  AnswerOptions opts = options(AnswerMode::kReceive);
  opts.fingerprint_sha256 = "AB:CD";
  auto e = answer_error(read_sdp("aiortc14-publish-offer.sdp"), opts);
  EXPECT_EQ(e.http_status, 500);
}

TEST(SdpCodecs, H264ProfileTable) {
  EXPECT_EQ(h264_profile("profile-level-id=42e01f"), H264Profile::kConstrainedBaseline);
  EXPECT_EQ(h264_profile("profile-level-id=42001f"), H264Profile::kBaseline);
  EXPECT_EQ(h264_profile("profile-level-id=4d001f"), H264Profile::kMain);
  EXPECT_EQ(h264_profile("profile-level-id=640c1f"), H264Profile::kConstrainedHigh);
  EXPECT_EQ(h264_profile("profile-level-id=64001f"), H264Profile::kHigh);
  EXPECT_EQ(h264_profile("profile-level-id=f4001f"), H264Profile::kOther);
  EXPECT_EQ(h264_profile(""), H264Profile::kBaseline);
  EXPECT_EQ(h264_profile("profile-level-id=zz"), std::nullopt);
  EXPECT_EQ(h264_packetization_mode("packetization-mode=1"), 1);
  EXPECT_EQ(h264_packetization_mode("x=1"), 0);
  EXPECT_EQ(fmtp_value(" a = 1 ; B=2", "b"), "2");
}

}  // namespace
}  // namespace strata::sdp
