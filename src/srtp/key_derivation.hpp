// SRTP key derivation (RFC 3711 §4.3) with the AES-CM PRF (§4.3.3), which RFC 7714 §11
// reuses unchanged for AES-GCM. Runs once per session, never per packet.
#pragma once
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/srtp_keys.hpp"

namespace strata::srtp {

// Key derivation labels (RFC 3711 §4.3.2).
enum class KdfLabel : uint8_t {
  kRtpEncryption = 0x00,
  kRtpAuth = 0x01,
  kRtpSalt = 0x02,
  kRtcpEncryption = 0x03,
  kRtcpAuth = 0x04,
  kRtcpSalt = 0x05,
};

// The keys for one of RTP or RTCP. `auth_key` is empty for AEAD profiles.
struct SessionKeys {
  Bytes cipher_key;  // 16 bytes
  Bytes auth_key;    // 20 bytes (HMAC-SHA1) or empty (GCM)
  Bytes salt;        // 14 bytes (AES-CM) or 12 bytes (GCM)
};

struct DerivedKeys {
  SessionKeys rtp;
  SessionKeys rtcp;
};

// AES-CM PRF output of `length` bytes for `label`, key derivation rate 0 (r = 0).
// `master_salt` is 14 bytes, or 12 bytes for GCM, which is zero-padded on the right to
// the 112-bit PRF input (RFC 7714 §11; libsrtp does the same). nullopt on bad sizes.
std::optional<Bytes> derive_key(ByteSpan master_key, ByteSpan master_salt, KdfLabel label,
                                size_t length);

// All six session keys a profile needs. nullopt when key or salt length is wrong.
std::optional<DerivedKeys> derive_session_keys(SrtpProfile profile, ByteSpan master_key,
                                               ByteSpan master_salt);

}  // namespace strata::srtp
