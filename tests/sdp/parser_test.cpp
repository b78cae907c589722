#include <gtest/gtest.h>

#include "sdp/session_description.hpp"
#include "test_util.hpp"

namespace strata::sdp {
namespace {

using testing::offer_files;
using testing::parse_ok;
using testing::read_sdp;

class EveryFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFixture, ParsesWithMidsAndTransport) {
  SessionDescription s = parse_ok(read_sdp(GetParam()));
  ASSERT_GE(s.media.size(), 2u);
  ASSERT_NE(s.find_group("BUNDLE"), nullptr);
  for (const auto& m : s.media) {
    EXPECT_FALSE(m.mid.empty());
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_FALSE(m.payloads.empty());
    bool has_ufrag = m.transport.ice_ufrag || s.transport.ice_ufrag;
    bool has_fp = !m.transport.fingerprints.empty() || !s.transport.fingerprints.empty();
    EXPECT_TRUE(has_ufrag && has_fp) << m.mid;
  }
}

TEST_P(EveryFixture, SerializeRoundTripKeepsModel) {
  SessionDescription a = parse_ok(read_sdp(GetParam()));
  SessionDescription b = parse_ok(serialize(a));
  ASSERT_EQ(a.media.size(), b.media.size());
  EXPECT_EQ(serialize(a), serialize(b));
  for (size_t i = 0; i < a.media.size(); ++i) {
    EXPECT_EQ(a.media[i].payloads.size(), b.media[i].payloads.size());
    EXPECT_EQ(a.media[i].candidates.size(), b.media[i].candidates.size());
    EXPECT_EQ(a.media[i].rids.size(), b.media[i].rids.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Sdp, EveryFixture,
                         ::testing::Values("aiortc14-publish-offer.sdp", "aiortc14-view-offer.sdp",
                                           "chrome156-publish-gathered-offer.sdp",
                                           "chrome156-simulcast-av1-l1t3-offer.sdp",
                                           "chrome156-simulcast-h264-offer.sdp",
                                           "chrome156-simulcast-vp8-offer.sdp",
                                           "chrome156-simulcast-vp9-l1t3-offer.sdp",
                                           "chrome156-view-recvonly-offer.sdp",
                                           "gstreamer122-webrtcbin-offer.sdp", "janus112-streaming-offer.sdp",
                                           "janus112-videoroom-simulcast-answer.sdp"));

TEST(SdpParse, FixtureListMatchesDirectory) { EXPECT_EQ(offer_files().size(), 10u); }

TEST(SdpParse, AiortcPublishDetails) {
  SessionDescription s = parse_ok(read_sdp("aiortc14-publish-offer.sdp"));
  const MediaDescription& v = s.media[0];
  EXPECT_EQ(v.kind, MediaKind::kVideo);
  EXPECT_EQ(v.port, 48367);
  EXPECT_EQ(v.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(v.direction, Direction::kSendOnly);
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{897428465u, 2521062370u}));
  ASSERT_EQ(v.ssrcs.size(), 2u);
  EXPECT_EQ(v.ssrcs[0].cname, "e1dac410-9356-4f5d-abc6-2eb542fdc37a");
  ASSERT_EQ(v.candidates.size(), 2u);
  EXPECT_EQ(v.candidates[1].address, "fd00::2");
  EXPECT_EQ(v.candidates[1].port, 47844);
  EXPECT_EQ(v.candidates[0].priority, 2130706431u);
  EXPECT_TRUE(v.end_of_candidates);
  EXPECT_EQ(v.transport.ice_ufrag, "XXV1");
  ASSERT_EQ(v.transport.fingerprints.size(), 1u);
  EXPECT_EQ(v.transport.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(v.transport.fingerprints[0].value.size(), 32u);
  EXPECT_EQ(v.transport.fingerprints[0].value[0], 0x8D);
  EXPECT_EQ(v.transport.setup, SetupRole::kActPass);
  const PayloadFormat* h264 = v.find_payload(101);
  ASSERT_NE(h264, nullptr);
  EXPECT_EQ(h264->name, "H264");
  EXPECT_EQ(h264->clock_rate, 90000u);
  EXPECT_EQ(h264->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  ASSERT_EQ(h264->feedback.size(), 3u);
  EXPECT_EQ(h264->feedback[1].type, "nack");
  EXPECT_EQ(h264->feedback[1].parameter, "pli");
  ASSERT_EQ(v.msids.size(), 1u);
  EXPECT_EQ(v.msids[0].track_id, "11b58fac-1a10-46e7-9636-64e97ba9c68c");
  const MediaDescription& a = s.media[1];
  const PayloadFormat* pcmu = a.find_payload(0);  // static payload type, has an rtpmap here
  ASSERT_NE(pcmu, nullptr);
  EXPECT_EQ(pcmu->name, "PCMU");
  EXPECT_EQ(a.find_payload(96)->channels, 2);
  EXPECT_EQ(s.msid_semantic, "WMS *");
}

TEST(SdpParse, ChromeSimulcastRidsAndExtmaps) {
  SessionDescription s = parse_ok(read_sdp("chrome156-simulcast-vp8-offer.sdp"));
  const MediaDescription& v = s.media[0];
  ASSERT_EQ(v.rids.size(), 3u);
  EXPECT_EQ(v.rids[0].id, "q");
  EXPECT_EQ(v.rids[2].direction, RidDirection::kSend);
  ASSERT_TRUE(v.simulcast);
  ASSERT_EQ(v.simulcast->send.size(), 3u);
  EXPECT_EQ(v.simulcast->send[1][0].rid, "h");
  EXPECT_TRUE(v.simulcast->recv.empty());
  const ExtMap* rid = v.find_extmap("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
  ASSERT_NE(rid, nullptr);
  EXPECT_EQ(rid->id, 10);
  EXPECT_TRUE(s.extmap_allow_mixed);
  EXPECT_TRUE(v.rtcp_rsize);
  EXPECT_EQ(v.port, 9);
  // Unknown attributes are kept verbatim.
  bool has_xr = false;
  for (const auto& a : v.attributes) has_xr |= a.name == "rtcp-xr" && a.value == "rcvr-rtt=all";
  EXPECT_TRUE(has_xr);
}

TEST(SdpParse, GStreamerBundleOnlyPortZero) {
  SessionDescription s = parse_ok(read_sdp("gstreamer122-webrtcbin-offer.sdp"));
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media[1].port, 0);
  EXPECT_TRUE(s.media[1].bundle_only);
  EXPECT_TRUE(s.media[1].rtcp_mux_only);
  EXPECT_EQ(s.media[1].payloads[0].name, "OPUS");
  EXPECT_EQ(s.media[0].direction, Direction::kSendRecv);
  EXPECT_EQ(s.find_group("bundle")->mids, (std::vector<std::string>{"video0", "audio1"}));
  EXPECT_EQ(s.media[0].ssrcs[0].msid, "user1230822594@host-ba99b2cf webrtctransceiver0");
  EXPECT_EQ(s.transport.ice_options, (std::vector<std::string>{"trickle"}));
}

TEST(SdpParse, JanusSessionLevelFingerprintAndAnswer) {
  SessionDescription s = parse_ok(read_sdp("janus112-streaming-offer.sdp"));
  EXPECT_EQ(s.transport.fingerprints.size(), 1u);
  EXPECT_TRUE(s.media[0].transport.fingerprints.empty());
  EXPECT_EQ(s.media[0].transport.ice_pwd, "i7cHLFlZzNEj9FEmZwitq1");
  EXPECT_EQ(s.session_name, "Mountpoint 1");
  SessionDescription answer = parse_ok(read_sdp("janus112-videoroom-simulcast-answer.sdp"));
  EXPECT_EQ(answer.media[0].transport.setup, SetupRole::kActive);
  ASSERT_TRUE(answer.media[0].simulcast);
  EXPECT_EQ(answer.media[0].simulcast->recv.size(), 3u);
  EXPECT_EQ(answer.media[0].rids[0].direction, RidDirection::kRecv);
}

TEST(SdpParse, LfAndCrlfGiveTheSameResult) {
  std::string crlf = read_sdp("chrome156-view-recvonly-offer.sdp");
  std::string lf;
  for (char c : crlf)
    if (c != '\r') lf.push_back(c);
  EXPECT_EQ(serialize(parse_ok(crlf)), serialize(parse_ok(lf)));
}

constexpr const char* kMinimal =
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

TEST(SdpParse, SimulcastAlternativesPausedAndRidParams) {
  SessionDescription s = parse_ok(std::string(kMinimal) +
                                  "a=rid:a send pt=96;max-width=1280\r\na=rid:b send\r\na=rid:c send\r\n"
                                  "a=simulcast:send a,b;~c recv x\r\na=extmap:3/recvonly urn:x attr\r\n"
                                  "a=rtcp-fb:* nack\r\na=ssrc:5 label:foo\r\n");
  const MediaDescription& m = s.media[0];
  EXPECT_EQ(m.rids[0].payload_types, (std::vector<uint8_t>{96}));
  EXPECT_EQ(m.rids[0].params, "pt=96;max-width=1280");
  ASSERT_EQ(m.simulcast->send.size(), 2u);
  EXPECT_EQ(m.simulcast->send[0].size(), 2u);
  EXPECT_EQ(m.simulcast->send[0][1].rid, "b");
  EXPECT_TRUE(m.simulcast->send[1][0].paused);
  EXPECT_EQ(m.simulcast->recv[0][0].rid, "x");
  EXPECT_EQ(m.extmaps[0].direction, Direction::kRecvOnly);
  EXPECT_EQ(m.extmaps[0].attributes, "attr");
  EXPECT_EQ(m.feedback_all.size(), 1u);
  EXPECT_EQ(m.ssrcs[0].other[0].first, "label");
  EXPECT_NE(serialize(s).find("a=simulcast:send a,b;~c recv x"), std::string::npos);
}

struct BadCase {
  const char* name;
  std::string text;
  const char* expect_in_detail;
};

class MalformedSdp : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedSdp, RejectedWithClearDetail) {
  auto r = parse(GetParam().text);
  ASSERT_TRUE(std::holds_alternative<ParseError>(r));
  EXPECT_NE(std::get<ParseError>(r).detail.find(GetParam().expect_in_detail), std::string::npos)
      << std::get<ParseError>(r).detail;
}

const std::string kHead = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

INSTANTIATE_TEST_SUITE_P(
    Sdp, MalformedSdp,
    ::testing::Values(
        BadCase{"Empty", "", "empty SDP"}, BadCase{"OnlyBlankLines", "\r\n\n  \n", "empty SDP"},
        BadCase{"Garbage", "hello world", "line 1"}, BadCase{"Binary", std::string("\x01\x02\x00z", 4), "line 1"},
        BadCase{"WrongVersion", "v=1\r\n", "v=0"}, BadCase{"NoVersionFirst", "o=- 1 1 IN IP4 0.0.0.0\r\n", "v=0"},
        BadCase{"MissingOrigin", "v=0\r\ns=-\r\n", "missing o="},
        BadCase{"ShortOrigin", "v=0\r\no=- 1\r\n", "o= needs 6"},
        BadCase{"UpperCaseType", kHead + "A=foo\r\n", "line 5"},
        BadCase{"MediaNoFormats", kHead + "m=video 9 UDP/TLS/RTP/SAVPF\r\n", "m="},
        BadCase{"MediaBadPort", kHead + "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n", "port"},
        BadCase{"MediaBadPt", kHead + "m=video 9 UDP/TLS/RTP/SAVPF 200\r\n", "payload type"},
        BadCase{"BadRtpmap", kHead + "m=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8\r\n", "rtpmap"},
        BadCase{"BadRtpmapClock", kHead + "m=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8/x\r\n", "clock"},
        BadCase{"ExtmapIdZero", kHead + "m=video 9 RTP/SAVPF 96\r\na=extmap:0 urn:x\r\n", "extmap"},
        BadCase{"ShortCandidate", kHead + "m=video 9 RTP/SAVPF 96\r\na=candidate:1 1 udp 5\r\n", "candidate"},
        BadCase{"BadFingerprint", kHead + "a=fingerprint:sha-256 ZZ:00\r\n", "fingerprint"},
        BadCase{"BadSetup", kHead + "a=setup:sideways\r\n", "setup"},
        BadCase{"BadSsrc", kHead + "m=video 9 RTP/SAVPF 96\r\na=ssrc:abc cname:x\r\n", "ssrc"},
        BadCase{"BadRidDirection", kHead + "m=video 9 RTP/SAVPF 96\r\na=rid:q both\r\n", "rid"},
        BadCase{"BadSimulcast", kHead + "m=video 9 RTP/SAVPF 96\r\na=simulcast:sideways q\r\n", "simulcast"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace strata::sdp
