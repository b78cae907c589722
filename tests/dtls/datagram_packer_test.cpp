#include "dtls/datagram_packer.hpp"

#include <gtest/gtest.h>

#include <random>

namespace strata::dtls {
namespace {

Bytes make_record(uint8_t type, size_t fragment_size) {
  Bytes r(kDtlsRecordHeaderSize + fragment_size, 0xaa);
  r[0] = type;
  r[1] = 0xfe;
  r[2] = 0xfd;
  store_be16(&r[11], uint16_t(fragment_size));
  return r;
}

struct PackCase {
  const char* name;
  std::vector<size_t> fragment_sizes;
  size_t mtu;
  std::vector<size_t> expected_datagram_sizes;
};

class PackRecords : public testing::TestWithParam<PackCase> {};

TEST_P(PackRecords, SplitsAtRecordBoundariesWithinMtu) {
  const PackCase& c = GetParam();
  Bytes stream;
  for (size_t s : c.fragment_sizes) {
    Bytes r = make_record(22, s);
    stream.insert(stream.end(), r.begin(), r.end());
  }
  std::vector<Bytes> out;
  pack_records_into_datagrams(stream, c.mtu, out);
  std::vector<size_t> sizes;
  Bytes joined;
  for (const Bytes& d : out) {
    sizes.push_back(d.size());
    joined.insert(joined.end(), d.begin(), d.end());
  }
  EXPECT_EQ(sizes, c.expected_datagram_sizes);
  EXPECT_EQ(joined, stream);  // nothing lost or reordered
}

INSTANTIATE_TEST_SUITE_P(
    All, PackRecords,
    testing::Values(PackCase{"empty", {}, 1200, {}},
                    PackCase{"one", {100}, 1200, {113}},
                    PackCase{"two_fit", {100, 200}, 1200, {326}},
                    PackCase{"exact_fit", {87, 87}, 200, {200}},
                    PackCase{"one_over", {87, 88}, 200, {100, 101}},
                    PackCase{"three_split", {500, 500, 500}, 1200, {1026, 513}},
                    PackCase{"oversized_alone", {50, 1300, 50}, 1200, {63, 1313, 63}},
                    PackCase{"empty_fragments", {0, 0, 0}, 26, {26, 13}}),
    [](const testing::TestParamInfo<PackCase>& info) { return std::string(info.param.name); });

TEST(PackRecords, TruncatedTailIsKeptWithoutOverread) {
  Bytes stream = make_record(23, 40);
  stream.resize(stream.size() - 5);  // fragment shorter than its length field
  std::vector<Bytes> out;
  pack_records_into_datagrams(stream, 1200, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], stream);

  Bytes header_only = {22, 0xfe, 0xfd, 0, 0};  // shorter than a record header
  out.clear();
  pack_records_into_datagrams(header_only, 1200, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], header_only);
}

TEST(PackRecords, RandomStreamsNeverLoseBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    Bytes stream(rng() % 3000);
    for (auto& b : stream) b = uint8_t(rng());
    std::vector<Bytes> out;
    pack_records_into_datagrams(stream, 100 + rng() % 1200, out);
    size_t total = 0;
    for (const Bytes& d : out) {
      EXPECT_FALSE(d.empty());
      total += d.size();
    }
    EXPECT_EQ(total, stream.size());
  }
}

struct DemuxCase {
  Bytes datagram;
  bool dtls;
};

class LooksLikeDtls : public testing::TestWithParam<DemuxCase> {};

TEST_P(LooksLikeDtls, ClassifiesByFirstByteAndLength) {
  EXPECT_EQ(looks_like_dtls(GetParam().datagram), GetParam().dtls);
}

INSTANTIATE_TEST_SUITE_P(All, LooksLikeDtls,
                         testing::Values(DemuxCase{Bytes(13, 22), true}, DemuxCase{Bytes(13, 20), true},
                                         DemuxCase{Bytes(13, 63), true}, DemuxCase{Bytes(13, 19), false},
                                         DemuxCase{Bytes(13, 64), false},   // SRTP/RTCP range
                                         DemuxCase{Bytes(13, 0), false},    // STUN
                                         DemuxCase{Bytes(12, 22), false},   // too short
                                         DemuxCase{Bytes(), false}),
                         [](const testing::TestParamInfo<DemuxCase>& info) {
                           const Bytes& d = info.param.datagram;
                           return "first" + (d.empty() ? std::string("none") : std::to_string(d[0])) + "_len" + std::to_string(d.size());
                         });

}  // namespace
}  // namespace strata::dtls
