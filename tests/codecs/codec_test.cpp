#include "codecs/codec.hpp"

#include <gtest/gtest.h>

namespace strata::codecs {

TEST(Codec, FromNameIsCaseInsensitive) {
  struct Case {
    const char* name;
    Codec want;
  };
  const Case cases[] = {
      {"opus", Codec::kOpus}, {"OPUS", Codec::kOpus}, {"VP8", Codec::kVp8}, {"vp8", Codec::kVp8},
      {"Vp9", Codec::kVp9},   {"H264", Codec::kH264}, {"h264", Codec::kH264}, {"av1", Codec::kAv1},
      {"AV1", Codec::kAv1},   {"", Codec::kUnknown},  {"H265", Codec::kUnknown}, {"vp", Codec::kUnknown},
      {"rtx", Codec::kUnknown},
  };
  for (const auto& c : cases) EXPECT_EQ(codec_from_name(c.name), c.want) << c.name;
}

TEST(Codec, NameAndKind) {
  EXPECT_EQ(codec_name(Codec::kVp8), "VP8");
  EXPECT_EQ(codec_name(Codec::kUnknown), "unknown");
  EXPECT_TRUE(is_video(Codec::kH264));
  EXPECT_FALSE(is_video(Codec::kOpus));
  EXPECT_FALSE(is_video(Codec::kUnknown));
}

}  // namespace strata::codecs
