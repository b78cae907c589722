// SRTP/SRTCP packet protection (RFC 3711) for AES_CM_128_HMAC_SHA1_80 and
// AEAD_AES_128_GCM (RFC 7714). One session is one direction of one DTLS-SRTP
// association: the SFU calls protect_* on outbound sessions (once per viewer per
// forwarded packet) and unprotect_* on inbound ones.
//
// All calls work in place on the caller's buffer, never allocate once an SSRC is
// known and never read outside [buf, buf+len) / write outside [buf, buf+capacity).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "common/srtp_keys.hpp"
#include "srtp/crypto_primitives.hpp"
#include "srtp/key_derivation.hpp"
#include "srtp/replay_window.hpp"

namespace strata::srtp {

enum class Status {
  kOk,
  kTooShort,    // shorter than the fixed header plus tag/trailer
  kAuthFailed,  // tag mismatch (packet forged, corrupted, or wrong key/ROC)
  kReplayed,    // index already accepted (§3.3.2)
  kTooOld,      // index left behind the replay window
  kNoSpace,     // capacity cannot hold the appended tag/trailer
  kBadPacket,   // not RTP/RTCP version 2, or a header that runs past the packet
  kKeyExhausted,  // SRTCP index would wrap 2^31 (§3.4: rekey before that)
};
const char* to_string(Status s);

class SrtpSession {
 public:
  // Derives the session keys (RFC 3711 §4.3) once. nullptr on wrong key/salt length
  // (srtp_key_length / srtp_salt_length in common/srtp_keys.hpp) or OpenSSL failure.
  static std::unique_ptr<SrtpSession> create(SrtpProfile profile, ByteSpan master_key,
                                             ByteSpan master_salt);
  // Skips derivation; for test vectors that give session keys (RFC 7714 §16/§17).
  static std::unique_ptr<SrtpSession> create_from_session_keys(SrtpProfile profile,
                                                               const SessionKeys& rtp,
                                                               const SessionKeys& rtcp);

  SrtpProfile profile() const { return profile_; }
  // Bytes appended by protect_rtp (10 or 16) and protect_rtcp (14 or 20).
  size_t rtp_overhead() const;
  size_t rtcp_overhead() const;

  // In place. `capacity` is the buffer size; the tag (and for SRTCP the E||index word) is
  // appended, so capacity >= len + kSrtpMaxTrailer is always enough. `*out_len` gets the
  // new length. On failure the buffer contents are unspecified for unprotect (GCM
  // decrypts before it verifies) and unchanged for protect.
  Status protect_rtp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len);
  Status unprotect_rtp(uint8_t* buf, size_t len, size_t* out_len);
  Status protect_rtcp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len);
  Status unprotect_rtcp(uint8_t* buf, size_t len, size_t* out_len);

  // The SRTCP index the next protect_rtcp for `ssrc` uses (RFC 3711 §3.4 starts at 0;
  // libsrtp starts at 1). For tests and interop checks.
  void set_next_srtcp_index(uint32_t ssrc, uint32_t index);
  size_t ssrc_count() const { return streams_.size(); }

 private:
  // Per-SSRC state (§3.2.3 cryptographic context minus the keys, which are per session).
  struct Stream {
    uint32_t ssrc = 0;
    uint32_t srtcp_next = 0;  // sender: next SRTCP index
    ReplayWindow rtp;         // sender: only its highest index (ROC || s_l) is used
    ReplayWindow rtcp;        // receiver only
  };
  struct Keys {
    AesCtr ctr;  // AES-CM profile
    AesGcm gcm;  // GCM profile
    HmacSha1 hmac;
    uint8_t salt[14] = {};
  };

  explicit SrtpSession(SrtpProfile profile) : profile_(profile) {}
  bool init_keys(Keys& k, const SessionKeys& in);
  bool aead() const { return profile_ == SrtpProfile::kAeadAes128Gcm; }
  Stream* find_stream(uint32_t ssrc);
  Stream& find_or_add_stream(uint32_t ssrc);

  bool cm_crypt_rtp(uint8_t* buf, size_t header_len, size_t payload_end, uint32_t ssrc,
                    uint64_t index);
  void cm_rtp_tag(const uint8_t* buf, size_t len, uint32_t roc, uint8_t tag[20]) const;
  bool gcm_rtp(uint8_t* buf, size_t header_len, size_t payload_end, uint32_t ssrc,
               uint64_t index, bool encrypt);
  void gcm_rtcp_iv(uint32_t ssrc, uint32_t index, uint8_t iv[12]) const;

  SrtpProfile profile_;
  Keys rtp_keys_;
  Keys rtcp_keys_;
  std::vector<Stream> streams_;
  size_t last_stream_ = 0;  // most packets in a burst share an SSRC
};

}  // namespace strata::srtp
