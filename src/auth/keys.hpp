// The keys that may sign access tokens: an HS256 shared secret (RFC 7518 §3.2) and public
// keys from a JWK Set (RFC 7517 §5): EC P-256 for ES256 (RFC 7518 §3.4, §6.2) and
// Ed25519 for EdDSA (RFC 8037 §2, §3.1). Each key verifies exactly one algorithm, so a
// token can never choose how it is checked (the "alg" confusion attacks: "none", or an
// HS256 token keyed with a public key's bytes).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace strata::auth {

enum class Algorithm { kHS256, kES256, kEdDSA };
// The JWS "alg" names (RFC 7518 §3.1, RFC 8037 §3.1), compared exactly; anything else
// (including "none") is nullopt.
std::optional<Algorithm> algorithm_from_name(std::string_view name);
const char* to_string(Algorithm alg);

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
inline constexpr size_t kMinHmacSecretBytes = 32;

class VerifyKey {
 public:
  // An HS256 shared secret (at least kMinHmacSecretBytes; see load checks in app).
  static VerifyKey hmac_sha256(std::string secret);
  // One JWK: {"kty":"EC","crv":"P-256","x","y"} or {"kty":"OKP","crv":"Ed25519","x"},
  // optional "kid", "alg" (must agree with the key type) and "use" (must be "sig").
  // nullopt with *error saying what is wrong; *unsupported (when given) tells a key type
  // we do not verify (RSA, other curves) from a broken key.
  static std::optional<VerifyKey> from_jwk(const nlohmann::json& jwk, std::string* error, bool* unsupported = nullptr);

  Algorithm algorithm() const { return alg_; }
  const std::string& kid() const { return kid_; }
  // The JWS signature over `signing_input` (RFC 7515 §5.2): HMAC-SHA256, ES256 as the
  // 64-byte R || S of RFC 7518 §3.4, or a 64-byte Ed25519 signature. Constant-time for
  // HMAC.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  struct PkeyFree {
    void operator()(void* p) const;
  };
  VerifyKey(Algorithm alg, std::string kid) : alg_(alg), kid_(std::move(kid)) {}
  bool verify_es256(std::string_view input, std::string_view signature) const;
  bool verify_eddsa(std::string_view input, std::string_view signature) const;

  Algorithm alg_;
  std::string kid_;
  std::string secret_;                  // HS256
  std::shared_ptr<void> pkey_;          // EVP_PKEY* (ES256, EdDSA), shared by copies
};

// A JWK Set: {"keys": [...]}. Keys of unsupported types (RSA, other curves) are skipped
// and named in *skipped; a set with no usable key, a malformed key of a supported type, or
// two keys with one kid is an error.
std::optional<std::vector<VerifyKey>> parse_jwks(std::string_view json, std::string* error,
                                                 std::vector<std::string>* skipped = nullptr);

}  // namespace strata::auth
