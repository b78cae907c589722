// Access-token verification (README, "Access control"): a JWT (RFC 7519) signed HS256 with
// the shared secret or ES256 / EdDSA with a key of the JWK Set, picked by "kid". Sans-IO:
// the token and the time in, a Grant or the reason for refusing out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auth/grant.hpp"
#include "auth/keys.hpp"

namespace strata::auth {

struct VerifierConfig {
  std::optional<std::string> hs256_secret;  // --auth-secret-file
  std::vector<VerifyKey> public_keys;       // --auth-jwks-file
  std::optional<std::string> issuer;        // --auth-issuer: "iss" must equal it
  std::optional<std::string> audience;      // --auth-audience: "aud" must contain it
  // RFC 7519 §4.1.4/§4.1.5 allow "some small leeway" for clock skew between the token's
  // issuer and this server.
  int64_t leeway_seconds = 10;
};

enum class TokenError {
  kMalformed,     // not a JWS, bad JSON, malformed claims
  kAlgorithm,     // "none", unknown, or no key of this algorithm is configured
  kUnknownKey,    // "kid" names no configured key, or no kid and the choice is ambiguous
  kSignature,     // the signature does not verify
  kMissingExpiry, // no "exp" (required here)
  kExpired,
  kNotYetValid,   // "nbf" in the future
  kIssuer,
  kAudience,
};
const char* to_string(TokenError error);

struct TokenFailure {
  TokenError error;
  std::string detail;  // for people; never echoes the token
};

class TokenVerifier {
 public:
  explicit TokenVerifier(VerifierConfig config);
  // At least one key (a secret or a public key) is configured.
  bool has_keys() const { return config_.hs256_secret.has_value() || !config_.public_keys.empty(); }

  std::variant<Grant, TokenFailure> verify(std::string_view token, int64_t now_unix_seconds) const;

 private:
  // The one key that may have signed a token with this "alg" and "kid".
  std::variant<const VerifyKey*, TokenFailure> pick_key(std::string_view alg, std::string_view kid) const;
  std::optional<TokenFailure> check_time(const nlohmann::json& claims, int64_t now, int64_t* expires_at) const;
  std::optional<TokenFailure> check_issuer_audience(const nlohmann::json& claims) const;

  VerifierConfig config_;
  std::optional<VerifyKey> hmac_key_;
};

}  // namespace strata::auth
