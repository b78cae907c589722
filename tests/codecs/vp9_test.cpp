#include "codecs/vp9.hpp"

#include <gtest/gtest.h>

#include <random>

namespace strata::codecs {
namespace {

// First octet bits (RFC 9628 §4.2): |I|P|L|F|B|E|V|Z|
constexpr uint8_t I = 0x80, P = 0x40, L = 0x20, F = 0x10, B = 0x08, E = 0x04, V = 0x02, Z = 0x01;
constexpr uint8_t kData = 0xAA;  // one byte of VP9 frame data after the descriptor

// Layer indices octet: |TID|U|SID|D|
constexpr uint8_t layer(uint8_t tid, bool u, uint8_t sid, bool d) {
  return uint8_t(tid << 5 | (u ? 0x10 : 0) | sid << 1 | (d ? 1 : 0));
}

struct ParseCase {
  const char* name;
  Bytes payload;
  // Expected fields (only the ones the case is about; the rest must be default).
  uint8_t flags;  // first octet, checked flag by flag
  bool has_pid;
  uint16_t pid;
  bool pid15;
  uint8_t tid, sid;
  bool u, d;
  bool has_tl0;
  uint8_t tl0;
  uint8_t num_p_diffs;
  size_t size;
};

TEST(Vp9, ParsesDescriptorVariants) {
  const ParseCase cases[] = {
      {"begin only", {B, kData}, B, false, 0, false, 0, 0, false, false, false, 0, 0, 1},
      {"B E Z", {B | E | Z, kData}, B | E | Z, false, 0, false, 0, 0, false, false, false, 0, 0, 1},
      {"7-bit pid", {I | B, 0x2a, kData}, I | B, true, 42, false, 0, 0, false, false, false, 0, 0, 2},
      {"15-bit pid", {I | B | E, 0x92, 0x34, kData}, I | B | E, true, 0x1234, true, 0, 0, false, false, false, 0,
       0, 3},
      {"non-flexible layers + tl0", {I | L | B, 0x92, 0x34, layer(2, true, 1, true), 7, kData}, I | L | B, true,
       0x1234, true, 2, 1, true, true, true, 7, 0, 5},
      {"non-flexible, no pid", {L | B, layer(1, false, 0, false), 200, kData}, L | B, false, 0, false, 1, 0, false,
       false, true, 200, 0, 3},
      {"inter-predicted, non-flexible: no P_DIFF", {I | P | B, 0x05, kData}, I | P | B, true, 5, false, 0, 0, false,
       false, false, 0, 0, 2},
      {"flexible layers, no tl0", {I | L | F | B, 0x92, 0x34, layer(1, false, 2, false), kData}, I | L | F | B, true,
       0x1234, true, 1, 2, false, false, false, 0, 0, 4},
      {"flexible 1 P_DIFF", {I | P | L | F | B, 0x85, 0x00, layer(0, false, 0, false), 0x02, kData},
       I | P | L | F | B, true, 0x500, true, 0, 0, false, false, false, 0, 1, 5},
      {"flexible 3 P_DIFFs", {I | P | L | F | B, 0x92, 0x34, layer(2, false, 0, false), 0x03, 0x05, 0x08, kData},
       I | P | L | F | B, true, 0x1234, true, 2, 0, false, false, false, 0, 3, 7},
      {"flexible P without L", {I | P | F, 0x10, 0x09, 0x02, kData}, I | P | F, true, 0x10, false, 0, 0, false,
       false, false, 0, 2, 4},
      {"SS one layer, no Y/G", {B | V, 0x00, kData}, B | V, false, 0, false, 0, 0, false, false, false, 0, 0, 2},
      {"SS 3 layers, Y, G",
       {I | B | V, 0x80, 0x01, 0x58, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xd0, 2,
        0x04, 0x01, 0x30, kData},
       I | B | V, true, 1, true, 0, 0, false, false, false, 0, 0, 20},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto got = parse_vp9(c.payload);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->has_picture_id, bool(c.flags & I));
    EXPECT_EQ(got->inter_picture_predicted, bool(c.flags & P));
    EXPECT_EQ(got->has_layer_indices, bool(c.flags & L));
    EXPECT_EQ(got->flexible_mode, bool(c.flags & F));
    EXPECT_EQ(got->beginning_of_frame, bool(c.flags & B));
    EXPECT_EQ(got->end_of_frame, bool(c.flags & E));
    EXPECT_EQ(got->has_scalability_structure, bool(c.flags & V));
    EXPECT_EQ(got->not_upper_layer_reference, bool(c.flags & Z));
    EXPECT_EQ(got->has_picture_id, c.has_pid);
    EXPECT_EQ(got->picture_id, c.pid);
    EXPECT_EQ(got->picture_id_15bit, c.pid15);
    EXPECT_EQ(got->tid, c.tid);
    EXPECT_EQ(got->sid, c.sid);
    EXPECT_EQ(got->switching_up, c.u);
    EXPECT_EQ(got->inter_layer_dependency, c.d);
    EXPECT_EQ(got->has_tl0picidx, c.has_tl0);
    EXPECT_EQ(got->tl0picidx, c.tl0);
    EXPECT_EQ(got->num_p_diffs, c.num_p_diffs);
    EXPECT_EQ(got->size, c.size);
  }
}

TEST(Vp9, ReportsPdiffValuesAndScalabilityStructure) {
  const Bytes flex = {I | P | L | F | B, 0x92, 0x34, 0x40, 0x03, 0x05, 0x08, kData};
  const auto d = parse_vp9(flex);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->p_diff[0], 1);
  EXPECT_EQ(d->p_diff[1], 2);
  EXPECT_EQ(d->p_diff[2], 4);

  const Bytes ss = {I | B | V, 0x80, 0x01, 0x58, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01,
                    0x68, 0x05, 0x00, 0x02, 0xd0, 2, 0x04, 0x01, 0x30, kData};
  const auto s = parse_vp9(ss);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ss_spatial_layers, 3);
  EXPECT_TRUE(s->ss_has_resolution);
  EXPECT_EQ(s->ss_width[0], 320);
  EXPECT_EQ(s->ss_height[0], 180);
  EXPECT_EQ(s->ss_width[1], 640);
  EXPECT_EQ(s->ss_height[1], 360);
  EXPECT_EQ(s->ss_width[2], 1280);
  EXPECT_EQ(s->ss_height[2], 720);
  EXPECT_EQ(s->ss_pictures_in_group, 2);
}

TEST(Vp9, RejectsMalformedDescriptors) {
  struct Case {
    const char* name;
    Bytes payload;
  };
  const Case cases[] = {
      {"empty", {}},
      {"descriptor only", {B}},
      {"missing pid", {I | B}},
      {"15-bit pid missing low byte", {I | B, 0x80}},
      {"15-bit pid, no data", {I | B, 0x80, 0x01}},
      {"missing layer byte", {L | B}},
      {"non-flexible missing tl0", {L | B, 0x00}},
      {"4 P_DIFFs", {I | P | F | B, 0x05, 0x03, 0x03, 0x03, 0x02, kData}},
      {"P_DIFF chain runs off the end", {I | P | F | B, 0x05, 0x03, 0x03}},
      {"SS missing resolutions", {V | B, 0x30, 0x01, 0x40, 0x00}},
      {"SS group entry missing P_DIFF", {V | B, 0x08, 1, 0x08}},
  };
  for (const auto& c : cases) EXPECT_FALSE(parse_vp9(c.payload)) << c.name;
}

TEST(Vp9, EveryStrictPrefixIsRejected) {
  const Bytes fulls[] = {
      {I | B | V, 0x80, 0x01, 0x58, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01,
       0x68, 0x05, 0x00, 0x02, 0xd0, 2, 0x04, 0x01, 0x30, kData},
      {I | P | L | F | B, 0x92, 0x34, 0x40, 0x03, 0x05, 0x08, kData},
      {I | L | B, 0x92, 0x34, 0x53, 0x07, kData},
  };
  for (const auto& full : fulls) {
    for (size_t n = 0; n < full.size(); ++n) EXPECT_FALSE(parse_vp9(ByteSpan(full.data(), n))) << n;
    EXPECT_TRUE(parse_vp9(full));
  }
}

TEST(Vp9, RewritesPictureIdAndTl0InPlace) {
  Bytes p15 = {I | L | B, 0x92, 0x34, 0x53, 0x07, kData};
  ASSERT_TRUE(rewrite_vp9_picture_id(p15.data(), p15.size(), 0x7abc, uint8_t(99)));
  auto d = parse_vp9(p15);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 0x7abc);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->tl0picidx, 99);
  EXPECT_EQ(p15[3], 0x53);  // layer indices untouched
  EXPECT_EQ(p15.back(), kData);

  // No TL0PICIDX value given: the packet's is kept.
  ASSERT_TRUE(rewrite_vp9_picture_id(p15.data(), p15.size(), 1, std::nullopt));
  EXPECT_EQ(parse_vp9(p15)->tl0picidx, 99);

  Bytes p7 = {I | B, 0x05, kData};
  ASSERT_TRUE(rewrite_vp9_picture_id(p7.data(), p7.size(), 0x1ff, uint8_t(3)));  // truncated to 7 bits
  d = parse_vp9(p7);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 0x7f);
  EXPECT_FALSE(d->picture_id_15bit);

  // Flexible mode has no TL0PICIDX: a given value is ignored.
  Bytes flex = {I | L | F | B, 0x80, 0x00, 0x20, kData};
  const Bytes flex_before = flex;
  ASSERT_TRUE(rewrite_vp9_picture_id(flex.data(), flex.size(), 0x1234, uint8_t(9)));
  EXPECT_EQ(parse_vp9(flex)->picture_id, 0x1234);
  EXPECT_EQ(flex[3], flex_before[3]);
  EXPECT_EQ(flex[4], flex_before[4]);
}

TEST(Vp9, RewriteFailsWithoutPictureIdOrOnTruncation) {
  Bytes none = {L | B, 0x00, 0x05, kData};
  const Bytes before = none;
  EXPECT_FALSE(rewrite_vp9_picture_id(none.data(), none.size(), 5, uint8_t(5)));
  EXPECT_EQ(none, before);
  Bytes cut = {I | L | B, 0x81, 0x00, 0x00};  // TL0PICIDX missing
  const Bytes cut_before = cut;
  EXPECT_FALSE(rewrite_vp9_picture_id(cut.data(), cut.size(), 5, uint8_t(5)));
  EXPECT_EQ(cut, cut_before);
  EXPECT_FALSE(rewrite_vp9_picture_id(nullptr, 0, 5, uint8_t(5)));
}

// Garbage must never crash or read out of bounds (run under ASan in the fuzz build), and
// a rewrite must never change anything but the ids.
TEST(Vp9, SurvivesRandomBytes) {
  std::mt19937 rng(9628);
  Bytes buf;
  for (int iter = 0; iter < 50000; ++iter) {
    buf.resize(rng() % 24);
    for (auto& b : buf) b = uint8_t(rng());
    const auto d = parse_vp9(buf);
    if (d) {
      EXPECT_LT(d->size, buf.size());
      EXPECT_LE(d->num_p_diffs, 3);
    }
    Bytes copy = buf;
    const bool ok = rewrite_vp9_picture_id(copy.data(), copy.size(), uint16_t(rng()), uint8_t(rng()));
    if (d) {
      EXPECT_EQ(ok, d->has_picture_id);
      const auto after = parse_vp9(copy);
      ASSERT_TRUE(after);
      EXPECT_EQ(after->size, d->size);
      EXPECT_EQ(after->picture_id_15bit, d->picture_id_15bit);
      EXPECT_EQ(after->tid, d->tid);
      EXPECT_EQ(copy[0], buf[0]);
    }
    if (!ok) {
      EXPECT_EQ(copy, buf);
    }
  }
}

}  // namespace
}  // namespace strata::codecs
