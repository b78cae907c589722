#include "dtls/certificate.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <strings.h>

#include <cstring>

#include "common/random.hpp"
#include "dtls/ssl_context.hpp"

namespace strata::dtls {
namespace {

constexpr long kOneDay = 24 * 60 * 60;
constexpr long kValidity = 30 * kOneDay;

struct X509Deleter { void operator()(X509* x) const { X509_free(x); } };
struct PkeyDeleter { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
using UniqueX509 = std::unique_ptr<X509, X509Deleter>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

bool fill_certificate(X509* x, EVP_PKEY* key) {
  if (X509_set_version(x, X509_VERSION_3) != 1) return false;
  // Positive 63-bit random serial (RFC 5280 §4.1.2.2 wants it unique per issuer).
  if (ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), random_u64() >> 1) != 1) return false;
  // Back-date a day so peers with a skewed clock still accept it.
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -kOneDay)) return false;
  if (!X509_gmtime_adj(X509_getm_notAfter(x), kValidity)) return false;
  if (X509_set_pubkey(x, key) != 1) return false;
  X509_NAME* name = X509_get_subject_name(x);
  auto cn = reinterpret_cast<const unsigned char*>("strata");
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1) return false;
  if (X509_set_issuer_name(x, name) != 1) return false;
  return X509_sign(x, key, EVP_sha256()) > 0;
}

char hex_digit(uint8_t v) { return "0123456789ABCDEF"[v & 15]; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::shared_ptr<const Certificate> Certificate::generate() {
  UniquePkey key(EVP_EC_gen("P-256"));
  UniqueX509 x509(X509_new());
  if (!key || !x509 || !fill_certificate(x509.get(), key.get())) return nullptr;
  SSL_CTX* ctx = new_dtls_context(x509.get(), key.get());
  if (!ctx) return nullptr;
  return std::shared_ptr<const Certificate>(new Certificate(x509.release(), key.release(), ctx));
}

Certificate::~Certificate() {
  SSL_CTX_free(ctx_);
  X509_free(x509_);
  EVP_PKEY_free(key_);
}

std::string Certificate::fingerprint_sha256() const { return fingerprint_of(x509_, "sha-256"); }

const EVP_MD* digest_for_algorithm(std::string_view algorithm) {
  struct Entry { const char* name; const EVP_MD* (*md)(); };
  static constexpr Entry kTable[] = {
      {"sha-1", EVP_sha1}, {"sha-256", EVP_sha256}, {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512}};
  for (const Entry& e : kTable) {
    if (algorithm.size() == std::strlen(e.name) &&
        strncasecmp(algorithm.data(), e.name, algorithm.size()) == 0) {
      return e.md();
    }
  }
  return nullptr;
}

std::optional<Bytes> digest_of(X509* cert, std::string_view algorithm) {
  const EVP_MD* md = digest_for_algorithm(algorithm);
  if (!cert || !md) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, digest, &len) != 1) return std::nullopt;
  return Bytes(digest, digest + len);
}

std::string fingerprint_of(X509* cert, std::string_view algorithm) {
  std::optional<Bytes> digest = digest_of(cert, algorithm);
  return digest ? format_fingerprint(*digest) : std::string();
}

std::string format_fingerprint(ByteSpan digest) {
  std::string out;
  out.reserve(digest.size() * 3);
  for (uint8_t b : digest) {
    if (!out.empty()) out += ':';
    out += hex_digit(b >> 4);
    out += hex_digit(b);
  }
  return out;
}

std::optional<Bytes> parse_fingerprint(std::string_view text) {
  // RFC 8122 §5: fingerprint = 2UHEX *(":" 2UHEX); we also accept lowercase.
  if (text.size() < 2 || (text.size() + 1) % 3 != 0) return std::nullopt;
  Bytes out;
  out.reserve((text.size() + 1) / 3);
  for (size_t i = 0; i < text.size(); i += 3) {
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i + 2 < text.size() && text[i + 2] != ':') return std::nullopt;
    out.push_back(uint8_t(hi << 4 | lo));
  }
  return out;
}

}  // namespace strata::dtls
