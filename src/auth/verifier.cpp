#include "auth/verifier.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "auth/jws.hpp"

namespace strata::auth {

const char* to_string(TokenError error) {
  switch (error) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kAlgorithm: return "algorithm";
    case TokenError::kUnknownKey: return "unknown-key";
    case TokenError::kSignature: return "signature";
    case TokenError::kMissingExpiry: return "missing-expiry";
    case TokenError::kExpired: return "expired";
    case TokenError::kNotYetValid: return "not-yet-valid";
    case TokenError::kIssuer: return "issuer";
    case TokenError::kAudience: return "audience";
  }
  return "?";
}

TokenVerifier::TokenVerifier(VerifierConfig config) : config_(std::move(config)) {
  if (config_.hs256_secret) hmac_key_ = VerifyKey::hmac_sha256(*config_.hs256_secret);
}

std::variant<const VerifyKey*, TokenFailure> TokenVerifier::pick_key(std::string_view alg_name,
                                                                     std::string_view kid) const {
  auto alg = algorithm_from_name(alg_name);
  if (!alg)
    return TokenFailure{TokenError::kAlgorithm,
                        "\"alg\": \"" + std::string(alg_name.substr(0, 16)) + "\" is not accepted (HS256, ES256, EdDSA are)"};
  if (*alg == Algorithm::kHS256) {
    if (!hmac_key_) return TokenFailure{TokenError::kAlgorithm, "HS256 tokens are not accepted here (no shared secret is configured)"};
    return &*hmac_key_;
  }
  const VerifyKey* only = nullptr;
  size_t of_alg = 0;
  const bool any_of_alg = std::any_of(config_.public_keys.begin(), config_.public_keys.end(),
                                      [&](const VerifyKey& k) { return k.algorithm() == *alg; });
  if (!any_of_alg)
    return TokenFailure{TokenError::kAlgorithm, std::string(to_string(*alg)) + " tokens are not accepted here (no such key)"};
  for (const VerifyKey& k : config_.public_keys) {
    if (!kid.empty() && k.kid() == kid) {
      // The key decides the algorithm, never the token (RFC 8725 §3.1).
      if (k.algorithm() != *alg)
        return TokenFailure{TokenError::kAlgorithm, "key '" + k.kid() + "' verifies " + to_string(k.algorithm()) + ", not " +
                                                        to_string(*alg)};
      return &k;
    }
    if (k.algorithm() == *alg) {
      ++of_alg;
      only = &k;
    }
  }
  if (!kid.empty()) return TokenFailure{TokenError::kUnknownKey, "no key has kid '" + std::string(kid.substr(0, 64)) + "'"};
  if (of_alg == 1) return only;
  return TokenFailure{TokenError::kUnknownKey, "the token has no \"kid\" and several keys could have signed it"};
}

std::optional<TokenFailure> TokenVerifier::check_time(const nlohmann::json& claims, int64_t now,
                                                      int64_t* expires_at) const {
  // NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
  auto numeric = [&](const char* key, double* out) -> std::optional<TokenFailure> {
    auto it = claims.find(key);
    if (it == claims.end()) return std::nullopt;
    if (!it->is_number() || !std::isfinite(it->get<double>()))
      return TokenFailure{TokenError::kMalformed, std::string("\"") + key + "\" is not a NumericDate"};
    *out = it->get<double>();
    return std::nullopt;
  };
  double exp = NAN, nbf = NAN;
  if (auto f = numeric("exp", &exp)) return f;
  if (auto f = numeric("nbf", &nbf)) return f;
  if (std::isnan(exp)) return TokenFailure{TokenError::kMissingExpiry, "the token has no \"exp\"; tokens must expire"};
  if (double(now) >= exp + double(config_.leeway_seconds))
    return TokenFailure{TokenError::kExpired, "the token expired " + std::to_string(int64_t(double(now) - exp)) + " s ago"};
  if (!std::isnan(nbf) && double(now) + double(config_.leeway_seconds) < nbf)
    return TokenFailure{TokenError::kNotYetValid, "the token is valid only in " + std::to_string(int64_t(nbf - double(now))) + " s"};
  *expires_at = exp > 9e15 ? int64_t(9e15) : int64_t(exp);
  return std::nullopt;
}

std::optional<TokenFailure> TokenVerifier::check_issuer_audience(const nlohmann::json& claims) const {
  if (config_.issuer) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() || iss->get<std::string>() != *config_.issuer)
      return TokenFailure{TokenError::kIssuer, "\"iss\" is not the configured issuer"};
  }
  if (config_.audience) {
    // RFC 7519 §4.1.3: a string or an array of strings, one of which must be ours.
    auto aud = claims.find("aud");
    bool ours = false;
    if (aud != claims.end() && aud->is_string()) ours = aud->get<std::string>() == *config_.audience;
    if (aud != claims.end() && aud->is_array()) {
      for (const auto& a : *aud) ours = ours || (a.is_string() && a.get<std::string>() == *config_.audience);
    }
    if (!ours) return TokenFailure{TokenError::kAudience, "\"aud\" does not name this server's audience"};
  }
  return std::nullopt;
}

std::variant<Grant, TokenFailure> TokenVerifier::verify(std::string_view token, int64_t now) const {
  std::string why;
  auto jws = parse_jws(token, &why);
  if (!jws) return TokenFailure{TokenError::kMalformed, why};
  auto key = pick_key(jws->alg, jws->kid);
  if (auto* f = std::get_if<TokenFailure>(&key)) return std::move(*f);
  if (!std::get<const VerifyKey*>(key)->verify(jws->signing_input, jws->signature))
    return TokenFailure{TokenError::kSignature, "the token's signature does not verify"};
  // Claims are read only once the signature holds: nothing unauthenticated is trusted.
  int64_t expires_at = 0;
  if (auto f = check_time(jws->claims, now, &expires_at)) return std::move(*f);
  if (auto f = check_issuer_audience(jws->claims)) return std::move(*f);
  auto grant = grant_from_claims(jws->claims, &why);
  if (!grant) return TokenFailure{TokenError::kMalformed, why};
  grant->expires_at = expires_at;
  return std::move(*grant);
}

}  // namespace strata::auth
