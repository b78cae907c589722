// JWK Set loading: what a server accepts as its verification keys at start-up.
#include <gtest/gtest.h>

#include "auth/base64url.hpp"
#include "auth/keys.hpp"
#include "token_minter.hpp"

namespace strata::auth {
namespace {

using nlohmann::json;
using testing::SigningKey;

std::string load_error(const json& set) {
  std::string error;
  auto keys = parse_jwks(set.dump(), &error);
  return keys ? std::string() : error;
}

TEST(Jwks, AcceptsEcAndOkpKeys) {
  SigningKey es(SigningKey::Kind::kEs256, "a"), ed(SigningKey::Kind::kEd25519, "b");
  std::string error;
  auto keys = parse_jwks(json{{"keys", {es.jwk(), ed.jwk()}}}.dump(), &error);
  ASSERT_TRUE(keys) << error;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].algorithm(), Algorithm::kES256);
  EXPECT_EQ((*keys)[1].algorithm(), Algorithm::kEdDSA);
  EXPECT_EQ((*keys)[1].kid(), "b");
}

TEST(Jwks, SkipsUnsupportedKeyTypesButNeedsOneUsable) {
  SigningKey es(SigningKey::Kind::kEs256, "a");
  json rsa = {{"kty", "RSA"}, {"kid", "r"}, {"n", "AQAB"}, {"e", "AQAB"}};
  std::string error;
  std::vector<std::string> skipped;
  auto keys = parse_jwks(json{{"keys", {rsa, es.jwk()}}}.dump(), &error, &skipped);
  ASSERT_TRUE(keys) << error;
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_EQ(skipped.size(), 1u);
  EXPECT_NE(load_error(json{{"keys", {rsa}}}), "");
}

TEST(Jwks, RefusesBrokenKeys) {
  SigningKey es(SigningKey::Kind::kEs256, "a"), ed(SigningKey::Kind::kEd25519, "b");
  EXPECT_NE(load_error(json::array()), "");
  EXPECT_NE(load_error(json{{"keys", "x"}}), "");
  json k = es.jwk();
  k["x"] = base64url_encode(std::string(31, 'a'));
  EXPECT_NE(load_error(json{{"keys", {k}}}), "") << "short x";
  k = es.jwk();
  k["y"] = base64url_encode(std::string(32, '\x01'));
  EXPECT_NE(load_error(json{{"keys", {k}}}), "") << "not on the curve";
  k = es.jwk();
  k["alg"] = "EdDSA";
  EXPECT_NE(load_error(json{{"keys", {k}}}), "") << "alg disagrees with kty";
  k = es.jwk();
  k["use"] = "enc";
  EXPECT_NE(load_error(json{{"keys", {k}}}), "");
  k = ed.jwk();
  k["d"] = k["x"];
  EXPECT_NE(load_error(json{{"keys", {k}}}), "") << "private key";
  json twin = ed.jwk();
  twin["kid"] = "a";
  EXPECT_NE(load_error(json{{"keys", {es.jwk(), twin}}}), "") << "duplicate kid";
}

TEST(Base64url, RoundTripsAndIsStrict) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    auto back = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("Zg=="));  // padding
  EXPECT_FALSE(base64url_decode("Zh"));    // non-zero leftover bits
  EXPECT_FALSE(base64url_decode("Z"));     // 4n+1
  EXPECT_FALSE(base64url_decode("Zm9v+"));
  EXPECT_FALSE(base64url_decode("Zm 9v"));
}

}  // namespace
}  // namespace strata::auth
