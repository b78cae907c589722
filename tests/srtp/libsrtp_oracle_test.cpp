// Oracle tests against Debian's libsrtp2: for both profiles, random master keys, several
// SSRCs, sequences across the 65535 -> 0 rollover, with and without CSRCs and header
// extensions, our output must equal libsrtp's byte for byte and each side must
// unprotect the other's packets. Same for SRTCP.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include "srtp/srtp_session.hpp"
#include "test_packets.hpp"

namespace strata::srtp {
namespace {

using testing::make_rtcp;
using testing::make_rtp;
using testing::RtpShape;

class LibSrtp {
 public:
  LibSrtp(SrtpProfile profile, const Bytes& key, const Bytes& salt, bool outbound) {
    static const bool initialized = srtp_init() == srtp_err_status_ok;
    EXPECT_TRUE(initialized);
    key_salt_ = key;
    key_salt_.insert(key_salt_.end(), salt.begin(), salt.end());
    srtp_policy_t policy{};
    if (profile == SrtpProfile::kAeadAes128Gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = key_salt_.data();
    policy.allow_repeat_tx = 1;
    EXPECT_EQ(srtp_create(&ctx_, &policy), srtp_err_status_ok);
  }
  ~LibSrtp() { srtp_dealloc(ctx_); }

  Bytes protect(const Bytes& plain, bool rtcp) {
    Bytes buf = plain;
    buf.resize(plain.size() + SRTP_MAX_TRAILER_LEN);
    int len = int(plain.size());
    auto st = rtcp ? srtp_protect_rtcp(ctx_, buf.data(), &len) : srtp_protect(ctx_, buf.data(), &len);
    EXPECT_EQ(st, srtp_err_status_ok);
    buf.resize(size_t(len));
    return buf;
  }
  bool unprotect(Bytes packet, const Bytes& expected, bool rtcp) {
    int len = int(packet.size());
    auto st = rtcp ? srtp_unprotect_rtcp(ctx_, packet.data(), &len)
                   : srtp_unprotect(ctx_, packet.data(), &len);
    if (st != srtp_err_status_ok) return false;
    packet.resize(size_t(len));
    return packet == expected;
  }

 private:
  srtp_t ctx_ = nullptr;
  Bytes key_salt_;
};

Bytes ours_protect(SrtpSession& s, const Bytes& plain, bool rtcp) {
  Bytes buf = plain;
  buf.resize(plain.size() + kSrtpMaxTrailer);
  size_t out = 0;
  Status st = rtcp ? s.protect_rtcp(buf.data(), plain.size(), buf.size(), &out)
                   : s.protect_rtp(buf.data(), plain.size(), buf.size(), &out);
  EXPECT_EQ(st, Status::kOk) << to_string(st);
  buf.resize(out);
  return buf;
}

bool ours_unprotect(SrtpSession& s, Bytes packet, const Bytes& expected, bool rtcp) {
  size_t out = 0;
  Status st = rtcp ? s.unprotect_rtcp(packet.data(), packet.size(), &out)
                   : s.unprotect_rtp(packet.data(), packet.size(), &out);
  if (st != Status::kOk) return false;
  packet.resize(out);
  return packet == expected;
}

struct Endpoints {
  std::unique_ptr<SrtpSession> our_tx, our_rx;
  std::unique_ptr<LibSrtp> their_tx, their_rx;
};

Endpoints make_endpoints(SrtpProfile profile, std::mt19937& rng) {
  Bytes key(srtp_key_length(profile)), salt(srtp_salt_length(profile));
  for (auto& b : key) b = uint8_t(rng());
  for (auto& b : salt) b = uint8_t(rng());
  return {SrtpSession::create(profile, key, salt), SrtpSession::create(profile, key, salt),
          std::make_unique<LibSrtp>(profile, key, salt, true),
          std::make_unique<LibSrtp>(profile, key, salt, false)};
}

class OracleTest : public ::testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(Profiles, OracleTest,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm,
                                           SrtpProfile::kAes128CmHmacSha1_80),
                         [](const auto& info) {
                           return info.param == SrtpProfile::kAeadAes128Gcm ? "Gcm" : "CmSha1";
                         });

TEST_P(OracleTest, RtpMatchesLibsrtpAcrossRollover) {
  std::mt19937 rng(1234);
  const RtpShape shapes[] = {{0, 0, 160}, {2, 0, 1200}, {0, 2, 50}, {3, 1, 7}, {0, 0, 0}};
  for (int round = 0; round < 3; ++round) {
    Endpoints e = make_endpoints(GetParam(), rng);
    const uint32_t ssrcs[] = {0x11111111u, 0xdeadbeefu, uint32_t(rng())};
    for (uint32_t ssrc : ssrcs) {
      const uint16_t start = uint16_t(65500 + rng() % 30);
      for (uint32_t i = 0; i < 80; ++i) {
        const uint16_t seq = uint16_t(start + i);
        Bytes plain = make_rtp(ssrc, seq, shapes[(i + ssrc) % 5], rng);
        Bytes ours = ours_protect(*e.our_tx, plain, false);
        Bytes theirs = e.their_tx->protect(plain, false);
        ASSERT_EQ(to_hex(ours), to_hex(theirs)) << "ssrc " << ssrc << " seq " << seq;
        EXPECT_TRUE(e.their_rx->unprotect(ours, plain, false)) << seq;
        EXPECT_TRUE(ours_unprotect(*e.our_rx, theirs, plain, false)) << seq;
      }
    }
  }
}

TEST_P(OracleTest, RtcpMatchesLibsrtp) {
  std::mt19937 rng(99);
  for (int round = 0; round < 3; ++round) {
    Endpoints e = make_endpoints(GetParam(), rng);
    const uint32_t ssrcs[] = {0x01020304u, uint32_t(rng())};
    for (uint32_t ssrc : ssrcs) {
      e.our_tx->set_next_srtcp_index(ssrc, 1);  // libsrtp's first SRTCP index is 1
      for (int i = 0; i < 20; ++i) {
        Bytes plain = make_rtcp(ssrc, uint16_t(i * 7 % 40), rng);
        Bytes ours = ours_protect(*e.our_tx, plain, true);
        Bytes theirs = e.their_tx->protect(plain, true);
        ASSERT_EQ(to_hex(ours), to_hex(theirs)) << "ssrc " << ssrc << " packet " << i;
        EXPECT_TRUE(e.their_rx->unprotect(ours, plain, true)) << i;
        EXPECT_TRUE(ours_unprotect(*e.our_rx, theirs, plain, true)) << i;
      }
    }
  }
}

// Without aligning the SRTCP index (ours starts at 0 as RFC 3711 §3.4 says) the bytes
// differ, but libsrtp must still accept every packet.
TEST_P(OracleTest, LibsrtpAcceptsOurRtcpFromIndexZero) {
  std::mt19937 rng(5);
  Endpoints e = make_endpoints(GetParam(), rng);
  for (int i = 0; i < 5; ++i) {
    Bytes plain = make_rtcp(77, 6, rng);
    EXPECT_TRUE(e.their_rx->unprotect(ours_protect(*e.our_tx, plain, true), plain, true));
  }
}

}  // namespace
}  // namespace strata::srtp
