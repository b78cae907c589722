#include <gtest/gtest.h>

#include "codecs/codec.hpp"

namespace strata::codecs {

struct KeyCase {
  const char* name;
  Codec codec;
  Bytes payload;
  bool key;
};

TEST(Keyframe, TableAcrossCodecs) {
  const KeyCase cases[] = {
      // VP8 (RFC 7741): descriptor then payload header whose bit 0 is P (0 = keyframe).
      {"vp8 key", Codec::kVp8, {0x10, 0x50, 0x01, 0x00, 0x9d}, true},
      {"vp8 key 15-bit pid + tl0 + tid", Codec::kVp8, {0x90, 0xe0, 0x80, 0x01, 0x00, 0x00, 0x50}, true},
      {"vp8 delta", Codec::kVp8, {0x10, 0x51}, false},
      {"vp8 continuation", Codec::kVp8, {0x00, 0x50}, false},
      {"vp8 second partition", Codec::kVp8, {0x11, 0x50}, false},
      {"vp8 descriptor only", Codec::kVp8, {0x10}, false},
      // VP9 (RFC 9628 §4.2): |I|P|L|F|B|E|V|Z|
      {"vp9 key B only", Codec::kVp9, {0x08, 0x00}, true},
      {"vp9 key with pid", Codec::kVp9, {0x88, 0x85, 0x00, 0x00}, true},
      {"vp9 key L sid0", Codec::kVp9, {0xaa, 0x05, 0x00, 0x11, 0x00}, true},
      {"vp9 L sid1", Codec::kVp9, {0xaa, 0x05, 0x02, 0x11, 0x00}, false},
      {"vp9 inter predicted", Codec::kVp9, {0x48, 0x00}, false},
      {"vp9 not begin", Codec::kVp9, {0x04, 0x00}, false},
      {"vp9 truncated pid", Codec::kVp9, {0x88}, false},
      {"vp9 truncated layer", Codec::kVp9, {0xa8, 0x05}, false},
      // H.264 (RFC 6184): NAL header low 5 bits = type.
      {"h264 idr", Codec::kH264, {0x65, 0x88}, true},
      {"h264 sps", Codec::kH264, {0x67, 0x42}, true},
      {"h264 pps", Codec::kH264, {0x68, 0xce}, false},
      {"h264 non-idr", Codec::kH264, {0x41, 0x9a}, false},
      {"h264 stap-a sps+pps", Codec::kH264, {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
      {"h264 stap-a idr second", Codec::kH264, {0x78, 0x00, 0x01, 0x06, 0x00, 0x02, 0x65, 0x88}, true},
      {"h264 stap-a sei only", Codec::kH264, {0x78, 0x00, 0x02, 0x06, 0x05}, false},
      {"h264 stap-a bad size", Codec::kH264, {0x78, 0x00, 0x09, 0x67}, false},
      {"h264 stap-a zero size", Codec::kH264, {0x78, 0x00, 0x00, 0x00, 0x01, 0x65}, false},
      {"h264 fu-a idr start", Codec::kH264, {0x7c, 0x85, 0x88}, true},
      {"h264 fu-a idr middle", Codec::kH264, {0x7c, 0x05, 0x88}, false},
      {"h264 fu-a non-idr start", Codec::kH264, {0x7c, 0x81, 0x9a}, false},
      {"h264 fu-a truncated", Codec::kH264, {0x7c}, false},
      // AV1 aggregation header: |Z|Y|W|W|N|-|-|-|
      {"av1 new sequence", Codec::kAv1, {0x18, 0x0a}, true},
      {"av1 ordinary", Codec::kAv1, {0x10, 0x32}, false},
      {"av1 header only", Codec::kAv1, {0x08}, false},
      // Opus and unknown never report keyframes.
      {"opus", Codec::kOpus, {0x78, 0x01}, false},
      {"unknown", Codec::kUnknown, {0x65}, false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_keyframe(c.codec, c.payload), c.key) << c.name;
}

TEST(Keyframe, EmptyPayloadIsNeverKey) {
  for (Codec c : {Codec::kOpus, Codec::kVp8, Codec::kVp9, Codec::kH264, Codec::kAv1, Codec::kUnknown}) {
    EXPECT_FALSE(is_keyframe(c, ByteSpan{}));
  }
}

TEST(Keyframe, TruncatedKeyPayloadsNeverReadPastEnd) {
  // Copy each prefix into an exactly sized heap buffer so ASan/valgrind would catch overreads.
  struct Sample {
    Codec codec;
    Bytes bytes;
  };
  const Sample samples[] = {
      {Codec::kVp8, {0x90, 0xe0, 0x80, 0x01, 0x00, 0x00, 0x50}},
      {Codec::kVp9, {0xaa, 0x85, 0x05, 0x00, 0x11, 0x00}},
      {Codec::kH264, {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}},
  };
  for (const auto& s : samples) {
    // The whole sample is a keyframe of its codec, so the prefixes cut a real keyframe.
    EXPECT_TRUE(is_keyframe(s.codec, s.bytes)) << int(s.codec);
    for (size_t n = 0; n <= s.bytes.size(); ++n) {
      Bytes prefix(s.bytes.begin(), s.bytes.begin() + n);
      for (Codec c : {Codec::kVp8, Codec::kVp9, Codec::kH264, Codec::kAv1}) (void)is_keyframe(c, prefix);
    }
    EXPECT_FALSE(is_keyframe(s.codec, ByteSpan(s.bytes.data(), 1))) << int(s.codec);
  }
}

TEST(Keyframe, SurvivesRandomBytes) {
  uint32_t state = 777;
  for (int iter = 0; iter < 20000; ++iter) {
    state = state * 1664525u + 1013904223u;
    Bytes buf(state >> 28);
    for (auto& b : buf) {
      state = state * 1664525u + 1013904223u;
      b = uint8_t(state >> 24);
    }
    for (Codec c : {Codec::kVp8, Codec::kVp9, Codec::kH264, Codec::kAv1}) (void)is_keyframe(c, buf);
  }
}

}  // namespace strata::codecs
