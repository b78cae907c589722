#include "codecs/vp8.hpp"

#include <gtest/gtest.h>

namespace strata::codecs {

// Byte layouts follow RFC 7741 §4.2 (descriptor) and §4.3 (payload header; bit 0 = P).
TEST(Vp8, ParsesDescriptorVariants) {
  struct Case {
    const char* name;
    Bytes payload;
    Vp8Descriptor want;
  };
  auto d = [](bool has_pid, uint16_t pid, bool pid15, bool has_tl0, uint8_t tl0, bool has_tid, uint8_t tid,
              bool y, size_t size, bool s, uint8_t part, bool key) {
    Vp8Descriptor v;
    v.has_picture_id = has_pid; v.picture_id = pid; v.picture_id_15bit = pid15;
    v.has_tl0picidx = has_tl0; v.tl0picidx = tl0; v.has_tid = has_tid; v.tid = tid; v.layer_sync = y;
    v.size = size; v.start_of_partition = s; v.partition_index = part; v.keyframe = key;
    return v;
  };
  const Case cases[] = {
      {"minimal keyframe", {0x10, 0x00, 0x9d}, d(false, 0, false, false, 0, false, 0, false, 1, true, 0, true)},
      {"minimal delta", {0x10, 0x01, 0x9d}, d(false, 0, false, false, 0, false, 0, false, 1, true, 0, false)},
      {"not start", {0x00, 0x00}, d(false, 0, false, false, 0, false, 0, false, 1, false, 0, false)},
      {"partition 2", {0x12, 0x00}, d(false, 0, false, false, 0, false, 0, false, 1, true, 2, false)},
      {"7-bit pid", {0x90, 0x80, 0x2a, 0x00}, d(true, 42, false, false, 0, false, 0, false, 3, true, 0, true)},
      {"15-bit pid", {0x90, 0x80, 0x92, 0x34, 0x00},
       d(true, 0x1234, true, false, 0, false, 0, false, 4, true, 0, true)},
      {"pid+tl0+tid", {0x90, 0xe0, 0x81, 0x00, 0x07, 0xa0, 0x01},
       d(true, 0x100, true, true, 7, true, 2, true, 6, true, 0, false)},
      {"K only: TID ignored", {0x90, 0x10, 0xc0, 0x00},
       d(false, 0, false, false, 0, false, 0, false, 3, true, 0, true)},
      {"X with no fields", {0x80, 0x00, 0xff}, d(false, 0, false, false, 0, false, 0, false, 2, false, 0, false)},
  };
  for (const auto& c : cases) {
    auto got = parse_vp8(c.payload);
    ASSERT_TRUE(got) << c.name;
    EXPECT_EQ(got->has_picture_id, c.want.has_picture_id) << c.name;
    EXPECT_EQ(got->picture_id, c.want.picture_id) << c.name;
    EXPECT_EQ(got->picture_id_15bit, c.want.picture_id_15bit) << c.name;
    EXPECT_EQ(got->has_tl0picidx, c.want.has_tl0picidx) << c.name;
    EXPECT_EQ(got->tl0picidx, c.want.tl0picidx) << c.name;
    EXPECT_EQ(got->has_tid, c.want.has_tid) << c.name;
    EXPECT_EQ(got->tid, c.want.tid) << c.name;
    EXPECT_EQ(got->layer_sync, c.want.layer_sync) << c.name;
    EXPECT_EQ(got->size, c.want.size) << c.name;
    EXPECT_EQ(got->start_of_partition, c.want.start_of_partition) << c.name;
    EXPECT_EQ(got->partition_index, c.want.partition_index) << c.name;
    EXPECT_EQ(got->keyframe, c.want.keyframe) << c.name;
  }
}

TEST(Vp8, RejectsTruncatedDescriptors) {
  const Bytes full = {0x90, 0xf0, 0x81, 0x00, 0x07, 0xa0, 0x00};
  // Every strict prefix is either too short for its announced fields or has no VP8 data.
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(parse_vp8(ByteSpan(full.data(), n))) << n;
  }
  EXPECT_TRUE(parse_vp8(full));
}

TEST(Vp8, RewritesPictureIdInPlace) {
  Bytes p15 = {0x90, 0xe0, 0x81, 0x00, 0x07, 0xa0, 0x00};
  ASSERT_TRUE(rewrite_vp8_picture_id(p15.data(), p15.size(), 0x7abc, 99));
  auto d = parse_vp8(p15);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 0x7abc);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->tl0picidx, 99);
  EXPECT_EQ(d->tid, 2);  // untouched
  EXPECT_EQ(p15[5], 0xa0);

  Bytes p7 = {0x90, 0x80, 0x05, 0x00};
  ASSERT_TRUE(rewrite_vp8_picture_id(p7.data(), p7.size(), 0x1ff, 1));  // truncated to 7 bits
  d = parse_vp8(p7);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 0x7f);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(p7.size(), 4u);
}

TEST(Vp8, RewriteFailsWithoutPictureIdOrOnTruncation) {
  Bytes none = {0x10, 0x00};
  const Bytes before = none;
  EXPECT_FALSE(rewrite_vp8_picture_id(none.data(), none.size(), 5, 5));
  EXPECT_EQ(none, before);
  Bytes cut = {0x90, 0x80, 0x81};  // 15-bit PictureID missing its second byte
  EXPECT_FALSE(rewrite_vp8_picture_id(cut.data(), cut.size(), 5, 5));
  EXPECT_FALSE(rewrite_vp8_picture_id(nullptr, 0, 5, 5));
}

TEST(Vp8, SurvivesRandomBytes) {
  uint32_t state = 12345;
  Bytes buf;
  for (int iter = 0; iter < 20000; ++iter) {
    state = state * 1664525u + 1013904223u;
    buf.resize(state >> 28);  // 0..15 bytes
    for (auto& b : buf) {
      state = state * 1664525u + 1013904223u;
      b = uint8_t(state >> 24);
    }
    auto d = parse_vp8(buf);
    if (d) {
      EXPECT_LT(d->size, buf.size());
    }
    rewrite_vp8_picture_id(buf.data(), buf.size(), 1, 2);
  }
}

}  // namespace strata::codecs
