// SRTP protection profiles negotiated by DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2) and
// the keying material DTLS exports for them. Shared by dtls/ (producer) and srtp/ (user).
#pragma once
#include <cstddef>

#include "common/bytes.hpp"

namespace strata {

enum class SrtpProfile {
  kAeadAes128Gcm,        // SRTP_AEAD_AES_128_GCM (0x0007): 16-byte key, 12-byte salt, 16-byte tag
  kAes128CmHmacSha1_80,  // SRTP_AES128_CM_HMAC_SHA1_80 (0x0001): 16-byte key, 14-byte salt, 10-byte tag
};

constexpr size_t srtp_key_length(SrtpProfile) { return 16; }
constexpr size_t srtp_salt_length(SrtpProfile p) { return p == SrtpProfile::kAeadAes128Gcm ? 12 : 14; }
// Largest number of bytes protection appends to an RTP packet (tag) or RTCP packet (tag+index).
constexpr size_t kSrtpMaxTrailer = 16 + 4;

// Master keys already split by direction: `local_*` protects what we send,
// `remote_*` unprotects what we receive (RFC 5764 §4.2).
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  Bytes local_key, local_salt;
  Bytes remote_key, remote_salt;
};

}  // namespace strata
