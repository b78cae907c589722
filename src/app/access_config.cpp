#include "app/access_config.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

namespace strata::app {

std::optional<std::string> read_secret_file(const std::string& path, const std::string& flag, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  while (!text.empty() && std::isspace(uint8_t(text.back()))) text.pop_back();
  if (!in || text.empty()) {
    *error = flag + " " + path + ": cannot read a secret from it";
    return std::nullopt;
  }
  return text;
}

bool load_token_verifier(const ServerConfig& config, std::shared_ptr<const auth::TokenVerifier>* out,
                         std::string* error) {
  const bool on = !config.auth_secret_file.empty() || !config.auth_jwks_file.empty();
  if (!on) {
    if (!config.auth_issuer.empty() || !config.auth_audience.empty()) {
      *error = "--auth-issuer and --auth-audience need --auth-secret-file or --auth-jwks-file";
      return false;
    }
    return true;
  }
  auth::VerifierConfig vc;
  if (!config.auth_secret_file.empty()) {
    auto secret = read_secret_file(config.auth_secret_file, "--auth-secret-file", error);
    if (!secret) return false;
    if (secret->size() < auth::kMinHmacSecretBytes) {
      *error = "--auth-secret-file " + config.auth_secret_file + ": an HS256 secret must be at least 32 bytes (RFC 7518 §3.2), this one has " +
               std::to_string(secret->size());
      return false;
    }
    vc.hs256_secret = std::move(*secret);
  }
  if (!config.auth_jwks_file.empty()) {
    std::ifstream in(config.auth_jwks_file, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    if (!in) {
      *error = "--auth-jwks-file " + config.auth_jwks_file + ": cannot read it";
      return false;
    }
    std::vector<std::string> skipped;
    std::string why;
    auto keys = auth::parse_jwks(buf.str(), &why, &skipped);
    if (!keys) {
      *error = "--auth-jwks-file " + config.auth_jwks_file + ": " + why;
      return false;
    }
    for (const auto& s : skipped) spdlog::warn("--auth-jwks-file: skipped {}", s);
    vc.public_keys = std::move(*keys);
  }
  if (!config.auth_issuer.empty()) vc.issuer = config.auth_issuer;
  if (!config.auth_audience.empty()) vc.audience = config.auth_audience;
  *out = std::make_shared<const auth::TokenVerifier>(std::move(vc));
  return true;
}

}  // namespace strata::app
