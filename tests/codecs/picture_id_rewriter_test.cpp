#include "codecs/picture_id_rewriter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "codecs/vp8.hpp"
#include "codecs/vp9.hpp"

namespace strata::codecs {
namespace {

// A packet as the publisher sent it: ids of its encoding, temporal layer, width.
struct Pkt {
  uint16_t pid;
  uint8_t tl0;
  uint8_t tid;
  bool pid15 = true;
};

// VP8 (RFC 7741 §4.2): |X|R|N|S|R|PID| |I|L|T|K|RSV| PictureID TL0PICIDX |TID|Y|KEYIDX|
Bytes vp8_packet(const Pkt& p) {
  Bytes b = {0x90, 0xe0};
  if (p.pid15) {
    b.push_back(uint8_t(0x80 | (p.pid >> 8)));
    b.push_back(uint8_t(p.pid));
  } else {
    b.push_back(uint8_t(p.pid & 0x7f));
  }
  b.push_back(p.tl0);
  b.push_back(uint8_t(p.tid << 6));
  b.push_back(0x9d);
  return b;
}

// VP9 non-flexible (RFC 9628 §4.2): |I|P|L|F|B|E|V|Z| PictureID |TID|U|SID|D| TL0PICIDX
Bytes vp9_packet(const Pkt& p) {
  Bytes b = {0xa8};
  if (p.pid15) {
    b.push_back(uint8_t(0x80 | (p.pid >> 8)));
    b.push_back(uint8_t(p.pid));
  } else {
    b.push_back(uint8_t(p.pid & 0x7f));
  }
  b.push_back(uint8_t(p.tid << 5));
  b.push_back(p.tl0);
  b.push_back(0xaa);
  return b;
}

Bytes packet(Codec codec, const Pkt& p) { return codec == Codec::kVp8 ? vp8_packet(p) : vp9_packet(p); }

struct Out {
  uint16_t pid;
  uint8_t tl0;
};

Out read_out(Codec codec, const Bytes& b) {
  if (codec == Codec::kVp8) {
    auto d = parse_vp8(b);
    EXPECT_TRUE(d);
    return d ? Out{d->picture_id, d->tl0picidx} : Out{};
  }
  auto d = parse_vp9(b);
  EXPECT_TRUE(d);
  return d ? Out{d->picture_id, d->tl0picidx} : Out{};
}

enum class Act { kForward, kSwitch, kDrop };

struct Step {
  Act act;
  Pkt in;
  uint16_t want_pid = 0;  // forwarded steps only
  uint8_t want_tl0 = 0;
};

struct Scenario {
  const char* name;
  std::vector<Step> steps;
  uint64_t want_dropped_pictures = 0;
};

void run(Codec codec, const Scenario& s) {
  SCOPED_TRACE(s.name);
  PictureIdRewriter rw(codec);
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const Step& st = s.steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    Bytes b = packet(codec, st.in);
    if (st.act == Act::kDrop) {
      rw.drop_picture(b);
      continue;
    }
    ASSERT_TRUE(rw.rewrite(b.data(), b.size(), st.act == Act::kSwitch));
    const Out o = read_out(codec, b);
    EXPECT_EQ(o.pid, st.want_pid);
    EXPECT_EQ(o.tl0, st.want_tl0);
  }
  EXPECT_EQ(rw.counters().dropped_pictures, s.want_dropped_pictures);
}

constexpr Act F = Act::kForward, S = Act::kSwitch, D = Act::kDrop;

const Scenario kScenarios[] = {
    {"switches q -> f -> h with different bases",
     {{F, {1000, 10, 0}, 1000, 10},
      {F, {1000, 10, 0}, 1000, 10},  // second packet of the same picture
      {F, {1001, 10, 2}, 1001, 10},
      {F, {1002, 10, 1}, 1002, 10},
      {S, {20000, 200, 0}, 1003, 11},
      {F, {20000, 200, 0}, 1003, 11},
      {F, {20001, 200, 2}, 1004, 11},
      {F, {20002, 201, 0}, 1005, 12},
      {S, {5, 250, 0}, 1006, 13},
      {F, {6, 250, 2}, 1007, 13},
      {F, {7, 251, 0}, 1008, 14}}},
    {"15-bit and TL0PICIDX wrap in the input",
     {{F, {32766, 254, 0}, 32766, 254},
      {F, {32767, 255, 0}, 32767, 255},
      {F, {0, 0, 0}, 0, 0},
      {F, {1, 1, 0}, 1, 1}}},
    {"wrap in the output at a switch",
     {{F, {32767, 255, 0}, 32767, 255},
      {S, {500, 40, 0}, 0, 0},
      {F, {501, 40, 1}, 1, 0},
      {F, {502, 41, 0}, 2, 1}}},
    {"7-bit ids wrap 127 -> 0",
     {{F, {126, 3, 0, false}, 126, 3},
      {F, {127, 3, 1, false}, 127, 3},
      {F, {0, 4, 0, false}, 0, 4},
      {S, {90, 7, 0, false}, 1, 5},
      {D, {91, 7, 1, false}},
      {F, {92, 8, 0, false}, 2, 6}},
     1},
    {"drop TL2 of L1T3",
     {{F, {100, 5, 0}, 100, 5},
      {D, {101, 5, 2}},
      {D, {101, 5, 2}},  // every packet of a dropped picture is reported; counted once
      {F, {102, 5, 1}, 101, 5},
      {D, {103, 5, 2}},
      {F, {104, 6, 0}, 102, 6},
      {D, {105, 6, 2}},
      {F, {106, 6, 1}, 103, 6},
      {D, {107, 6, 2}},
      {F, {108, 7, 0}, 104, 7}},
     4},
    {"drop TL2 and TL1 of L1T3",
     {{F, {100, 5, 0}, 100, 5},
      {D, {101, 5, 2}},
      {D, {102, 5, 1}},
      {D, {103, 5, 2}},
      {F, {104, 6, 0}, 101, 6},
      {D, {105, 6, 2}},
      {D, {106, 6, 1}},
      {D, {107, 6, 2}},
      {F, {108, 7, 0}, 102, 7}},
     6},
    {"drops across the 15-bit wrap, then a switch",
     {{F, {32766, 9, 0}, 32766, 9},
      {D, {32767, 9, 2}},
      {F, {0, 9, 1}, 32767, 9},
      {D, {1, 9, 2}},
      {F, {2, 10, 0}, 0, 10},
      {S, {7000, 100, 0}, 1, 11}},
     2},
    {"late packet of a picture after a dropped one",
     {{F, {10, 1, 0}, 10, 1},
      {D, {11, 1, 2}},
      {F, {13, 1, 2}, 12, 1},
      {F, {12, 1, 1}, 11, 1},  // arrived late: gets the id it would have had in order
      {F, {14, 2, 0}, 13, 2}},
     1},
    {"late packet past several drops",
     {{F, {10, 1, 0}, 10, 1},
      {D, {11, 1, 2}},
      {F, {13, 1, 2}, 12, 1},
      {D, {14, 2, 2}},
      {F, {15, 2, 0}, 13, 2},
      {F, {12, 1, 1}, 11, 1},
      {F, {10, 1, 0}, 10, 1},  // retransmitted first packet
      {F, {16, 2, 2}, 14, 2}},
     2},
    {"late drop cannot close a gap already sent",
     {{F, {10, 1, 0}, 10, 1},
      {F, {12, 1, 1}, 12, 1},
      {D, {11, 1, 2}},
      {F, {13, 1, 2}, 13, 1}},
     1},
    {"late drop before the next forwarded picture still shifts",
     {{F, {10, 1, 0}, 10, 1},
      {D, {12, 1, 1}},
      {D, {11, 1, 2}},
      {F, {13, 1, 2}, 11, 1}},
     2},
    {"a picture partly forwarded is not counted as dropped",
     {{F, {10, 1, 0}, 10, 1},
      {D, {10, 1, 0}},
      {F, {11, 1, 0}, 11, 1}},
     0},
};

class RewriterScenarios : public ::testing::TestWithParam<Codec> {};

TEST_P(RewriterScenarios, Table) {
  for (const auto& s : kScenarios) run(GetParam(), s);
}

INSTANTIATE_TEST_SUITE_P(Vp8AndVp9, RewriterScenarios, ::testing::Values(Codec::kVp8, Codec::kVp9),
                         [](const auto& info) { return std::string(codec_name(info.param)); });

TEST(PictureIdRewriter, RejectsPacketsOlderThanTheSwitch) {
  PictureIdRewriter rw(Codec::kVp9);
  Bytes a = vp9_packet({100, 1, 0});
  ASSERT_TRUE(rw.rewrite(a.data(), a.size(), false));
  Bytes key = vp9_packet({5000, 50, 0});
  ASSERT_TRUE(rw.rewrite(key.data(), key.size(), true));
  EXPECT_EQ(read_out(Codec::kVp9, key).pid, 101);
  Bytes before_key = vp9_packet({4999, 49, 2});
  const Bytes untouched = before_key;
  EXPECT_FALSE(rw.rewrite(before_key.data(), before_key.size(), false));
  EXPECT_EQ(before_key, untouched);
  Bytes old_source = vp9_packet({99, 1, 0});  // an old encoding's packet now looks "old" too
  EXPECT_FALSE(rw.rewrite(old_source.data(), old_source.size(), false));
  EXPECT_EQ(rw.counters().too_old, 2u);
  EXPECT_EQ(rw.counters().switches, 1u);
}

TEST(PictureIdRewriter, SwitchWaitsForAPacketWithPictureId) {
  PictureIdRewriter rw(Codec::kVp8);
  Bytes a = vp8_packet({300, 1, 0});
  ASSERT_TRUE(rw.rewrite(a.data(), a.size(), false));
  Bytes no_pid = {0x10, 0x9c};  // S=1, no extension: nothing to rewrite
  const Bytes no_pid_before = no_pid;
  EXPECT_TRUE(rw.rewrite(no_pid.data(), no_pid.size(), true));
  EXPECT_EQ(no_pid, no_pid_before);
  Bytes b = vp8_packet({9000, 70, 0});
  ASSERT_TRUE(rw.rewrite(b.data(), b.size(), false));
  EXPECT_EQ(read_out(Codec::kVp8, b).pid, 301);
  EXPECT_EQ(read_out(Codec::kVp8, b).tl0, 2);
}

TEST(PictureIdRewriter, MalformedVp8Vp9PacketsAreRejectedUntouched) {
  for (Codec c : {Codec::kVp8, Codec::kVp9}) {
    PictureIdRewriter rw(c);
    Bytes cut = {0x90, 0x80, 0x81};  // VP8: 15-bit id cut; VP9: |I|B| + 15-bit id cut
    const Bytes before = cut;
    EXPECT_FALSE(rw.rewrite(cut.data(), cut.size(), false)) << codec_name(c);
    EXPECT_EQ(cut, before);
    EXPECT_FALSE(rw.rewrite(nullptr, 0, false));
    EXPECT_EQ(rw.counters().malformed, 2u);
  }
}

TEST(PictureIdRewriter, OtherCodecsPassThrough) {
  struct Case {
    Codec codec;
    Bytes payload;
  };
  const Case cases[] = {
      {Codec::kH264, {0x65, 0x88, 0x80}},
      {Codec::kAv1, {0x18, 0x0a, 0x0b}},
      {Codec::kOpus, {0xfc, 0xff, 0xfe}},
      {Codec::kUnknown, {0x90, 0x80, 0x81}},
  };
  for (const auto& c : cases) {
    PictureIdRewriter rw(c.codec);
    Bytes b = c.payload;
    EXPECT_TRUE(rw.rewrite(b.data(), b.size(), true));
    EXPECT_TRUE(rw.rewrite(b.data(), b.size(), false));
    rw.drop_picture(b);
    EXPECT_EQ(b, c.payload);
    EXPECT_EQ(rw.counters().passed_through, 2u);
    EXPECT_EQ(rw.counters().dropped_pictures, 0u);
  }
}

// A long L1T3 stream with TL2 dropped and periodic switches: the output must stay exactly
// consecutive (mod 2^15) through many wraps of the history ring and of all three counters.
TEST(PictureIdRewriter, LongStreamStaysConsecutive) {
  for (Codec codec : {Codec::kVp8, Codec::kVp9}) {
    SCOPED_TRACE(codec_name(codec));
    PictureIdRewriter rw(codec);
    uint16_t in_pid = 32000;
    uint8_t in_tl0 = 250;
    std::optional<uint16_t> last_pid;
    std::optional<uint8_t> last_tl0;
    for (int i = 0; i < 5000; ++i) {
      const int pos = i % 4;
      const uint8_t tid = pos == 0 ? 0 : pos == 2 ? 1 : 2;
      const bool switched = i > 0 && i % 400 == 0;
      if (switched) {
        in_pid = uint16_t((in_pid + 12345) & 0x7fff);  // another encoding, another base
        in_tl0 = uint8_t(in_tl0 + 97);
      }
      if (tid == 0 && !switched && i > 0) in_tl0 = uint8_t(in_tl0 + 1);
      Bytes b = packet(codec, {in_pid, in_tl0, tid});
      if (tid == 2) {
        rw.drop_picture(b);
      } else {
        ASSERT_TRUE(rw.rewrite(b.data(), b.size(), switched)) << i;
        const Out o = read_out(codec, b);
        if (last_pid) {
          ASSERT_EQ(o.pid, uint16_t((*last_pid + 1) & 0x7fff)) << i;
        }
        if (last_tl0) {
          const uint8_t want = tid == 0 ? uint8_t(*last_tl0 + 1) : *last_tl0;
          ASSERT_EQ(o.tl0, want) << i;
        }
        last_pid = o.pid;
        last_tl0 = o.tl0;
      }
      in_pid = uint16_t((in_pid + 1) & 0x7fff);
    }
    EXPECT_EQ(rw.counters().dropped_pictures, 2500u);
    EXPECT_EQ(rw.counters().switches, 12u);
  }
}

TEST(PictureIdRewriter, SurvivesRandomPacketsAndCalls) {
  std::mt19937 rng(15);
  for (Codec codec : {Codec::kVp8, Codec::kVp9}) {
    PictureIdRewriter rw(codec);
    Bytes buf;
    for (int i = 0; i < 30000; ++i) {
      buf.resize(rng() % 12);
      for (auto& b : buf) b = uint8_t(rng());
      if (rng() % 4 == 0) {
        rw.drop_picture(buf);
      } else {
        const Bytes before = buf;
        if (!rw.rewrite(buf.data(), buf.size(), rng() % 16 == 0)) {
          EXPECT_EQ(buf, before);
        }
      }
    }
  }
}

}  // namespace
}  // namespace strata::codecs
