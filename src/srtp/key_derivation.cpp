#include "srtp/key_derivation.hpp"

#include <openssl/evp.h>

#include <memory>

namespace strata::srtp {

namespace {

constexpr size_t kPrfSaltLength = 14;  // 112-bit x in RFC 3711 §4.3.1
constexpr size_t kHmacSha1KeyLength = 20;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

std::optional<Bytes> derive_key(ByteSpan master_key, ByteSpan master_salt, KdfLabel label,
                                size_t length) {
  if (master_key.size() != 16 || master_salt.size() > kPrfSaltLength) return std::nullopt;
  // x = key_id XOR master_salt, key_id = label || r (48 bits, here 0), right-aligned in
  // the 112-bit salt, so the label lands on byte 7. IV = x * 2^16 (§4.3.1, §4.3.3).
  uint8_t iv[16] = {};
  std::copy(master_salt.begin(), master_salt.end(), iv);
  iv[7] ^= uint8_t(label);

  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, master_key.data(), iv) != 1) {
    return std::nullopt;
  }
  // The PRF output is the AES-CM keystream: encrypt zeros.
  Bytes out(length, 0);
  int out_len = 0;
  if (length && EVP_EncryptUpdate(ctx.get(), out.data(), &out_len, out.data(), int(length)) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<DerivedKeys> derive_session_keys(SrtpProfile profile, ByteSpan master_key,
                                               ByteSpan master_salt) {
  if (master_key.size() != srtp_key_length(profile) ||
      master_salt.size() != srtp_salt_length(profile)) {
    return std::nullopt;
  }
  const bool aead = profile == SrtpProfile::kAeadAes128Gcm;
  const size_t salt_length = srtp_salt_length(profile);
  auto derive_set = [&](KdfLabel enc, KdfLabel auth, KdfLabel salt) -> std::optional<SessionKeys> {
    auto k = derive_key(master_key, master_salt, enc, 16);
    auto s = derive_key(master_key, master_salt, salt, salt_length);
    if (!k || !s) return std::nullopt;
    SessionKeys keys{std::move(*k), {}, std::move(*s)};
    if (!aead) {
      auto a = derive_key(master_key, master_salt, auth, kHmacSha1KeyLength);
      if (!a) return std::nullopt;
      keys.auth_key = std::move(*a);
    }
    return keys;
  };
  auto rtp = derive_set(KdfLabel::kRtpEncryption, KdfLabel::kRtpAuth, KdfLabel::kRtpSalt);
  auto rtcp = derive_set(KdfLabel::kRtcpEncryption, KdfLabel::kRtcpAuth, KdfLabel::kRtcpSalt);
  if (!rtp || !rtcp) return std::nullopt;
  return DerivedKeys{std::move(*rtp), std::move(*rtcp)};
}

}  // namespace strata::srtp
