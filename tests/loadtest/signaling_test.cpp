#include "loadtest/signaling.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dtls/certificate.hpp"
#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"

namespace strata::loadtest {
namespace {

LocalEndpoint local() {
  LocalEndpoint l;
  l.ufrag = "abcd";
  l.pwd = "0123456789012345678901";
  l.fingerprint_sha256 = dtls::Certificate::generate()->fingerprint_sha256();
  l.address = *SocketAddress::parse("127.0.0.1:40000");
  return l;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The server's own answer code accepts our offers: a viewer's and a host's, with and
// without simulcast.
TEST(SignalingTest, ServerAnswersOurViewOffer) {
  auto offer = std::get<sdp::SessionDescription>(sdp::parse(build_view_offer(local())));
  sdp::AnswerOptions opts;
  opts.mode = sdp::AnswerMode::kSend;
  opts.ice_ufrag = "srv1";
  opts.ice_pwd = "serverpasswordserverpw";
  opts.fingerprint_sha256 = dtls::Certificate::generate()->fingerprint_sha256();
  opts.candidates.push_back({"127.0.0.1", 5000, 1, "1"});
  opts.send_tracks.push_back({sdp::MediaKind::kVideo, 1111, 2222, "c", "s", "v", {"VP8", 90000, 0, ""}});
  opts.send_tracks.push_back({sdp::MediaKind::kAudio, 3333, 0, "c", "s", "a", {"opus", 48000, 2, ""}});
  auto result = sdp::create_answer(offer, opts);
  ASSERT_TRUE((std::holds_alternative<std::pair<std::string, sdp::Negotiated>>(result)));
  std::string error;
  auto remote = parse_remote_description(std::get<0>(std::get<std::pair<std::string, sdp::Negotiated>>(result)), &error);
  ASSERT_TRUE(remote) << error;
  EXPECT_EQ(remote->ice_ufrag, "srv1");
  EXPECT_EQ(remote->video_pt, kVp8Pt);
  EXPECT_EQ(remote->rtx_pt, kRtxPt);
  EXPECT_EQ(remote->audio_pt, kOpusPt);
  EXPECT_EQ(remote->twcc_id, kExtTwccId);
  EXPECT_EQ(remote->video_ssrc, 1111u);
  EXPECT_EQ(remote->rtx_ssrc, 2222u);
  EXPECT_EQ(remote->audio_ssrc, 3333u);
  ASSERT_EQ(remote->candidates.size(), 1u);
  EXPECT_EQ(remote->candidates[0].to_string(), "127.0.0.1:5000");
  auto cfg = client_transport_config(local(), *remote, dtls::Certificate::generate());
  EXPECT_TRUE(cfg.ice_controlling);
  EXPECT_EQ(cfg.dtls_role, dtls::Role::kClient);
}

TEST(SignalingTest, ServerAcceptsPublishOffers) {
  for (bool simulcast : {true, false}) {
    auto offer = std::get<sdp::SessionDescription>(sdp::parse(build_publish_offer(local(), {simulcast, 42, 43})));
    sdp::AnswerOptions opts;
    opts.mode = sdp::AnswerMode::kReceive;
    opts.ice_ufrag = "srv1";
    opts.ice_pwd = "serverpasswordserverpw";
    opts.fingerprint_sha256 = dtls::Certificate::generate()->fingerprint_sha256();
    opts.candidates.push_back({"127.0.0.1", 5000, 1, "1"});
    auto result = sdp::create_answer(offer, opts);
    ASSERT_TRUE((std::holds_alternative<std::pair<std::string, sdp::Negotiated>>(result))) << simulcast;
    auto& neg = std::get<sdp::Negotiated>(std::get<std::pair<std::string, sdp::Negotiated>>(result));
    ASSERT_EQ(neg.media.size(), 2u);
    EXPECT_EQ(neg.media[1].rids.size(), simulcast ? 3u : 0u);
    EXPECT_EQ(neg.media[1].codecs.at(0).name, "VP8");
  }
}

TEST(SignalingTest, AnswersJanusOfferAsIceLiteDtlsClient) {
  std::string offer = read_text(std::string(STRATA_TESTDATA_DIR) + "/sdp/janus112-streaming-offer.sdp");
  std::string error;
  auto answer = build_janus_answer(offer, local(), &error);
  ASSERT_TRUE(answer) << error;
  EXPECT_NE(answer->find("a=ice-lite"), std::string::npos);
  EXPECT_NE(answer->find("a=setup:active"), std::string::npos);
  EXPECT_EQ(answer->find("a=setup:passive"), std::string::npos);
  EXPECT_NE(answer->find("a=recvonly"), std::string::npos);
  EXPECT_NE(answer->find("127.0.0.1 40000"), std::string::npos);
  auto remote = parse_remote_description(offer, &error);
  ASSERT_TRUE(remote) << error;
  EXPECT_EQ(remote->video_pt, 96);
  EXPECT_EQ(remote->rtx_pt, 97);
  EXPECT_EQ(remote->audio_pt, 111);
  EXPECT_EQ(remote->candidates.size(), 2u);  // link-local IPv6 skipped
  auto cfg = lite_transport_config(local(), *remote, dtls::Certificate::generate());
  EXPECT_FALSE(cfg.ice_controlling);
  EXPECT_EQ(cfg.dtls_role, dtls::Role::kClient);
}

TEST(SignalingTest, RemoteDescriptionErrors) {
  std::string error;
  EXPECT_FALSE(parse_remote_description("garbage", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_remote_description("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", &error));
}

TEST(SignalingTest, ResolveUrl) {
  struct Case { const char* base; const char* loc; const char* want; };
  for (auto c : std::vector<Case>{{"http://a:1/whep/x", "/session/9", "http://a:1/session/9"},
                                  {"http://a:1/whep/x", "http://b:2/whep/x", "http://b:2/whep/x"},
                                  {"http://a:1/whep/x", "y", "http://a:1/whep/y"},
                                  {"http://a:1", "/s", "http://a:1/s"}})
    EXPECT_EQ(resolve_url(c.base, c.loc), c.want) << c.base << " + " << c.loc;
}

}  // namespace
}  // namespace strata::loadtest
