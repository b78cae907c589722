// RFC 7714 §16.1.1 (SRTP) and §17.1.1 (SRTCP) AEAD_AES_128_GCM vectors. They give the
// session key and salt directly, so the session is built without key derivation.
#include <gtest/gtest.h>

#include "srtp/srtp_session.hpp"

namespace strata::srtp {
namespace {

const Bytes kKey = from_hex("000102030405060708090a0b0c0d0e0f");
const Bytes kSalt = from_hex("517569642070726f2071756f");  // "Quid pro quo"

const char* kRtpPlain =
    "8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120"
    "696e207061727465732074726573";
const char* kRtpProtected =
    "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f"
    "42a5f47a51c7d19b36de3adf8833 899d7f27beb16a9152cf765ee4390cce";
const char* kRtcpPlain =
    "81c8000d4d617273 4e5450314e5450325254502000 00042a0000e9304c756e61"
    "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
const char* kRtcpProtected =
    "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f7"
    "6c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275b c84aa45896cf4d2fc5abf87245d9eade"
    "800005d4";

std::unique_ptr<SrtpSession> rfc_session() {
  SessionKeys keys{kKey, {}, kSalt};
  return SrtpSession::create_from_session_keys(SrtpProfile::kAeadAes128Gcm, keys, keys);
}

TEST(Rfc7714, SrtpProtectAndUnprotect) {
  Bytes buf = from_hex(kRtpPlain);
  const size_t len = buf.size();
  buf.resize(len + kSrtpMaxTrailer);
  size_t out_len = 0;
  auto tx = rfc_session();
  ASSERT_EQ(tx->protect_rtp(buf.data(), len, buf.size(), &out_len), Status::kOk);
  EXPECT_EQ(to_hex(ByteSpan(buf).first(out_len)), to_hex(from_hex(kRtpProtected)));

  auto rx = rfc_session();
  size_t plain_len = 0;
  ASSERT_EQ(rx->unprotect_rtp(buf.data(), out_len, &plain_len), Status::kOk);
  EXPECT_EQ(to_hex(ByteSpan(buf).first(plain_len)), to_hex(from_hex(kRtpPlain)));
}

TEST(Rfc7714, SrtcpProtectAndUnprotect) {
  Bytes buf = from_hex(kRtcpPlain);
  const size_t len = buf.size();
  buf.resize(len + kSrtpMaxTrailer);
  size_t out_len = 0;
  auto tx = rfc_session();
  tx->set_next_srtcp_index(0x4d617273, 0x5d4);
  ASSERT_EQ(tx->protect_rtcp(buf.data(), len, buf.size(), &out_len), Status::kOk);
  EXPECT_EQ(to_hex(ByteSpan(buf).first(out_len)), to_hex(from_hex(kRtcpProtected)));

  auto rx = rfc_session();
  size_t plain_len = 0;
  ASSERT_EQ(rx->unprotect_rtcp(buf.data(), out_len, &plain_len), Status::kOk);
  EXPECT_EQ(to_hex(ByteSpan(buf).first(plain_len)), to_hex(from_hex(kRtcpPlain)));
}

}  // namespace
}  // namespace strata::srtp
