// TokenVerifier: every way a token is refused, and what a good one grants. Table-driven:
// each row mints a token and names the outcome.
#include <gtest/gtest.h>

#include <functional>

#include "auth/base64url.hpp"
#include "auth/verifier.hpp"
#include "token_minter.hpp"

namespace strata::auth {
namespace {

using testing::SigningKey;
using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes

struct Keys {
  SigningKey es{SigningKey::Kind::kEs256, "ec-1"};
  SigningKey ed{SigningKey::Kind::kEd25519, "ed-1"};
  SigningKey es_other{SigningKey::Kind::kEs256, "ec-2"};  // not configured
};

Keys& keys() {
  static Keys k;
  return k;
}

VerifierConfig config() {
  VerifierConfig c;
  c.hs256_secret = kSecret;
  std::string error;
  json set = {{"keys", {keys().es.jwk(), keys().ed.jwk()}}};
  auto parsed = parse_jwks(set.dump(), &error);
  EXPECT_TRUE(parsed) << error;
  c.public_keys = *parsed;
  return c;
}

json claims(json strata = {{"live", "show"}, {"view", true}}) {
  return {{"sub", "alice"}, {"exp", kNow + 60}, {"strata", strata}};
}

struct Row {
  const char* name;
  std::function<std::string()> token;
  std::optional<TokenError> error;  // nullopt: accepted
};

class VerifierRows : public ::testing::TestWithParam<Row> {};

TEST_P(VerifierRows, Outcome) {
  TokenVerifier v(config());
  auto result = v.verify(GetParam().token(), kNow);
  if (!GetParam().error) {
    ASSERT_TRUE(std::holds_alternative<Grant>(result)) << std::get<TokenFailure>(result).detail;
    return;
  }
  ASSERT_TRUE(std::holds_alternative<TokenFailure>(result)) << "accepted";
  EXPECT_EQ(to_string(std::get<TokenFailure>(result).error), std::string(to_string(*GetParam().error)))
      << std::get<TokenFailure>(result).detail;
}

// Flips one bit of the decoded signature (editing the base64url text instead could make the
// last character carry non-zero padding bits, a malformed token rather than a bad signature).
std::string flip_last_signature_char(const std::string& t) {
  const size_t dot = t.rfind('.');
  std::string sig = *base64url_decode(t.substr(dot + 1));
  sig.back() = char(sig.back() ^ 1);
  return t.substr(0, dot + 1) + base64url_encode(sig);
}

std::string with_claims(json c) { return testing::token_hs256(kSecret, std::move(c)); }

const Row kRows[] = {
    {"hs256_good", [] { return with_claims(claims()); }, std::nullopt},
    {"es256_good", [] { return testing::token_signed(keys().es, claims()); }, std::nullopt},
    {"eddsa_good", [] { return testing::token_signed(keys().ed, claims()); }, std::nullopt},
    // One key per algorithm: a token without kid still finds it.
    {"es256_without_kid", [] { return testing::token_signed(keys().es, claims(), false); }, std::nullopt},
    {"empty", [] { return std::string(); }, TokenError::kMalformed},
    {"two_segments", [] { return std::string("abc.def"); }, TokenError::kMalformed},
    {"four_segments", [] { return with_claims(claims()) + ".x"; }, TokenError::kMalformed},
    {"not_base64url", [] { return std::string("ab+c.def.ghi"); }, TokenError::kMalformed},
    {"padding", [] { return with_claims(claims()) + "="; }, TokenError::kMalformed},
    {"header_not_json", [] { return base64url_encode("{alg") + "." + base64url_encode("{}") + ".sig"; },
     TokenError::kMalformed},
    {"payload_array",
     [] {
       std::string in = testing::signing_input({{"alg", "HS256"}}, json::array({1}));
       return in + "." + base64url_encode(testing::hs256(kSecret, in));
     },
     TokenError::kMalformed},
    {"crit_header",
     [] { return testing::token_hs256(kSecret, claims(), {{"alg", "HS256"}, {"crit", {"exp"}}}); },
     TokenError::kMalformed},
    {"too_long", [] { return std::string(9000, 'a') + ".b.c"; }, TokenError::kMalformed},
    {"alg_none", [] { return testing::unsigned_token(claims()); }, TokenError::kAlgorithm},
    {"alg_none_with_hs_signature",
     [] {
       std::string in = testing::signing_input({{"alg", "none"}}, claims());
       return in + "." + base64url_encode(testing::hs256(kSecret, in));
     },
     TokenError::kAlgorithm},
    {"alg_lowercase", [] { return testing::token_hs256(kSecret, claims(), {{"alg", "hs256"}}); },
     TokenError::kAlgorithm},
    {"alg_rs256", [] { return testing::token_hs256(kSecret, claims(), {{"alg", "RS256"}}); }, TokenError::kAlgorithm},
    // The classic confusion: an HS256 token keyed with a public key's bytes, naming that kid.
    {"hs256_naming_ec_kid",
     [] { return testing::token_hs256(keys().es.jwk().dump(), claims(), {{"alg", "HS256"}, {"kid", "ec-1"}}); },
     TokenError::kSignature},
    {"eddsa_token_naming_ec_key",
     [] {
       json header = {{"alg", "EdDSA"}, {"kid", "ec-1"}};
       std::string in = testing::signing_input(header, claims());
       return in + "." + base64url_encode(keys().ed.sign(in));
     },
     TokenError::kAlgorithm},
    {"unknown_kid", [] { return testing::token_signed(keys().es_other, claims()); }, TokenError::kUnknownKey},
    {"es256_other_key_no_kid", [] { return testing::token_signed(keys().es_other, claims(), false); },
     TokenError::kSignature},
    {"hs256_wrong_secret", [] { return testing::token_hs256(kSecret + "x", claims()); }, TokenError::kSignature},
    {"hs256_tampered_signature", [] { return flip_last_signature_char(with_claims(claims())); }, TokenError::kSignature},
    {"es256_tampered_signature", [] { return flip_last_signature_char(testing::token_signed(keys().es, claims())); },
     TokenError::kSignature},
    {"es256_truncated_signature",
     [] {
       std::string t = testing::token_signed(keys().es, claims());
       size_t dot = t.rfind('.');
       std::string sig = *base64url_decode(t.substr(dot + 1));
       return t.substr(0, dot + 1) + base64url_encode(sig.substr(0, 63));
     },
     TokenError::kSignature},
    {"es256_tampered_claims",
     [] {
       std::string t = testing::token_signed(keys().es, claims());
       json other = claims({{"live", "*"}, {"admin", true}});
       size_t a = t.find('.'), b = t.rfind('.');
       return t.substr(0, a + 1) + base64url_encode(other.dump()) + t.substr(b);
     },
     TokenError::kSignature},
    {"missing_exp",
     [] {
       json c = claims();
       c.erase("exp");
       return with_claims(c);
     },
     TokenError::kMissingExpiry},
    {"exp_string",
     [] {
       json c = claims();
       c["exp"] = "tomorrow";
       return with_claims(c);
     },
     TokenError::kMalformed},
    {"expired",
     [] {
       json c = claims();
       c["exp"] = kNow - 60;
       return with_claims(c);
     },
     TokenError::kExpired},
    {"expired_within_leeway",
     [] {
       json c = claims();
       c["exp"] = kNow - 5;
       return with_claims(c);
     },
     std::nullopt},
    {"not_yet_valid",
     [] {
       json c = claims();
       c["nbf"] = kNow + 60;
       return with_claims(c);
     },
     TokenError::kNotYetValid},
    {"nbf_past",
     [] {
       json c = claims();
       c["nbf"] = kNow - 60;
       return with_claims(c);
     },
     std::nullopt},
    {"strata_not_object",
     [] {
       json c = claims();
       c["strata"] = "all";
       return with_claims(c);
     },
     TokenError::kMalformed},
    {"strata_unknown_member", [] { return with_claims(claims({{"live", "show"}, {"pubilsh", true}})); },
     TokenError::kMalformed},
    {"strata_bad_live", [] { return with_claims(claims({{"live", "a/b"}})); }, TokenError::kMalformed},
    {"strata_flag_not_bool", [] { return with_claims(claims({{"live", "show"}, {"view", 1}})); },
     TokenError::kMalformed},
    {"sub_not_string",
     [] {
       json c = claims();
       c["sub"] = 7;
       return with_claims(c);
     },
     TokenError::kMalformed},
};

INSTANTIATE_TEST_SUITE_P(Tokens, VerifierRows, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Verifier, GrantCarriesTheClaims) {
  TokenVerifier v(config());
  auto result = v.verify(testing::token_signed(keys().ed, claims({{"live", "team-*"}, {"publish", true}})), kNow);
  ASSERT_TRUE(std::holds_alternative<Grant>(result));
  const Grant& g = std::get<Grant>(result);
  EXPECT_EQ(g.subject, "alice");
  EXPECT_EQ(g.live, "team-*");
  EXPECT_TRUE(g.publish);
  EXPECT_FALSE(g.view);
  EXPECT_FALSE(g.admin);
  EXPECT_EQ(g.expires_at, kNow + 60);
}

TEST(Verifier, IssuerAndAudienceWhenConfigured) {
  VerifierConfig c = config();
  c.issuer = "https://id.example";
  c.audience = "strata";
  TokenVerifier v(c);
  json good = claims();
  good["iss"] = "https://id.example";
  good["aud"] = json::array({"other", "strata"});
  EXPECT_TRUE(std::holds_alternative<Grant>(v.verify(with_claims(good), kNow)));
  good["aud"] = "strata";
  EXPECT_TRUE(std::holds_alternative<Grant>(v.verify(with_claims(good), kNow)));

  auto error_of = [&](json cl) { return std::get<TokenFailure>(v.verify(with_claims(cl), kNow)).error; };
  json bad = good;
  bad["iss"] = "https://evil.example";
  EXPECT_EQ(error_of(bad), TokenError::kIssuer);
  bad = good;
  bad.erase("iss");
  EXPECT_EQ(error_of(bad), TokenError::kIssuer);
  bad = good;
  bad["aud"] = "someone-else";
  EXPECT_EQ(error_of(bad), TokenError::kAudience);
  bad = good;
  bad.erase("aud");
  EXPECT_EQ(error_of(bad), TokenError::kAudience);
}

TEST(Verifier, OnlyConfiguredAlgorithms) {
  VerifierConfig only_secret;
  only_secret.hs256_secret = kSecret;
  TokenVerifier secret_only(only_secret);
  auto r = secret_only.verify(testing::token_signed(keys().es, claims()), kNow);
  ASSERT_TRUE(std::holds_alternative<TokenFailure>(r));
  EXPECT_EQ(std::get<TokenFailure>(r).error, TokenError::kAlgorithm);

  VerifierConfig only_jwks = config();
  only_jwks.hs256_secret.reset();
  TokenVerifier jwks_only(only_jwks);
  r = jwks_only.verify(with_claims(claims()), kNow);
  ASSERT_TRUE(std::holds_alternative<TokenFailure>(r));
  EXPECT_EQ(std::get<TokenFailure>(r).error, TokenError::kAlgorithm);
}

TEST(Verifier, SeveralKeysOfOneAlgorithmNeedKid) {
  VerifierConfig c;
  std::string error;
  auto set = parse_jwks(json{{"keys", {keys().es.jwk(), keys().es_other.jwk()}}}.dump(), &error);
  ASSERT_TRUE(set) << error;
  c.public_keys = *set;
  TokenVerifier v(c);
  EXPECT_TRUE(std::holds_alternative<Grant>(v.verify(testing::token_signed(keys().es_other, claims()), kNow)));
  auto r = v.verify(testing::token_signed(keys().es, claims(), false), kNow);
  ASSERT_TRUE(std::holds_alternative<TokenFailure>(r));
  EXPECT_EQ(std::get<TokenFailure>(r).error, TokenError::kUnknownKey);
}

}  // namespace
}  // namespace strata::auth
