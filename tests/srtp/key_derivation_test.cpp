// RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation) test vectors.
#include "srtp/key_derivation.hpp"

#include <gtest/gtest.h>

#include "srtp/crypto_primitives.hpp"

namespace strata::srtp {
namespace {

const Bytes kMasterKey = from_hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kMasterSalt = from_hex("0EC675AD498AFEEBB6960B3AABE6");

struct DeriveCase {
  KdfLabel label;
  size_t length;
  const char* expected;
};

class RfcB3Test : public ::testing::TestWithParam<DeriveCase> {};

TEST_P(RfcB3Test, DerivesTheRfcSessionKey) {
  const DeriveCase& c = GetParam();
  auto out = derive_key(kMasterKey, kMasterSalt, c.label, c.length);
  ASSERT_TRUE(out);
  EXPECT_EQ(to_hex(*out), to_hex(from_hex(c.expected)));
}

INSTANTIATE_TEST_SUITE_P(
    Appendix, RfcB3Test,
    ::testing::Values(
        DeriveCase{KdfLabel::kRtpEncryption, 16, "C61E7A93744F39EE10734AFE3FF7A087"},
        DeriveCase{KdfLabel::kRtpSalt, 14, "30CBBC08863D8C85D49DB34A9AE1"},
        DeriveCase{KdfLabel::kRtpAuth, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"},
        // B.3 lists 94 octets of auth key material.
        DeriveCase{KdfLabel::kRtpAuth, 94,
                   "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                   "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                   "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"}));

TEST(KeyDerivation, SessionKeysForCmProfileUseRfcLengths) {
  auto keys = derive_session_keys(SrtpProfile::kAes128CmHmacSha1_80, kMasterKey, kMasterSalt);
  ASSERT_TRUE(keys);
  EXPECT_EQ(to_hex(keys->rtp.cipher_key), to_hex(from_hex("C61E7A93744F39EE10734AFE3FF7A087")));
  EXPECT_EQ(keys->rtp.auth_key.size(), 20u);
  EXPECT_EQ(keys->rtp.salt.size(), 14u);
  EXPECT_EQ(keys->rtcp.auth_key.size(), 20u);
  EXPECT_NE(keys->rtp.cipher_key, keys->rtcp.cipher_key);
}

TEST(KeyDerivation, SessionKeysForGcmHaveNoAuthKeyAndShortSalt) {
  Bytes salt(12, 0x42);
  auto keys = derive_session_keys(SrtpProfile::kAeadAes128Gcm, kMasterKey, salt);
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->rtp.auth_key.empty());
  EXPECT_EQ(keys->rtp.salt.size(), 12u);
  EXPECT_EQ(keys->rtcp.salt.size(), 12u);
}

TEST(KeyDerivation, RejectsWrongLengths) {
  EXPECT_FALSE(derive_session_keys(SrtpProfile::kAes128CmHmacSha1_80, kMasterKey, Bytes(12)));
  EXPECT_FALSE(derive_session_keys(SrtpProfile::kAeadAes128Gcm, kMasterKey, kMasterSalt));
  EXPECT_FALSE(derive_session_keys(SrtpProfile::kAeadAes128Gcm, Bytes(15), Bytes(12)));
  EXPECT_FALSE(derive_key(Bytes(32), kMasterSalt, KdfLabel::kRtpSalt, 14));
}

// B.2: keystream for session key 2B7E..., salt F0F1...FCFD, SSRC 0, index 0. The segment
// is 65282 blocks long; the RFC lists the first and last three blocks.
TEST(AesCtr, RfcB2Keystream) {
  AesCtr ctr;
  ASSERT_TRUE(ctr.set_key(from_hex("2B7E151628AED2A6ABF7158809CF4F3C")));
  Bytes iv = from_hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
  Bytes stream(65282 * 16, 0);
  ASSERT_TRUE(ctr.apply(iv.data(), stream.data(), stream.size()));
  EXPECT_EQ(to_hex(ByteSpan(stream).first(48)),
            to_hex(from_hex("E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB"
                            "41E95B3BB0A2E8DD477901E4FCA894C0")));
  EXPECT_EQ(to_hex(ByteSpan(stream).last(48)),
            to_hex(from_hex("EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE"
                            "6A2CC3787889374FBEB4C81B17BA6C44")));
}

// RFC 2202 test case 2 checks the precomputed-state HMAC against a known answer.
TEST(HmacSha1, Rfc2202Case2) {
  HmacSha1 mac;
  const std::string key = "Jefe";
  mac.set_key(ByteSpan(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  const std::string a = "what do ya want ", b = "for nothing?";
  uint8_t out[20];
  mac.compute(reinterpret_cast<const uint8_t*>(a.data()), a.size(),
              reinterpret_cast<const uint8_t*>(b.data()), b.size(), out);
  EXPECT_EQ(to_hex(ByteSpan(out, 20)), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

}  // namespace
}  // namespace strata::srtp
