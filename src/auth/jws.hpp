// JWS Compact Serialization (RFC 7515 §7.1) of a JWT (RFC 7519 §3): three base64url
// segments, header.payload.signature. Parsing checks only the form; the signature and the
// claims are checked by TokenVerifier (verifier.hpp).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace strata::auth {

// Tokens longer than this are refused before any decoding (they arrive in headers and
// query strings, which the HTTP server already caps at 16 KB).
inline constexpr size_t kMaxTokenBytes = 8192;

struct Jws {
  std::string alg;             // the header's "alg", as sent
  std::string kid;             // the header's "kid", or empty
  nlohmann::json claims;       // the payload: a JSON object
  std::string signing_input;   // ASCII(header) '.' ASCII(payload) (RFC 7515 §5.2 step 8)
  std::string signature;       // decoded bytes
};

// nullopt with *error naming what is malformed: segment count, base64url, JSON, a header
// without a string "alg", a "crit" header (RFC 7515 §4.1.11: we understand no extension,
// so we must refuse), or a payload that is not a JSON object.
std::optional<Jws> parse_jws(std::string_view token, std::string* error);

}  // namespace strata::auth
