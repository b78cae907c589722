#include "common/bytes.hpp"

#include <gtest/gtest.h>

namespace strata {

TEST(Bytes, BigEndianRoundTrip) {
  uint8_t buf[8];
  store_be16(buf, 0xBEEF);
  EXPECT_EQ(load_be16(buf), 0xBEEF);
  store_be24(buf, 0x123456);
  EXPECT_EQ(load_be24(buf), 0x123456u);
  store_be32(buf, 0xDEADBEEF);
  EXPECT_EQ(buf[0], 0xDE);
  EXPECT_EQ(load_be32(buf), 0xDEADBEEFu);
  store_be64(buf, 0x0102030405060708ULL);
  EXPECT_EQ(load_be64(buf), 0x0102030405060708ULL);
}

TEST(Bytes, HexRoundTripAndRejectsBadInput) {
  Bytes b = from_hex("00 ff 10 Ab");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(to_hex(b), "00ff10ab");
  EXPECT_TRUE(from_hex("abc").empty());
  EXPECT_TRUE(from_hex("zz").empty());
}

TEST(Bytes, WriterAppends) {
  Bytes out;
  ByteWriter w(out);
  w.u8(1);
  w.u16(0x0203);
  w.u32(0x04050607);
  w.str("hi");
  EXPECT_EQ(to_hex(out), "0102030405060768" "69");
}

}  // namespace strata
