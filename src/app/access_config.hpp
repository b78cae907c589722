// Access control from the command line (README, "Access control"): the --auth-* files read
// into a token verifier, and secret files in general.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "auth/verifier.hpp"

namespace strata::app {

// The whole file, trailing whitespace (a final newline) removed; nullopt with *error when
// it cannot be read or holds nothing. `flag` names the option in the message.
std::optional<std::string> read_secret_file(const std::string& path, const std::string& flag, std::string* error);

// Off (no --auth-secret-file, no --auth-jwks-file): *out stays null, true. On: the verifier;
// false with *error for an unreadable file, a secret shorter than 32 bytes (RFC 7518 §3.2),
// a JWK Set without a usable key, or --auth-issuer/--auth-audience without any key.
bool load_token_verifier(const ServerConfig& config, std::shared_ptr<const auth::TokenVerifier>* out,
                         std::string* error);

}  // namespace strata::app
