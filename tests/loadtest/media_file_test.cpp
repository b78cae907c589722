#include "loadtest/media_file.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace strata::loadtest {
namespace {

void put_le16(Bytes& b, uint16_t v) { b.push_back(uint8_t(v)); b.push_back(uint8_t(v >> 8)); }
void put_le32(Bytes& b, uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i))); }
void put_le64(Bytes& b, uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i))); }

Bytes ivf(const std::vector<Bytes>& frames, uint32_t rate = 30, uint32_t scale = 1) {
  Bytes b = {'D', 'K', 'I', 'F'};
  put_le16(b, 0);
  put_le16(b, 32);
  b.insert(b.end(), {'V', 'P', '8', '0'});
  put_le16(b, 1280);
  put_le16(b, 720);
  put_le32(b, rate);
  put_le32(b, scale);
  put_le32(b, uint32_t(frames.size()));
  put_le32(b, 0);
  for (size_t i = 0; i < frames.size(); ++i) {
    put_le32(b, uint32_t(frames[i].size()));
    put_le64(b, i);
    b.insert(b.end(), frames[i].begin(), frames[i].end());
  }
  return b;
}

TEST(IvfTest, ParsesFramesTimesAndKeyframes) {
  auto file = ivf({{0x10, 1, 2}, {0x11, 3}, {0x11, 4, 5, 6}});
  std::string error;
  auto f = parse_ivf(file, &error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->fourcc, "VP80");
  EXPECT_EQ(f->width, 1280);
  EXPECT_EQ(f->height, 720);
  ASSERT_EQ(f->frames.size(), 3u);
  EXPECT_TRUE(f->frames[0].keyframe);
  EXPECT_FALSE(f->frames[1].keyframe);
  EXPECT_EQ(f->frame_time_us(2), 66'666);
  EXPECT_EQ(f->duration_us(), 66'666 + 33'333);
}

TEST(IvfTest, TruncatedTailKeepsCompleteFrames) {
  auto file = ivf({{0x10, 1, 2}, {0x11, 3, 4, 5}});
  file.resize(file.size() - 2);
  std::string error;
  auto f = parse_ivf(file, &error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->frames.size(), 1u);
}

TEST(IvfTest, RejectsBadInput) {
  struct Case { const char* name; Bytes data; };
  Bytes zero_rate = ivf({{0x10}}, 0, 1);
  Bytes no_frames = ivf({});
  Bytes bad_magic = ivf({{0x10}});
  bad_magic[0] = 'X';
  std::vector<Case> cases = {{"empty", {}}, {"short", {'D', 'K', 'I', 'F'}}, {"magic", bad_magic},
                             {"zero rate", zero_rate}, {"no frames", no_frames}};
  for (auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_ivf(c.data, &error)) << c.name;
    EXPECT_FALSE(error.empty()) << c.name;
  }
}

// An Ogg page with the given packets (each < 255*k bytes, laced per RFC 3533 §6).
Bytes ogg_page(const std::vector<Bytes>& packets, uint32_t serial = 7) {
  Bytes lacing, body;
  for (auto& p : packets) {
    size_t n = p.size();
    while (n >= 255) lacing.push_back(255), n -= 255;
    lacing.push_back(uint8_t(n));
    body.insert(body.end(), p.begin(), p.end());
  }
  Bytes b = {'O', 'g', 'g', 'S', 0, 0};
  put_le64(b, 0);
  put_le32(b, serial);
  put_le32(b, 0);
  put_le32(b, 0);  // CRC not checked by the reader
  b.push_back(uint8_t(lacing.size()));
  b.insert(b.end(), lacing.begin(), lacing.end());
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes opus_head() {
  Bytes h = {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 2};
  h.resize(19, 0);
  return h;
}

TEST(OggOpusTest, SkipsHeadersAndJoinsLacedPackets) {
  Bytes big(600, 0xAB);
  Bytes file = ogg_page({opus_head()});
  auto tags = ogg_page({{'O', 'p', 'u', 's', 'T', 'a', 'g', 's'}});
  auto audio = ogg_page({{1, 2, 3}, big, {9}});
  auto other_stream = ogg_page({{7, 7}}, 99);
  file.insert(file.end(), tags.begin(), tags.end());
  file.insert(file.end(), other_stream.begin(), other_stream.end());
  file.insert(file.end(), audio.begin(), audio.end());
  std::string error;
  auto f = parse_ogg_opus(file, &error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->channels, 2);
  ASSERT_EQ(f->packets.size(), 3u);
  EXPECT_EQ(f->packets[0], (Bytes{1, 2, 3}));
  EXPECT_EQ(f->packets[1].size(), 600u);
  EXPECT_EQ(f->packets[2], (Bytes{9}));
}

TEST(OggOpusTest, RejectsNonOpusAndTruncated) {
  std::string error;
  EXPECT_FALSE(parse_ogg_opus(ogg_page({{'x'}, {'y'}, {'z'}}), &error));
  auto page = ogg_page({opus_head(), {1}, {2}});
  page.resize(page.size() - 3);
  EXPECT_FALSE(parse_ogg_opus(page, &error));
  EXPECT_FALSE(parse_ogg_opus(Bytes{}, &error));
}

TEST(MediaFileFuzz, GarbageNeverCrashes) {
  std::mt19937 rng(5);
  auto valid_ivf = ivf({{0x10, 1, 2, 3}, {0x11, 4, 5}});
  auto valid_ogg = ogg_page({opus_head(), {1}, {2}});
  for (int i = 0; i < 3000; ++i) {
    Bytes b = (i % 2) ? valid_ivf : valid_ogg;
    b.resize(rng() % (b.size() + 1));
    for (int k = 0; k < 3 && !b.empty(); ++k) b[rng() % b.size()] = uint8_t(rng());
    std::string error;
    if (!parse_ivf(b, &error)) {
      EXPECT_FALSE(error.empty());
    }
    error.clear();
    if (!parse_ogg_opus(b, &error)) {
      EXPECT_FALSE(error.empty());
    }
  }
}

}  // namespace
}  // namespace strata::loadtest
