// Round trips, index rollover, replay protection, tampering and malformed input.
#include "srtp/srtp_session.hpp"

#include <gtest/gtest.h>

#include "test_packets.hpp"

namespace strata::srtp {
namespace {

using testing::make_rtcp;
using testing::make_rtp;
using testing::RtpShape;

struct Pair {
  std::unique_ptr<SrtpSession> tx, rx;
};

Pair make_pair(SrtpProfile profile) {
  Bytes key(srtp_key_length(profile), 0x11), salt(srtp_salt_length(profile), 0x22);
  return {SrtpSession::create(profile, key, salt), SrtpSession::create(profile, key, salt)};
}

// Protects `plain` into a buffer sized exactly len + kSrtpMaxTrailer.
Bytes protect_rtp(SrtpSession& s, const Bytes& plain) {
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t out = 0;
  EXPECT_EQ(s.protect_rtp(buf.data(), plain.size(), buf.size(), &out), Status::kOk);
  buf.resize(out);
  return buf;
}

Bytes protect_rtcp(SrtpSession& s, const Bytes& plain) {
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t out = 0;
  EXPECT_EQ(s.protect_rtcp(buf.data(), plain.size(), buf.size(), &out), Status::kOk);
  buf.resize(out);
  return buf;
}

Status unprotect_rtp(SrtpSession& s, Bytes packet, Bytes* plain = nullptr) {
  size_t out = 0;
  Status st = s.unprotect_rtp(packet.data(), packet.size(), &out);
  if (plain && st == Status::kOk) *plain = Bytes(packet.begin(), packet.begin() + out);
  return st;
}

Status unprotect_rtcp(SrtpSession& s, Bytes packet, Bytes* plain = nullptr) {
  size_t out = 0;
  Status st = s.unprotect_rtcp(packet.data(), packet.size(), &out);
  if (plain && st == Status::kOk) *plain = Bytes(packet.begin(), packet.begin() + out);
  return st;
}

class SessionTest : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  std::mt19937 rng{7};
};

INSTANTIATE_TEST_SUITE_P(Profiles, SessionTest,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm,
                                           SrtpProfile::kAes128CmHmacSha1_80),
                         [](const auto& info) {
                           return info.param == SrtpProfile::kAeadAes128Gcm ? "Gcm" : "CmSha1";
                         });

TEST_P(SessionTest, CreateRejectsWrongKeyLengths) {
  EXPECT_FALSE(SrtpSession::create(GetParam(), Bytes(15), Bytes(srtp_salt_length(GetParam()))));
  EXPECT_FALSE(SrtpSession::create(GetParam(), Bytes(16), Bytes(13)));
}

TEST_P(SessionTest, RtpRoundTripWithShapes) {
  auto [tx, rx] = make_pair(GetParam());
  const RtpShape shapes[] = {{0, 0, 160}, {2, 0, 1}, {0, 3, 1200}, {15, 1, 0}, {1, 2, 17}};
  uint16_t seq = 100;
  for (const RtpShape& shape : shapes) {
    Bytes plain = make_rtp(0x1234, seq++, shape, rng);
    Bytes srtp = protect_rtp(*tx, plain);
    EXPECT_EQ(srtp.size(), plain.size() + tx->rtp_overhead());
    // Header (with CSRCs and extension) stays in the clear; the payload does not.
    const size_t header = plain.size() - shape.payload_size;
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + header, srtp.begin()));
    if (shape.payload_size >= 8) {
      EXPECT_FALSE(std::equal(plain.begin() + header, plain.end(), srtp.begin() + header));
    }
    Bytes back;
    ASSERT_EQ(unprotect_rtp(*rx, srtp, &back), Status::kOk);
    EXPECT_EQ(back, plain);
  }
}

TEST_P(SessionTest, RtpRolloverAndReorderAcrossWrap) {
  auto [tx, rx] = make_pair(GetParam());
  std::vector<Bytes> protected_packets;
  for (uint32_t i = 0; i < 40; ++i) {
    protected_packets.push_back(protect_rtp(*tx, make_rtp(7, uint16_t(65520 + i), {}, rng)));
  }
  // Deliver with neighbours swapped across the 65535 -> 0 boundary.
  for (size_t i = 0; i + 1 < protected_packets.size(); i += 2) {
    EXPECT_EQ(unprotect_rtp(*rx, protected_packets[i + 1]), Status::kOk) << i;
    EXPECT_EQ(unprotect_rtp(*rx, protected_packets[i]), Status::kOk) << i;
  }
}

TEST_P(SessionTest, SenderKeepsRocForLateRetransmissionAfterWrap) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes before_wrap = make_rtp(9, 65535, {}, rng);
  Bytes a = protect_rtp(*tx, before_wrap);
  Bytes b = protect_rtp(*tx, make_rtp(9, 2, {}, rng));
  Bytes again = protect_rtp(*tx, before_wrap);  // resent with the old ROC
  EXPECT_EQ(again, a);
  EXPECT_EQ(unprotect_rtp(*rx, a), Status::kOk);
  EXPECT_EQ(unprotect_rtp(*rx, b), Status::kOk);
  EXPECT_EQ(unprotect_rtp(*rx, again), Status::kReplayed);
}

TEST_P(SessionTest, RtpReplayAndTooOldAreRejected) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes first = protect_rtp(*tx, make_rtp(5, 1000, {}, rng));
  ASSERT_EQ(unprotect_rtp(*rx, first), Status::kOk);
  EXPECT_EQ(unprotect_rtp(*rx, first), Status::kReplayed);
  for (uint16_t s = 1001; s < 1001 + ReplayWindow::kSize; ++s) {
    ASSERT_EQ(unprotect_rtp(*rx, protect_rtp(*tx, make_rtp(5, s, {}, rng))), Status::kOk);
  }
  Bytes late = protect_rtp(*tx, make_rtp(5, 999, {}, rng));
  EXPECT_EQ(unprotect_rtp(*rx, late), Status::kTooOld);
  EXPECT_EQ(unprotect_rtp(*rx, first), Status::kTooOld);
}

TEST_P(SessionTest, FailedAuthDoesNotAdvanceReplayState) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes p = protect_rtp(*tx, make_rtp(5, 10, {}, rng));
  Bytes bad = p;
  bad[20] ^= 1;
  EXPECT_EQ(unprotect_rtp(*rx, bad), Status::kAuthFailed);
  EXPECT_EQ(rx->ssrc_count(), 0u);
  EXPECT_EQ(unprotect_rtp(*rx, p), Status::kOk);
}

TEST_P(SessionTest, EveryTamperedByteFailsAuthentication) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes p = protect_rtp(*tx, make_rtp(5, 10, {1, 1, 40}, rng));
  for (size_t i = 0; i < p.size(); ++i) {
    Bytes bad = p;
    bad[i] ^= 0x01;
    Status st = unprotect_rtp(*rx, bad);
    // Flipping the CSRC count or extension length can make the header unparseable.
    EXPECT_TRUE(st == Status::kAuthFailed || st == Status::kBadPacket) << i << " " << to_string(st);
  }
  EXPECT_EQ(unprotect_rtp(*rx, p), Status::kOk);
}

TEST_P(SessionTest, RtcpRoundTripReplayAndTamper) {
  auto [tx, rx] = make_pair(GetParam());
  for (uint16_t words : {0, 1, 6, 300}) {
    Bytes plain = make_rtcp(0xabcd, words, rng);
    Bytes srtcp = protect_rtcp(*tx, plain);
    EXPECT_EQ(srtcp.size(), plain.size() + tx->rtcp_overhead());
    Bytes bad = srtcp;
    bad[bad.size() / 2] ^= 0x80;
    EXPECT_EQ(unprotect_rtcp(*rx, bad), Status::kAuthFailed);
    Bytes back;
    ASSERT_EQ(unprotect_rtcp(*rx, srtcp, &back), Status::kOk);
    EXPECT_EQ(back, plain);
    EXPECT_EQ(unprotect_rtcp(*rx, srtcp), Status::kReplayed);
  }
}

TEST_P(SessionTest, RtcpIndexStartsAtZeroWithEBitSet) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes a = protect_rtcp(*tx, make_rtcp(1, 2, rng));
  Bytes b = protect_rtcp(*tx, make_rtcp(1, 2, rng));
  const size_t at = GetParam() == SrtpProfile::kAeadAes128Gcm ? a.size() - 4 : a.size() - 14;
  EXPECT_EQ(load_be32(&a[at]), 0x80000000u);
  EXPECT_EQ(load_be32(&b[at]), 0x80000001u);
}

TEST_P(SessionTest, RtcpIndexExhaustion) {
  auto [tx, rx] = make_pair(GetParam());
  tx->set_next_srtcp_index(1, 0x7fffffff);
  Bytes plain = make_rtcp(1, 2, rng);
  protect_rtcp(*tx, plain);
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t out = 0;
  EXPECT_EQ(tx->protect_rtcp(buf.data(), plain.size(), buf.size(), &out), Status::kKeyExhausted);
}

TEST_P(SessionTest, ShortBadAndNoSpace) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes buf(64, 0);
  buf[0] = 0x80;
  size_t out = 0;
  EXPECT_EQ(tx->protect_rtp(buf.data(), 11, buf.size(), &out), Status::kTooShort);
  EXPECT_EQ(tx->protect_rtp(buf.data(), 20, 25, &out), Status::kNoSpace);
  EXPECT_EQ(tx->protect_rtcp(buf.data(), 7, buf.size(), &out), Status::kTooShort);
  EXPECT_EQ(tx->protect_rtcp(buf.data(), 20, 30, &out), Status::kNoSpace);
  EXPECT_EQ(rx->unprotect_rtp(buf.data(), 12 + rx->rtp_overhead() - 1, &out), Status::kTooShort);
  EXPECT_EQ(rx->unprotect_rtcp(buf.data(), 8 + rx->rtcp_overhead() - 1, &out), Status::kTooShort);
  buf[0] = 0x40;  // version 1
  EXPECT_EQ(tx->protect_rtp(buf.data(), 20, buf.size(), &out), Status::kBadPacket);
  EXPECT_EQ(tx->protect_rtcp(buf.data(), 20, buf.size(), &out), Status::kBadPacket);
  buf[0] = 0x8f;  // 15 CSRCs do not fit in 20 bytes
  EXPECT_EQ(tx->protect_rtp(buf.data(), 20, buf.size(), &out), Status::kBadPacket);
  buf[0] = 0x90;  // extension header runs past the end
  EXPECT_EQ(tx->protect_rtp(buf.data(), 14, buf.size(), &out), Status::kBadPacket);
}

// Random and truncated input: every call must return an error, never read or write out of
// bounds (each buffer is exactly as large as the length/capacity given; run under ASan).
TEST_P(SessionTest, GarbageNeverCrashes) {
  auto [tx, rx] = make_pair(GetParam());
  Bytes valid = protect_rtp(*tx, make_rtp(3, 1, {2, 2, 30}, rng));
  for (int iter = 0; iter < 4000; ++iter) {
    const size_t len = rng() % 80;
    Bytes buf(len);
    for (auto& b : buf) b = uint8_t(rng());
    if (iter % 2 && len) buf[0] = uint8_t(0x80 | (buf[0] & 0x3f));  // mostly version 2
    if (iter % 5 == 0) {  // truncations of a valid packet
      buf.assign(valid.begin(), valid.begin() + std::min(len, valid.size() - 1));
    }
    size_t out = 0;
    Bytes copy = buf;
    EXPECT_NE(rx->unprotect_rtp(copy.data(), copy.size(), &out), Status::kOk);
    copy = buf;
    EXPECT_NE(rx->unprotect_rtcp(copy.data(), copy.size(), &out), Status::kOk);
    // protect must stay inside `capacity` even when the header claims more, and refuse
    // when the tag (and SRTCP index) cannot fit.
    copy = buf;
    const bool too_small = iter % 3 == 0;
    copy.resize(len + (too_small ? 3 : kSrtpMaxTrailer));
    out = 0;
    Status st = tx->protect_rtp(copy.data(), len, copy.size(), &out);
    if (too_small) {
      EXPECT_NE(st, Status::kOk);
    }
    if (st == Status::kOk) {
      EXPECT_LE(out, copy.size());
    }
    copy = buf;
    copy.resize(len + (too_small ? 3 : kSrtpMaxTrailer));
    out = 0;
    st = tx->protect_rtcp(copy.data(), len, copy.size(), &out);
    if (too_small) {
      EXPECT_NE(st, Status::kOk);
    }
    if (st == Status::kOk) {
      EXPECT_LE(out, copy.size());
    }
  }
}

TEST(ReplayWindowTest, EstimateFollowsRfc3711Rules) {
  ReplayWindow w;
  EXPECT_EQ(w.estimate_rtp_index(40000), 40000u);
  w.add(65530);
  EXPECT_EQ(w.estimate_rtp_index(3), (1u << 16) | 3);   // wrapped forward
  EXPECT_EQ(w.estimate_rtp_index(65000), 65000u);        // same ROC
  w.add((1u << 16) | 3);
  EXPECT_EQ(w.estimate_rtp_index(65534), 65534u);        // late packet from ROC 0
  EXPECT_EQ(w.estimate_rtp_index(200), (1u << 16) | 200);
}

}  // namespace
}  // namespace strata::srtp
