// base64url without padding (RFC 4648 §5), the encoding of every JWS segment (RFC 7515 §2).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::auth {

std::string base64url_encode(std::string_view bytes);
// Strict: only the base64url alphabet, no '=' padding (RFC 7515 §2 omits it), no
// whitespace, and no non-zero bits left over in the last character (so one text has one
// meaning). nullopt when the text breaks any of these.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace strata::auth
