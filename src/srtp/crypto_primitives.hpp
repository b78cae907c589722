// Thin, allocation-free wrappers over OpenSSL 3 for the SRTP per-packet path.
// Each object is keyed once (control path); per packet only the IV changes, so no key
// schedule is recomputed and nothing is allocated (RFC 3711 §4.1.1, RFC 7714 §8).
//
// OpenSSL 3 puts a provider between EVP and the cipher; every parameter crossing it is
// looked up by name (strcmp). The ciphers are fetched once per process (no implicit fetch
// per context), the IV is set with EVP_CipherInit_ex2 alone, and the GCM tag goes through
// a prebuilt OSSL_PARAM array instead of EVP_CIPHER_CTX_ctrl, which builds one per call
// and also runs the legacy ctrl dispatch (issue 14: ~4% of a fan-out worker's CPU).
#pragma once
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"

namespace strata::srtp {

// AES-128 in counter mode (RFC 3711 §4.1.1). Encryption and decryption are the same XOR.
class AesCtr {
 public:
  AesCtr() = default;
  ~AesCtr();
  AesCtr(const AesCtr&) = delete;
  AesCtr& operator=(const AesCtr&) = delete;

  bool set_key(ByteSpan key);  // 16 bytes
  // XORs the keystream that starts at counter block `iv` into data[0..len).
  bool apply(const uint8_t iv[16], uint8_t* data, size_t len);

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

// AES-128-GCM with a 12-byte IV and 16-byte tag (RFC 7714 §7). One operation is
// begin() -> aad()* -> crypt()* -> seal()/open().
class AesGcm {
 public:
  static constexpr size_t kTagLength = 16;
  AesGcm() = default;
  ~AesGcm();
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  bool set_key(ByteSpan key);  // 16 bytes
  bool begin(const uint8_t iv[12], bool encrypt);
  bool aad(const uint8_t* data, size_t len);
  bool crypt(uint8_t* data, size_t len);  // in place
  bool seal(uint8_t tag[kTagLength]);      // encrypt: writes the tag
  bool open(const uint8_t tag[kTagLength]);  // decrypt: false when the tag does not verify

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
  bool encrypt_ = true;  // the direction of the current operation
};

// HMAC-SHA1 (RFC 2104) with the key folded into precomputed inner and outer SHA-1
// states. Per message we copy two plain structs instead of re-keying: measured faster
// than EVP_MAC re-init, which duplicates provider contexts (heap) on every call; see
// bench/srtp_bench.cpp.
class HmacSha1 {
 public:
  static constexpr size_t kDigestLength = 20;
  void set_key(ByteSpan key);
  // HMAC over the concatenation a || b (b may be empty), full 20-byte digest.
  void compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
               uint8_t out[kDigestLength]) const;

 private:
  SHA_CTX inner_{};
  SHA_CTX outer_{};
};

}  // namespace strata::srtp
