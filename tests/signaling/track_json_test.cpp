// Track descriptions over the relay handshake (docs/ARCHITECTURE.md, "Cluster"): tracks_to_json and
// tracks_from_json must round-trip every field the edge's producers need, and a malformed
// or foreign answer must come back as nullopt, never as an exception.
#include "signaling/track_json.hpp"

#include <gtest/gtest.h>

#include <random>

namespace strata::signaling {
namespace {

using nlohmann::json;

sfu::IngestTrackInfo audio_track() {
  sfu::IngestTrackInfo t;
  t.index = 0;
  t.mid = "0";
  t.kind = sfu::MediaKind::kAudio;
  t.codec.payload_type = 111;
  t.codec.name = "opus";
  t.codec.clock_rate = 48000;
  t.codec.channels = 2;
  t.codec.fmtp = "minptime=10;useinbandfec=1";
  t.codec.codec = codecs::codec_from_name("opus");
  t.ssrcs = {0x11223344};
  t.extensions.mid = 4;
  t.extensions.audio_level = 1;
  t.extensions.abs_send_time = 2;
  t.extensions.transport_cc = 3;
  return t;
}

sfu::IngestTrackInfo simulcast_video_track() {
  sfu::IngestTrackInfo t;
  t.index = 1;
  t.mid = "1";
  t.kind = sfu::MediaKind::kVideo;
  t.codec.payload_type = 96;
  t.codec.rtx_payload_type = 97;
  t.codec.name = "VP8";
  t.codec.clock_rate = 90000;
  t.codec.fmtp = "";
  t.codec.codec = codecs::codec_from_name("VP8");
  t.codec.nack = true;
  t.codec.pli = true;
  t.codec.fir = true;
  t.rids = {"q", "h", "f"};
  t.ssrcs = {1, 0xFFFFFFFFu, 3};
  t.rtx_ssrc = 0xDEADBEEF;
  t.extensions.mid = 9;
  t.extensions.rid = 10;
  t.extensions.repaired_rid = 11;
  t.extensions.abs_send_time = 2;
  t.extensions.transport_cc = 3;
  return t;
}

void expect_same(const sfu::IngestTrackInfo& a, const sfu::IngestTrackInfo& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.mid, b.mid);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.codec.payload_type, b.codec.payload_type);
  EXPECT_EQ(a.codec.rtx_payload_type, b.codec.rtx_payload_type);
  EXPECT_EQ(a.codec.name, b.codec.name);
  EXPECT_EQ(a.codec.clock_rate, b.codec.clock_rate);
  EXPECT_EQ(a.codec.channels, b.codec.channels);
  EXPECT_EQ(a.codec.fmtp, b.codec.fmtp);
  EXPECT_EQ(a.codec.codec, b.codec.codec);
  EXPECT_EQ(a.codec.nack, b.codec.nack);
  EXPECT_EQ(a.codec.pli, b.codec.pli);
  EXPECT_EQ(a.codec.fir, b.codec.fir);
  EXPECT_EQ(a.rids, b.rids);
  EXPECT_EQ(a.ssrcs, b.ssrcs);
  EXPECT_EQ(a.rtx_ssrc, b.rtx_ssrc);
  EXPECT_EQ(a.extensions.mid, b.extensions.mid);
  EXPECT_EQ(a.extensions.rid, b.extensions.rid);
  EXPECT_EQ(a.extensions.repaired_rid, b.extensions.repaired_rid);
  EXPECT_EQ(a.extensions.abs_send_time, b.extensions.abs_send_time);
  EXPECT_EQ(a.extensions.transport_cc, b.extensions.transport_cc);
  EXPECT_EQ(a.extensions.audio_level, b.extensions.audio_level);
}

TEST(TrackJson, RoundTripsEveryField) {
  std::vector<sfu::IngestTrackInfo> tracks = {audio_track(), simulcast_video_track()};
  json j = tracks_to_json(tracks);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  // Through text, as it crosses the wire.
  auto back = tracks_from_json(json::parse(j.dump()));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  expect_same((*back)[0], tracks[0]);
  expect_same((*back)[1], tracks[1]);
  EXPECT_NE((*back)[1].codec.codec, codecs::Codec::kUnknown) << "codec enum is re-derived from the name";
}

TEST(TrackJson, OptionalFieldsStayAbsent) {
  auto t = audio_track();
  json j = tracks_to_json({t});
  EXPECT_FALSE(j[0].contains("rtx_ssrc"));
  EXPECT_FALSE(j[0]["codec"].contains("rtx_pt"));
  auto back = tracks_from_json(j);
  ASSERT_TRUE(back);
  EXPECT_FALSE((*back)[0].rtx_ssrc);
  EXPECT_FALSE((*back)[0].codec.rtx_payload_type);
}

TEST(TrackJson, MinimalTrackUsesDefaults) {
  json j = json::parse(R"([{"index":0,"mid":"v","kind":"video","codec":{"pt":96,"name":"H264","clock_rate":90000}}])");
  auto back = tracks_from_json(j);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  const auto& t = (*back)[0];
  EXPECT_EQ(t.kind, sfu::MediaKind::kVideo);
  EXPECT_TRUE(t.rids.empty());
  EXPECT_TRUE(t.ssrcs.empty());
  EXPECT_FALSE(t.rtx_ssrc);
  EXPECT_EQ(t.extensions.mid, 0);
  EXPECT_FALSE(t.codec.nack);
  EXPECT_EQ(t.codec.fmtp, "");
}

TEST(TrackJson, EmptyListSerializesToEmptyArray) {
  json j = tracks_to_json({});
  EXPECT_TRUE(j.is_array());
  EXPECT_TRUE(j.empty());
}

// Each of these is not a usable track list; every one must be nullopt without throwing.
TEST(TrackJson, MalformedInputsAreNullopt) {
  const std::string good_codec = R"("codec":{"pt":96,"name":"VP8","clock_rate":90000})";
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"null", "null"},
      {"object", R"({"tracks":[]})"},
      {"string", R"("tracks")"},
      {"number", "42"},
      {"empty array", "[]"},
      {"array of number", "[1]"},
      {"array of null", "[null]"},
      {"array of array", "[[]]"},
      {"empty object element", "[{}]"},
      {"missing index", R"([{"mid":"0","kind":"video",)" + good_codec + "}]"},
      {"missing mid", R"([{"index":0,"kind":"video",)" + good_codec + "}]"},
      {"missing kind", R"([{"index":0,"mid":"0",)" + good_codec + "}]"},
      {"missing codec", R"([{"index":0,"mid":"0","kind":"video"}])"},
      {"codec not object", R"([{"index":0,"mid":"0","kind":"video","codec":"VP8"}])"},
      {"codec missing pt", R"([{"index":0,"mid":"0","kind":"video","codec":{"name":"VP8","clock_rate":90000}}])"},
      {"codec missing name", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"clock_rate":90000}}])"},
      {"codec missing clock", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"name":"VP8"}}])"},
      {"pt string", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":"96","name":"VP8","clock_rate":90000}}])"},
      {"name number", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"name":8,"clock_rate":90000}}])"},
      {"fmtp number", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"name":"VP8","clock_rate":90000,"fmtp":1}}])"},
      {"rtx_pt string", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"name":"VP8","clock_rate":90000,"rtx_pt":"x"}}])"},
      {"index string", R"([{"index":"0","mid":"0","kind":"video",)" + good_codec + "}]"},
      {"mid number", R"([{"index":0,"mid":0,"kind":"video",)" + good_codec + "}]"},
      {"kind number", R"([{"index":0,"mid":"0","kind":1,)" + good_codec + "}]"},
      {"rids string", R"([{"index":0,"mid":"0","kind":"video","rids":"q,h,f",)" + good_codec + "}]"},
      {"rids of numbers", R"([{"index":0,"mid":"0","kind":"video","rids":[1,2],)" + good_codec + "}]"},
      {"ssrcs of strings", R"([{"index":0,"mid":"0","kind":"video","ssrcs":["1"],)" + good_codec + "}]"},
      {"ssrcs object", R"([{"index":0,"mid":"0","kind":"video","ssrcs":{},)" + good_codec + "}]"},
      {"rtx_ssrc string", R"([{"index":0,"mid":"0","kind":"video","rtx_ssrc":"1",)" + good_codec + "}]"},
      {"extensions array", R"([{"index":0,"mid":"0","kind":"video","extensions":[],)" + good_codec + "}]"},
      {"extensions null", R"([{"index":0,"mid":"0","kind":"video","extensions":null,)" + good_codec + "}]"},
      {"extension id string", R"([{"index":0,"mid":"0","kind":"video","extensions":{"mid":"1"},)" + good_codec + "}]"},
      {"one good one bad",
       R"([{"index":0,"mid":"0","kind":"video",)" + good_codec + R"(},{"index":1,"mid":"1","kind":"audio"}])"},
      // Numbers a peer could send that do not fit: a float beyond uint32 (undefined behaviour
      // in a plain get<uint32_t>(), found by the api_json fuzzer), negatives, out of range.
      {"ssrc beyond uint32", R"([{"index":0,"mid":"0","kind":"video","ssrcs":[5.55556e+22],)" + good_codec + "}]"},
      {"ssrc fractional", R"([{"index":0,"mid":"0","kind":"video","ssrcs":[1.5],)" + good_codec + "}]"},
      {"layer ssrc negative", R"([{"index":0,"mid":"0","kind":"video","layer_ssrcs":[-1],)" + good_codec + "}]"},
      {"rtx_ssrc too big", R"([{"index":0,"mid":"0","kind":"video","rtx_ssrc":4294967296,)" + good_codec + "}]"},
      {"index float", R"([{"index":1e30,"mid":"0","kind":"video",)" + good_codec + "}]"},
      {"pt 300", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":300,"name":"VP8","clock_rate":90000}}])"},
      {"clock negative", R"([{"index":0,"mid":"0","kind":"video","codec":{"pt":96,"name":"VP8","clock_rate":-1}}])"},
      {"extension id 256", R"([{"index":0,"mid":"0","kind":"video","extensions":{"mid":256},)" + good_codec + "}]"},
  };
  for (auto& [name, text] : cases) {
    SCOPED_TRACE(name);
    json j = json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "test input must be valid JSON: " << text;
    std::optional<std::vector<sfu::IngestTrackInfo>> out;
    EXPECT_NO_THROW(out = tracks_from_json(j));
    EXPECT_FALSE(out) << text;
  }
}

TEST(TrackJson, DiscardedParseIsNullopt) {
  json j = json::parse("{not json", nullptr, false);
  ASSERT_TRUE(j.is_discarded());
  EXPECT_FALSE(tracks_from_json(j));
}

// Random mutations of a valid list: whatever comes out, nothing throws or crashes.
TEST(TrackJson, RandomMutationsNeverThrow) {
  const std::string valid = tracks_to_json({audio_track(), simulcast_video_track()}).dump();
  std::mt19937 rng(1234);
  const char alphabet[] = "{}[]\":,0123456789-.eEtruefalsn \\";
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = valid;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = alphabet[rng() % (sizeof(alphabet) - 1)]; break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        default: s.resize(at); break;
      }
    }
    json j = json::parse(s, nullptr, false);
    if (j.is_discarded()) continue;
    ++parsed;
    EXPECT_NO_THROW((void)tracks_from_json(j)) << s;
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace strata::signaling
