// Access-token fuzz body: everything a stranger's Authorization header, ?access_token= or
// ?ticket= reaches (auth::parse_jws, TokenVerifier::verify with every algorithm configured,
// grant_from_claims, TicketSigner::verify, AccessPolicy::check, bearer_token), plus what an
// operator's files reach (parse_jwks) and the client-address key of the limiter.
//
// The keys are fixed test keys (fuzz/jwt_seeds.mjs holds their private halves and writes the
// seeds in tests/data/fuzz/jwt/), so the seeds carry valid signatures and the fuzzer starts
// past the signature check into the claims.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/access_policy.hpp"
#include "auth/base64url.hpp"
#include "auth/client_limiter.hpp"
#include "auth/jws.hpp"
#include "auth/keys.hpp"
#include "auth/ticket.hpp"
#include "auth/verifier.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kSecret = "strata-fuzz-hs256-secret-0123456789abcdef";
constexpr std::string_view kClusterSecret = "strata-fuzz-cluster-secret";
constexpr std::string_view kJwks = R"({"keys": [
  {"kty": "EC", "crv": "P-256", "kid": "es-1", "alg": "ES256", "use": "sig",
   "x": "6zhYhOY-w4MY4agrPGJZYMOkLuI99t1g2e4d2I12KHs", "y": "JxoMtgoRSnvrmk5gOfJLVYUHfNde6bJdlq6KwHwmySU"},
  {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "alg": "EdDSA", "use": "sig",
   "x": "kHHQUUh89tZs43bYEM0vYDWK1B4DKr8V7wKOPcNB8V8"}]})";

volatile size_t g_sink = 0;

struct Fixture {
  std::shared_ptr<auth::TokenVerifier> verifier;
  auth::TicketSigner tickets{kClusterSecret};
  auth::AccessPolicy policy;
  Fixture() {
    auth::VerifierConfig c;
    c.hs256_secret = std::string(kSecret);
    std::string error;
    auto keys = auth::parse_jwks(kJwks, &error);
    STRATA_FUZZ_CHECK("jwt", keys.has_value());
    c.public_keys = *keys;
    verifier = std::make_shared<auth::TokenVerifier>(c);
    policy = auth::AccessPolicy(verifier, std::make_shared<auth::TicketSigner>(kClusterSecret), "node-1");
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void exercise_token(std::string_view text) {
  const Fixture& f = fixture();
  std::string error;
  if (auto jws = auth::parse_jws(text, &error)) {
    // The claims parser sees whatever JSON a token carries, signed or not.
    if (auto g = auth::grant_from_claims(jws->claims, &error)) g_sink = g_sink + g->live.size() + g->covers_live("show");
    g_sink = g_sink + jws->signature.size() + jws->alg.size();
  }
  auto result = f.verifier->verify(text, kNow);
  if (auto* grant = std::get_if<auth::Grant>(&result)) {
    // Accepted: it expired no more than the leeway ago, and its live pattern is well-formed.
    STRATA_FUZZ_CHECK("jwt", grant->expires_at + 10 > kNow);
    STRATA_FUZZ_CHECK("jwt", grant->live.empty() || auth::valid_live_pattern(grant->live));
  }
  for (auth::Action action : {auth::Action::kPublish, auth::Action::kView, auth::Action::kAdmin}) {
    auth::Credentials c{"Bearer " + std::string(text), std::string(text), std::string(text)};
    auto decision = f.policy.check({action, action == auth::Action::kAdmin ? "" : "show", "host"}, c, kNow);
    if (auto* d = std::get_if<auth::Denial>(&decision)) {
      STRATA_FUZZ_CHECK("jwt", d->status == 401 || d->status == 403);
      STRATA_FUZZ_CHECK("jwt", d->www_authenticate.find('\n') == std::string::npos);
    }
  }
  auto ticket = f.tickets.verify(text, kNow);
  if (auto* t = std::get_if<auth::Ticket>(&ticket)) STRATA_FUZZ_CHECK("jwt", t->expires_at > kNow);
}

}  // namespace

int jwt_one_input(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  exercise_token(text);
  if (auto decoded = auth::base64url_decode(text)) {
    // Strict decoding has one text per byte string.
    STRATA_FUZZ_CHECK("jwt", auth::base64url_encode(*decoded) == text);
  }
  std::string error;
  if (auto keys = auth::parse_jwks(text, &error)) g_sink = g_sink + keys->size();
  g_sink = g_sink + auth::bearer_token(text).has_value() + auth::client_key(text).size() + auth::valid_live_pattern(text);
  return 0;
}

}  // namespace strata::fuzz
