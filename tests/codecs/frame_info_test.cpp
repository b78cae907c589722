#include <gtest/gtest.h>

#include <random>

#include "codecs/codec.hpp"

namespace strata::codecs {
namespace {

struct TidCase {
  const char* name;
  Codec codec;
  Bytes payload;
  std::optional<uint8_t> tid;
};

TEST(TemporalLayerId, TableAcrossCodecs) {
  const TidCase cases[] = {
      // VP8 (RFC 7741 §4.2): X|S, then I|L|T, 15-bit pid, TL0PICIDX, |TID|Y|KEYIDX|.
      {"vp8 tid 2", Codec::kVp8, {0x90, 0xe0, 0x81, 0x00, 0x07, 0xa0, 0x01}, 2},
      {"vp8 tid 0", Codec::kVp8, {0x90, 0x20, 0x00, 0x01}, 0},
      {"vp8 tid 1 via T+K", Codec::kVp8, {0x90, 0x30, 0x45, 0x01}, 1},
      {"vp8 no T bit", Codec::kVp8, {0x90, 0x80, 0x05, 0x00}, std::nullopt},
      {"vp8 K only", Codec::kVp8, {0x90, 0x10, 0xc0, 0x00}, std::nullopt},
      {"vp8 truncated", Codec::kVp8, {0x90, 0x20}, std::nullopt},
      // VP9 (RFC 9628 §4.2): L bit then |TID|U|SID|D|.
      {"vp9 tid 2 non-flexible", Codec::kVp9, {0xa8, 0x92, 0x34, 0x53, 0x07, 0xaa}, 2},
      {"vp9 tid 1 flexible", Codec::kVp9, {0xb8, 0x92, 0x34, 0x20, 0xaa}, 1},
      {"vp9 tid 0", Codec::kVp9, {0x28, 0x00, 0x00, 0xaa}, 0},
      {"vp9 no L", Codec::kVp9, {0x88, 0x05, 0xaa}, std::nullopt},
      {"vp9 truncated", Codec::kVp9, {0xa8, 0x92, 0x34, 0x53}, std::nullopt},
      // Not in the payload for these (see codec.hpp).
      {"h264", Codec::kH264, {0x65, 0x88}, std::nullopt},
      {"av1", Codec::kAv1, {0x10, 0x0a}, std::nullopt},
      {"opus", Codec::kOpus, {0xfc, 0x00}, std::nullopt},
      {"unknown", Codec::kUnknown, {0x90, 0x20, 0x00, 0x01}, std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(temporal_layer_id(c.codec, c.payload), c.tid) << c.name;
}

struct StartCase {
  const char* name;
  Codec codec;
  Bytes payload;
  bool start;
};

TEST(FrameStart, TableAcrossCodecs) {
  const StartCase cases[] = {
      {"vp8 S pid0", Codec::kVp8, {0x10, 0x01}, true},
      {"vp8 S pid0 with ext", Codec::kVp8, {0x90, 0x80, 0x05, 0x01}, true},
      {"vp8 continuation", Codec::kVp8, {0x00, 0x01}, false},
      {"vp8 S pid1", Codec::kVp8, {0x11, 0x01}, false},
      {"vp8 descriptor only", Codec::kVp8, {0x10}, false},
      {"vp9 B", Codec::kVp9, {0x88, 0x05, 0xaa}, true},
      {"vp9 B spatial layer 1", Codec::kVp9, {0xa8, 0x05, 0x02, 0x00, 0xaa}, true},
      {"vp9 not B", Codec::kVp9, {0x84, 0x05, 0xaa}, false},
      {"vp9 truncated", Codec::kVp9, {0x88}, false},
      {"h264 single nal", Codec::kH264, {0x41, 0x9a}, true},
      {"h264 stap-a", Codec::kH264, {0x78, 0x00, 0x02, 0x67, 0x42}, true},
      {"h264 stap-a header only", Codec::kH264, {0x78}, false},
      {"h264 fu-a start", Codec::kH264, {0x7c, 0x85, 0x88}, true},
      {"h264 fu-a middle", Codec::kH264, {0x7c, 0x05, 0x88}, false},
      {"h264 fu-a end", Codec::kH264, {0x7c, 0x45, 0x88}, false},
      {"h264 fu-a truncated", Codec::kH264, {0x7c}, false},
      {"h264 fu-b", Codec::kH264, {0x7d, 0x85, 0x00}, false},
      {"h264 empty", Codec::kH264, {}, false},
      {"av1 Z=0", Codec::kAv1, {0x10, 0x0a}, true},
      {"av1 Z=1 continuation", Codec::kAv1, {0x90, 0x0a}, false},
      {"av1 header only", Codec::kAv1, {0x10}, false},
      {"opus", Codec::kOpus, {0xfc}, true},
      {"opus empty", Codec::kOpus, {}, false},
      {"unknown", Codec::kUnknown, {0x10, 0x01}, false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_frame_start(c.codec, c.payload), c.start) << c.name;
}

TEST(FrameInfo, SurvivesRandomBytes) {
  std::mt19937 rng(7741);
  Bytes buf;
  for (int iter = 0; iter < 20000; ++iter) {
    buf.resize(rng() % 16);
    for (auto& b : buf) b = uint8_t(rng());
    for (Codec c : {Codec::kVp8, Codec::kVp9, Codec::kH264, Codec::kAv1, Codec::kOpus, Codec::kUnknown}) {
      const auto tid = temporal_layer_id(c, buf);
      if (tid) {
        EXPECT_LT(*tid, 8);
      }
      (void)is_frame_start(c, buf);
    }
  }
}

}  // namespace
}  // namespace strata::codecs
