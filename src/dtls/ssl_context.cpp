#include "dtls/ssl_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace strata::dtls {
namespace {

// ECDHE only (forward secrecy, RFC 8827 §6.5). ECDSA suites first since that is what our
// certificate and browsers' certificates use; RSA suites only matter when we are the
// client of a peer with an RSA certificate.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
constexpr const char* kGroups = "X25519:P-256";

int hooks_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

SessionHooks* hooks_of(const SSL* ssl) {
  return static_cast<SessionHooks*>(SSL_get_ex_data(ssl, hooks_index()));
}

bool leaf_matches(const SessionHooks& hooks, X509* leaf) {
  if (!leaf || !hooks.fingerprint_md || hooks.expected_fingerprint.empty()) return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(leaf, hooks.fingerprint_md, digest, &len) != 1) return false;
  return len == hooks.expected_fingerprint.size() &&
         std::memcmp(digest, hooks.expected_fingerprint.data(), len) == 0;
}

// Replaces chain verification: WebRTC certificates are self-signed, and the only thing that
// authenticates the peer is the fingerprint signalled in SDP (RFC 8122 §5, RFC 8827 §6.5).
// Rejecting here makes OpenSSL send a fatal bad_certificate alert before the handshake ends.
int verify_peer_certificate(X509_STORE_CTX* store, void*) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  SessionHooks* hooks = ssl ? hooks_of(ssl) : nullptr;
  if (hooks && leaf_matches(*hooks, X509_STORE_CTX_get0_cert(store))) return 1;
  if (hooks) hooks->fingerprint_mismatch = true;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

// Called with 0 when a flight starts its timer and with the previous value on each expiry:
// exponential back-off (RFC 6347 §4.2.4.1) from our own initial value.
unsigned int retransmit_timer(SSL* ssl, unsigned int previous_us) {
  const SessionHooks* hooks = hooks_of(ssl);
  uint32_t initial = hooks ? hooks->initial_timeout_us : 1'000'000;
  uint32_t max = hooks ? hooks->max_timeout_us : 60'000'000;
  if (previous_us == 0) return initial;
  return std::min<uint64_t>(uint64_t(previous_us) * 2, max);
}

bool configure(SSL_CTX* ctx, X509* cert, EVP_PKEY* key) {
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1) return false;
  if (SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1) return false;
  if (SSL_CTX_use_certificate(ctx, cert) != 1) return false;
  if (SSL_CTX_use_PrivateKey(ctx, key) != 1) return false;
  if (SSL_CTX_check_private_key(ctx) != 1) return false;
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) return false;
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return false;
  // Note: returns 0 on success (OpenSSL quirk).
  if (SSL_CTX_set_tlsext_use_srtp(ctx, kDefaultSrtpProfiles) != 0) return false;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verify_peer_certificate, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return true;
}

}  // namespace

SSL_CTX* new_dtls_context(X509* cert, EVP_PKEY* key) {
  SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
  if (!ctx) return nullptr;
  if (!configure(ctx, cert, key)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

void attach_session_hooks(SSL* ssl, SessionHooks* hooks) {
  SSL_set_ex_data(ssl, hooks_index(), hooks);
  DTLS_set_timer_cb(ssl, retransmit_timer);
}

std::string take_openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace strata::dtls
