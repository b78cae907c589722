#include "loadtest/vp8_packetizer.hpp"

#include <gtest/gtest.h>

#include "codecs/vp8.hpp"

namespace strata::loadtest {
namespace {

TEST(Vp8PacketizerTest, SplitsEvenlyAndReassembles) {
  struct Case { size_t frame, max, packets; };
  for (auto c : std::vector<Case>{{1, 1200, 1}, {1196, 1200, 1}, {1197, 1200, 2}, {5000, 1200, 5}, {10, 5, 10}}) {
    Bytes frame(c.frame);
    for (size_t i = 0; i < frame.size(); ++i) frame[i] = uint8_t(i * 7);
    frame[0] = 0x10;  // keyframe bit clear
    Vp8Packetizer pk(frame, 0x1234, c.max);
    ASSERT_EQ(pk.packet_count(), c.packets) << c.frame;
    Bytes joined;
    uint8_t buf[1500];
    for (size_t i = 0; i < pk.packet_count(); ++i) {
      size_t n = pk.write(i, buf, sizeof buf);
      ASSERT_GT(n, kVp8DescriptorSize);
      ASSERT_LE(n, c.max);
      auto d = codecs::parse_vp8(ByteSpan(buf, n));
      ASSERT_TRUE(d);
      EXPECT_EQ(d->start_of_partition, i == 0);
      EXPECT_TRUE(d->has_picture_id);
      EXPECT_TRUE(d->picture_id_15bit);
      EXPECT_EQ(d->picture_id, 0x1234);
      EXPECT_EQ(d->size, kVp8DescriptorSize);
      if (i == 0) EXPECT_TRUE(d->keyframe);
      joined.insert(joined.end(), buf + n - (n - kVp8DescriptorSize), buf + n);
    }
    EXPECT_EQ(joined, frame);
  }
}

TEST(Vp8PacketizerTest, PictureIdIs15BitsAndEdgeCases) {
  Bytes frame(10, 1);
  uint8_t buf[64];
  Vp8Packetizer pk(frame, 0xFFFF, 100);
  ASSERT_EQ(pk.write(0, buf, sizeof buf), 14u);
  EXPECT_EQ(codecs::parse_vp8(ByteSpan(buf, 14))->picture_id, 0x7FFF);
  EXPECT_EQ(pk.write(1, buf, sizeof buf), 0u);  // out of range
  EXPECT_EQ(pk.write(0, buf, 5), 0u);           // no room
  EXPECT_EQ(Vp8Packetizer(Bytes{}, 1, 100).packet_count(), 0u);
  EXPECT_EQ(Vp8Packetizer(frame, 1, 4).packet_count(), 0u);
}

}  // namespace
}  // namespace strata::loadtest
