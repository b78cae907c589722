// The DTLS identity of this process: one self-signed ECDSA P-256 certificate shared by all
// sessions (RFC 8827 §6.5: WebRTC endpoints authenticate DTLS by the SDP a=fingerprint,
// not by a CA chain). The certificate also owns the one SSL_CTX every DtlsTransport uses.
#pragma once
#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace strata::dtls {

class Certificate {
 public:
  // Random serial, CN "strata", valid from one day ago for ~30 days. Returns nullptr only
  // when OpenSSL fails (key generation, signing or context setup).
  static std::shared_ptr<const Certificate> generate();
  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  // "AB:CD:..." (uppercase, 95 chars), as SDP a=fingerprint:sha-256 carries it (RFC 8122 §5).
  std::string fingerprint_sha256() const;
  X509* x509() const { return x509_; }
  EVP_PKEY* key() const { return key_; }
  // The shared DTLS 1.2 context configured for WebRTC (see ssl_context.hpp).
  SSL_CTX* ssl_ctx() const { return ctx_; }

 private:
  Certificate(X509* x509, EVP_PKEY* key, SSL_CTX* ctx) : x509_(x509), key_(key), ctx_(ctx) {}
  X509* x509_;
  EVP_PKEY* key_;
  SSL_CTX* ctx_;
};

// Digest of a certificate as "AB:CD:..." for the SDP hash names of RFC 8122 §5
// ("sha-1", "sha-256", "sha-384", "sha-512", case-insensitive). Empty when unknown.
std::string fingerprint_of(X509* cert, std::string_view algorithm);

// Raw digest of a certificate; nullopt when the algorithm is unknown.
std::optional<Bytes> digest_of(X509* cert, std::string_view algorithm);

// The OpenSSL digest for an SDP hash name, or nullptr when unsupported.
const EVP_MD* digest_for_algorithm(std::string_view algorithm);

// Parses the SDP fingerprint value "AB:CD:..." (hex pairs separated by ':', any case) into
// bytes, as DtlsTransport expects it. nullopt on any malformed input.
std::optional<Bytes> parse_fingerprint(std::string_view text);

// Formats digest bytes as "AB:CD:...".
std::string format_fingerprint(ByteSpan digest);

}  // namespace strata::dtls
