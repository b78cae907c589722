// OpenSSL 3 deprecates the low-level SHA1_* API, but it is the only allocation-free way
// to snapshot a keyed HMAC state; EVP_MD_CTX_copy_ex duplicates provider state on the heap.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "srtp/crypto_primitives.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstring>

namespace strata::srtp {

namespace {
// Fetched once for the process and never freed: an EVP_CIPHER_CTX keyed with a fetched
// cipher skips the per-context implicit fetch (a locked lookup in the provider store).
const EVP_CIPHER* fetched(const char* name) {
  return EVP_CIPHER_fetch(nullptr, name, nullptr);
}
const EVP_CIPHER* aes_128_ctr() {
  static const EVP_CIPHER* cipher = fetched("AES-128-CTR");
  return cipher;
}
const EVP_CIPHER* aes_128_gcm() {
  static const EVP_CIPHER* cipher = fetched("AES-128-GCM");
  return cipher;
}
}  // namespace

AesCtr::~AesCtr() { EVP_CIPHER_CTX_free(ctx_); }

bool AesCtr::set_key(ByteSpan key) {
  if (key.size() != 16) return false;
  if (!ctx_) ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_) return false;
  static const uint8_t kZeroIv[16] = {};
  const EVP_CIPHER* cipher = aes_128_ctr();
  return cipher && EVP_CipherInit_ex2(ctx_, cipher, key.data(), kZeroIv, 1, nullptr) == 1;
}

bool AesCtr::apply(const uint8_t iv[16], uint8_t* data, size_t len) {
  // NULL cipher and key: keep the key schedule, reset the counter block only.
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, 1, nullptr) != 1) return false;
  int out_len = 0;
  return len == 0 || EVP_EncryptUpdate(ctx_, data, &out_len, data, int(len)) == 1;
}

AesGcm::~AesGcm() { EVP_CIPHER_CTX_free(ctx_); }

bool AesGcm::set_key(ByteSpan key) {
  if (key.size() != 16) return false;
  if (!ctx_) ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_) return false;
  // The default GCM IV length is 12 bytes, which is what RFC 7714 §8.1 uses.
  const EVP_CIPHER* cipher = aes_128_gcm();
  return cipher && EVP_CipherInit_ex2(ctx_, cipher, key.data(), nullptr, 1, nullptr) == 1;
}

bool AesGcm::begin(const uint8_t iv[12], bool encrypt) {
  // Key schedule and GHASH key stay; only the IV (and the direction) is set.
  encrypt_ = encrypt;
  return EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, encrypt ? 1 : 0, nullptr) == 1;
}

bool AesGcm::aad(const uint8_t* data, size_t len) {
  int out_len = 0;
  return len == 0 || EVP_CipherUpdate(ctx_, nullptr, &out_len, data, int(len)) == 1;
}

bool AesGcm::crypt(uint8_t* data, size_t len) {
  int out_len = 0;
  return len == 0 || EVP_CipherUpdate(ctx_, data, &out_len, data, int(len)) == 1;
}

// The tag crosses the provider boundary as one octet-string parameter; the array is
// built on the stack from constants (no lookup of ours, no allocation).
bool AesGcm::seal(uint8_t tag[kTagLength]) {
  int out_len = 0;
  uint8_t dummy[16];
  if (!encrypt_ || EVP_CipherFinal_ex(ctx_, dummy, &out_len) != 1) return false;
  OSSL_PARAM params[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kTagLength), OSSL_PARAM_END};
  return EVP_CIPHER_CTX_get_params(ctx_, params) == 1;
}

bool AesGcm::open(const uint8_t tag[kTagLength]) {
  if (encrypt_) return false;
  OSSL_PARAM params[2] = {
      OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, const_cast<uint8_t*>(tag), kTagLength), OSSL_PARAM_END};
  if (EVP_CIPHER_CTX_set_params(ctx_, params) != 1) return false;
  int out_len = 0;
  uint8_t dummy[16];
  return EVP_CipherFinal_ex(ctx_, dummy, &out_len) == 1;
}

void HmacSha1::set_key(ByteSpan key) {
  // RFC 2104 §2: keys longer than the block are hashed first; SRTP keys are 20 bytes.
  uint8_t block[SHA_CBLOCK] = {};
  if (key.size() > SHA_CBLOCK) {
    SHA1(key.data(), key.size(), block);
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[SHA_CBLOCK];
  for (size_t i = 0; i < SHA_CBLOCK; ++i) pad[i] = block[i] ^ 0x36;
  SHA1_Init(&inner_);
  SHA1_Update(&inner_, pad, sizeof(pad));
  for (size_t i = 0; i < SHA_CBLOCK; ++i) pad[i] = block[i] ^ 0x5c;
  SHA1_Init(&outer_);
  SHA1_Update(&outer_, pad, sizeof(pad));
}

void HmacSha1::compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                       uint8_t out[kDigestLength]) const {
  SHA_CTX ctx = inner_;
  SHA1_Update(&ctx, a, a_len);
  if (b_len) SHA1_Update(&ctx, b, b_len);
  uint8_t inner_digest[kDigestLength];
  SHA1_Final(inner_digest, &ctx);
  ctx = outer_;
  SHA1_Update(&ctx, inner_digest, sizeof(inner_digest));
  SHA1_Final(out, &ctx);
}

}  // namespace strata::srtp
