#include "auth/jws.hpp"

#include "auth/base64url.hpp"

namespace strata::auth {

std::optional<Jws> parse_jws(std::string_view token, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Jws> {
    *error = why;
    return std::nullopt;
  };
  if (token.empty()) return fail("empty token");
  if (token.size() > kMaxTokenBytes) return fail("token longer than 8192 bytes");
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return fail("not a JWT: expected three base64url segments separated by '.'");
  auto header_bytes = base64url_decode(token.substr(0, first));
  auto payload_bytes = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header_bytes || !payload_bytes || !signature) return fail("a JWT segment is not base64url (RFC 7515 §2)");
  auto header = nlohmann::json::parse(*header_bytes, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return fail("the JWT header is not a JSON object");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return fail("the JWT header has no \"alg\"");
  if (header.contains("crit")) return fail("the JWT header has \"crit\" extensions, which are not supported");
  Jws out;
  out.alg = alg->get<std::string>();
  if (auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string()) return fail("the JWT header's \"kid\" is not a string");
    out.kid = kid->get<std::string>();
  }
  out.claims = nlohmann::json::parse(*payload_bytes, nullptr, /*allow_exceptions=*/false);
  if (out.claims.is_discarded() || !out.claims.is_object()) return fail("the JWT payload is not a JSON object");
  out.signing_input = std::string(token.substr(0, second));
  out.signature = std::move(*signature);
  return out;
}

}  // namespace strata::auth
