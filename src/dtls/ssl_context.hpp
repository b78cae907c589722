// OpenSSL plumbing shared by Certificate and DtlsTransport: the WebRTC DTLS 1.2 SSL_CTX and
// the per-SSL hooks (peer fingerprint check, retransmission timer) its callbacks read.
#pragma once
#include <openssl/types.h>

#include <cstdint>
#include <string>

#include "common/bytes.hpp"

namespace strata::dtls {

// SRTP protection profiles we offer, most preferred first (RFC 7714 §14.2, RFC 5764 §4.1.2).
inline constexpr const char* kDefaultSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

// Per-session data the context callbacks need; owned by the transport, attached to its SSL.
struct SessionHooks {
  const EVP_MD* fingerprint_md = nullptr;
  Bytes expected_fingerprint;        // digest from the remote SDP a=fingerprint
  bool fingerprint_mismatch = false; // set by the verify callback when it rejects the peer
  uint32_t initial_timeout_us = 1'000'000;
  uint32_t max_timeout_us = 8'000'000;
};

// DTLS 1.2 only, ECDHE (X25519, P-256) with AEAD suites first, use_srtp offered,
// peer certificate requested and required, verified by fingerprint only (self-signed OK),
// no MTU probing (we set the link MTU), no session resumption. nullptr on failure.
SSL_CTX* new_dtls_context(X509* cert, EVP_PKEY* key);

// Attaches `hooks` (must outlive `ssl`) and installs the retransmission timer callback.
void attach_session_hooks(SSL* ssl, SessionHooks* hooks);

// Drains OpenSSL's thread-local error queue into one readable string ("" when empty).
std::string take_openssl_errors();

}  // namespace strata::dtls
