#include "srtp/srtp_session.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace strata::srtp {

namespace {

constexpr size_t kRtpFixedHeader = 12;        // RFC 3550 §5.1
constexpr size_t kRtcpFixedHeader = 8;        // header word + sender SSRC (RFC 3711 §3.4)
constexpr size_t kHmacTagLength = 10;         // HMAC-SHA1-80
constexpr size_t kGcmTagLength = AesGcm::kTagLength;
constexpr size_t kSrtcpIndexLength = 4;       // E flag || 31-bit SRTCP index
constexpr uint32_t kSrtcpEncryptedFlag = 0x80000000u;
constexpr uint32_t kSrtcpIndexMask = 0x7fffffffu;

// Length of the RTP header including CSRCs and the header extension (RFC 3550 §5.3.1).
// These bytes are authenticated but never encrypted (RFC 3711 §3.1, RFC 7714 §8.2 AAD).
Status rtp_header_length(const uint8_t* buf, size_t len, size_t* header_len) {
  if (len < kRtpFixedHeader) return Status::kTooShort;
  if ((buf[0] >> 6) != 2) return Status::kBadPacket;
  size_t h = kRtpFixedHeader + 4 * size_t(buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (h + 4 > len) return Status::kBadPacket;
    h += 4 + 4 * size_t(load_be16(buf + h + 2));
  }
  if (h > len) return Status::kBadPacket;
  *header_len = h;
  return Status::kOk;
}

bool rtcp_version_ok(const uint8_t* buf) { return (buf[0] >> 6) == 2; }

Status replay_status(ReplayCheck c) {
  switch (c) {
    case ReplayCheck::kNew: return Status::kOk;
    case ReplayCheck::kReplayed: return Status::kReplayed;
    case ReplayCheck::kTooOld: return Status::kTooOld;
  }
  return Status::kBadPacket;
}

// Counter block for AES-CM (RFC 3711 §4.1.1):
// IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i the 48-bit packet or SRTCP index.
void cm_iv(const uint8_t salt[14], uint32_t ssrc, uint64_t index, uint8_t iv[16]) {
  std::memcpy(iv, salt, 14);
  iv[14] = iv[15] = 0;
  uint8_t word[4];
  store_be32(word, ssrc);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= word[i];
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= uint8_t(index >> (8 * (5 - i)));
}

}  // namespace

const char* to_string(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kTooShort: return "too short";
    case Status::kAuthFailed: return "auth failed";
    case Status::kReplayed: return "replayed";
    case Status::kTooOld: return "too old";
    case Status::kNoSpace: return "no space";
    case Status::kBadPacket: return "bad packet";
    case Status::kKeyExhausted: return "key exhausted";
  }
  return "?";
}

std::unique_ptr<SrtpSession> SrtpSession::create(SrtpProfile profile, ByteSpan master_key,
                                                 ByteSpan master_salt) {
  auto keys = derive_session_keys(profile, master_key, master_salt);
  if (!keys) return nullptr;
  return create_from_session_keys(profile, keys->rtp, keys->rtcp);
}

std::unique_ptr<SrtpSession> SrtpSession::create_from_session_keys(SrtpProfile profile,
                                                                   const SessionKeys& rtp,
                                                                   const SessionKeys& rtcp) {
  std::unique_ptr<SrtpSession> s(new SrtpSession(profile));
  if (!s->init_keys(s->rtp_keys_, rtp) || !s->init_keys(s->rtcp_keys_, rtcp)) return nullptr;
  s->streams_.reserve(8);
  return s;
}

bool SrtpSession::init_keys(Keys& k, const SessionKeys& in) {
  if (in.salt.size() != srtp_salt_length(profile_)) return false;
  std::memcpy(k.salt, in.salt.data(), in.salt.size());
  if (aead()) return k.gcm.set_key(in.cipher_key);
  if (in.auth_key.empty()) return false;
  k.hmac.set_key(in.auth_key);
  return k.ctr.set_key(in.cipher_key);
}

size_t SrtpSession::rtp_overhead() const { return aead() ? kGcmTagLength : kHmacTagLength; }
size_t SrtpSession::rtcp_overhead() const { return rtp_overhead() + kSrtcpIndexLength; }

SrtpSession::Stream* SrtpSession::find_stream(uint32_t ssrc) {
  if (last_stream_ < streams_.size() && streams_[last_stream_].ssrc == ssrc) {
    return &streams_[last_stream_];
  }
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].ssrc == ssrc) {
      last_stream_ = i;
      return &streams_[i];
    }
  }
  return nullptr;
}

SrtpSession::Stream& SrtpSession::find_or_add_stream(uint32_t ssrc) {
  if (Stream* s = find_stream(ssrc)) return *s;
  Stream stream;
  stream.ssrc = ssrc;
  streams_.push_back(stream);  // allocates only when an SSRC is first seen
  last_stream_ = streams_.size() - 1;
  return streams_.back();
}

void SrtpSession::set_next_srtcp_index(uint32_t ssrc, uint32_t index) {
  find_or_add_stream(ssrc).srtcp_next = index & kSrtcpIndexMask;
}

// ---------------------------------------------------------------------------------- RTP

bool SrtpSession::cm_crypt_rtp(uint8_t* buf, size_t header_len, size_t payload_end,
                               uint32_t ssrc, uint64_t index) {
  uint8_t iv[16];
  cm_iv(rtp_keys_.salt, ssrc, index, iv);
  return rtp_keys_.ctr.apply(iv, buf + header_len, payload_end - header_len);
}

// RFC 3711 §4.2: the tag covers the authenticated portion followed by the 32-bit ROC.
void SrtpSession::cm_rtp_tag(const uint8_t* buf, size_t len, uint32_t roc,
                             uint8_t tag[20]) const {
  uint8_t roc_be[4];
  store_be32(roc_be, roc);
  rtp_keys_.hmac.compute(buf, len, roc_be, sizeof(roc_be), tag);
}

// RFC 7714 §8.1: IV = salt XOR (0x0000 || SSRC || ROC || SEQ); the header (with CSRCs
// and extension) is the AAD (§8.2), the payload the plaintext, the tag follows it.
bool SrtpSession::gcm_rtp(uint8_t* buf, size_t header_len, size_t payload_end, uint32_t ssrc,
                          uint64_t index, bool encrypt) {
  uint8_t iv[12];
  std::memcpy(iv, rtp_keys_.salt, 12);
  uint8_t word[4];
  store_be32(word, ssrc);
  for (int i = 0; i < 4; ++i) iv[2 + i] ^= word[i];
  for (int i = 0; i < 6; ++i) iv[6 + i] ^= uint8_t(index >> (8 * (5 - i)));
  AesGcm& gcm = rtp_keys_.gcm;
  if (!gcm.begin(iv, encrypt) || !gcm.aad(buf, header_len) ||
      !gcm.crypt(buf + header_len, payload_end - header_len)) {
    return false;
  }
  return encrypt ? gcm.seal(buf + payload_end) : gcm.open(buf + payload_end);
}

Status SrtpSession::protect_rtp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) {
  size_t header_len = 0;
  if (Status st = rtp_header_length(buf, len, &header_len); st != Status::kOk) return st;
  const size_t tag_len = rtp_overhead();
  if (capacity < len || capacity - len < tag_len) return Status::kNoSpace;

  const uint32_t ssrc = load_be32(buf + 8);
  Stream& stream = find_or_add_stream(ssrc);
  // The sender estimates the index like a receiver would (§3.3.1), so forwarded packets
  // that arrive out of order keep their ROC; repeats (retransmissions) are allowed.
  const uint64_t index = stream.rtp.estimate_rtp_index(load_be16(buf + 2));
  const uint32_t roc = uint32_t(index >> 16);

  if (aead()) {
    if (!gcm_rtp(buf, header_len, len, ssrc, index, true)) return Status::kBadPacket;
  } else {
    if (!cm_crypt_rtp(buf, header_len, len, ssrc, index)) return Status::kBadPacket;
    uint8_t tag[HmacSha1::kDigestLength];
    cm_rtp_tag(buf, len, roc, tag);
    std::memcpy(buf + len, tag, kHmacTagLength);
  }
  stream.rtp.add(index);
  *out_len = len + tag_len;
  return Status::kOk;
}

Status SrtpSession::unprotect_rtp(uint8_t* buf, size_t len, size_t* out_len) {
  const size_t tag_len = rtp_overhead();
  if (len < kRtpFixedHeader + tag_len) return Status::kTooShort;
  const size_t payload_end = len - tag_len;
  size_t header_len = 0;
  if (Status st = rtp_header_length(buf, payload_end, &header_len); st != Status::kOk) {
    return st;
  }

  const uint32_t ssrc = load_be32(buf + 8);
  Stream* stream = find_stream(ssrc);
  // Unknown SSRCs get no state until a packet authenticates (§3.3.1: ROC 0, s_l = SEQ).
  ReplayWindow fresh;
  const ReplayWindow& window = stream ? stream->rtp : fresh;
  const uint64_t index = window.estimate_rtp_index(load_be16(buf + 2));
  if (Status st = replay_status(window.check(index)); st != Status::kOk) return st;

  if (aead()) {
    if (!gcm_rtp(buf, header_len, payload_end, ssrc, index, false)) return Status::kAuthFailed;
  } else {
    // Verify before decrypting (§3.3 step 5-6), in constant time.
    uint8_t tag[HmacSha1::kDigestLength];
    cm_rtp_tag(buf, payload_end, uint32_t(index >> 16), tag);
    if (CRYPTO_memcmp(tag, buf + payload_end, kHmacTagLength) != 0) return Status::kAuthFailed;
    if (!cm_crypt_rtp(buf, header_len, payload_end, ssrc, index)) return Status::kBadPacket;
  }
  if (!stream) stream = &find_or_add_stream(ssrc);
  stream->rtp.add(index);
  *out_len = payload_end;
  return Status::kOk;
}

// --------------------------------------------------------------------------------- RTCP

// RFC 7714 §9.1: IV = salt XOR (0x0000 || SSRC || 0x0000 || 0 || SRTCP index).
void SrtpSession::gcm_rtcp_iv(uint32_t ssrc, uint32_t index, uint8_t iv[12]) const {
  std::memcpy(iv, rtcp_keys_.salt, 12);
  uint8_t word[4];
  store_be32(word, ssrc);
  for (int i = 0; i < 4; ++i) iv[2 + i] ^= word[i];
  store_be32(word, index & kSrtcpIndexMask);
  for (int i = 0; i < 4; ++i) iv[8 + i] ^= word[i];
}

Status SrtpSession::protect_rtcp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) {
  if (len < kRtcpFixedHeader) return Status::kTooShort;
  if (!rtcp_version_ok(buf)) return Status::kBadPacket;
  const size_t trailer = rtcp_overhead();
  if (capacity < len || capacity - len < trailer) return Status::kNoSpace;

  const uint32_t ssrc = load_be32(buf + 4);
  Stream& stream = find_or_add_stream(ssrc);
  const uint32_t index = stream.srtcp_next;
  if (index > kSrtcpIndexMask) return Status::kKeyExhausted;
  uint8_t e_index[4];
  store_be32(e_index, kSrtcpEncryptedFlag | index);

  if (aead()) {
    // §9: AAD = first 8 octets || E||index; layout header | ciphertext | tag | E||index.
    uint8_t iv[12];
    gcm_rtcp_iv(ssrc, index, iv);
    AesGcm& gcm = rtcp_keys_.gcm;
    if (!gcm.begin(iv, true) || !gcm.aad(buf, kRtcpFixedHeader) || !gcm.aad(e_index, 4) ||
        !gcm.crypt(buf + kRtcpFixedHeader, len - kRtcpFixedHeader) || !gcm.seal(buf + len)) {
      return Status::kBadPacket;
    }
    std::memcpy(buf + len + kGcmTagLength, e_index, 4);
  } else {
    // RFC 3711 §3.4: encrypt from octet 8, append E||index, tag over everything.
    uint8_t iv[16];
    cm_iv(rtcp_keys_.salt, ssrc, index, iv);
    if (!rtcp_keys_.ctr.apply(iv, buf + kRtcpFixedHeader, len - kRtcpFixedHeader)) {
      return Status::kBadPacket;
    }
    std::memcpy(buf + len, e_index, 4);
    uint8_t tag[HmacSha1::kDigestLength];
    rtcp_keys_.hmac.compute(buf, len + 4, nullptr, 0, tag);
    std::memcpy(buf + len + 4, tag, kHmacTagLength);
  }
  // §3.4: incremented after each packet; a wrap of 2^31 needs a new key.
  stream.srtcp_next = index + 1;
  *out_len = len + trailer;
  return Status::kOk;
}

Status SrtpSession::unprotect_rtcp(uint8_t* buf, size_t len, size_t* out_len) {
  const size_t trailer = rtcp_overhead();
  if (len < kRtcpFixedHeader + trailer) return Status::kTooShort;
  if (!rtcp_version_ok(buf)) return Status::kBadPacket;

  const size_t tag_len = rtp_overhead();
  // CM: ... | E||index | tag.  GCM: ... | tag | E||index.
  const size_t e_index_at = aead() ? len - kSrtcpIndexLength : len - tag_len - kSrtcpIndexLength;
  const size_t tag_at = aead() ? len - trailer : len - tag_len;
  const size_t body_end = len - trailer;
  const uint32_t e_index = load_be32(buf + e_index_at);
  const bool encrypted = e_index & kSrtcpEncryptedFlag;
  const uint32_t index = e_index & kSrtcpIndexMask;

  const uint32_t ssrc = load_be32(buf + 4);
  Stream* stream = find_stream(ssrc);
  if (stream) {
    if (Status st = replay_status(stream->rtcp.check(index)); st != Status::kOk) return st;
  }

  if (aead()) {
    uint8_t iv[12];
    gcm_rtcp_iv(ssrc, index, iv);
    AesGcm& gcm = rtcp_keys_.gcm;
    // §9.3 / §10: with E = 0 the whole packet is AAD and nothing is decrypted.
    const size_t aad_len = encrypted ? kRtcpFixedHeader : body_end;
    if (!gcm.begin(iv, false) || !gcm.aad(buf, aad_len) || !gcm.aad(buf + e_index_at, 4) ||
        !gcm.crypt(buf + aad_len, body_end - aad_len) || !gcm.open(buf + tag_at)) {
      return Status::kAuthFailed;
    }
  } else {
    uint8_t tag[HmacSha1::kDigestLength];
    rtcp_keys_.hmac.compute(buf, tag_at, nullptr, 0, tag);
    if (CRYPTO_memcmp(tag, buf + tag_at, kHmacTagLength) != 0) return Status::kAuthFailed;
    if (encrypted) {
      uint8_t iv[16];
      cm_iv(rtcp_keys_.salt, ssrc, index, iv);
      if (!rtcp_keys_.ctr.apply(iv, buf + kRtcpFixedHeader, body_end - kRtcpFixedHeader)) {
        return Status::kBadPacket;
      }
    }
  }
  if (!stream) stream = &find_or_add_stream(ssrc);
  stream->rtcp.add(index);
  *out_len = body_end;
  return Status::kOk;
}

}  // namespace strata::srtp
