// AccessPolicy: the README's access-control table, row by row (401 vs 403, prefix grants,
// host pinning, ?access_token=, broker tickets, admin scope).
#include <gtest/gtest.h>

#include "auth/access_policy.hpp"
#include "token_minter.hpp"

namespace strata::auth {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kClusterSecret = "cluster-secret-for-tests";

AccessPolicy policy(std::string node = "origin-1") {
  VerifierConfig c;
  c.hs256_secret = kSecret;
  return AccessPolicy(std::make_shared<TokenVerifier>(c), std::make_shared<TicketSigner>(kClusterSecret),
                      std::move(node));
}

std::string token(json strata, std::string sub = "", int64_t exp = kNow + 60) {
  return testing::grant_token(kSecret, strata, sub, exp);
}

Credentials bearer(const std::string& t) { return Credentials{"Bearer " + t, std::nullopt, std::nullopt}; }

struct Outcome {
  int status = 0;  // 0: permitted
  std::string host;
  std::string error;
};

Outcome run(const AccessPolicy& p, const AccessRequest& r, const Credentials& c) {
  auto result = p.check(r, c, kNow);
  if (auto* permit = std::get_if<Permit>(&result)) return {0, permit->host, ""};
  auto& d = std::get<Denial>(result);
  EXPECT_FALSE(d.www_authenticate.empty()) << "every denial carries a challenge";
  EXPECT_EQ(d.www_authenticate.rfind("Bearer realm=\"strata\"", 0), 0u) << d.www_authenticate;
  return {d.status, "", d.error};
}

TEST(AccessPolicy, OffPermitsEverything) {
  AccessPolicy off;
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(run(off, {Action::kAdmin, "", ""}, {}).status, 0);
  EXPECT_EQ(run(off, {Action::kPublish, "show", "bob"}, {}).host, "bob");
}

TEST(AccessPolicy, MissingOrInvalidTokenIs401) {
  auto p = policy();
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, {}).error, "auth-required");
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, {}).status, 401);
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, Credentials{"Basic dXNlcjpwYXNz", {}, {}}).status, 401);
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, Credentials{"Bearer ", {}, {}}).status, 401);
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, bearer("garbage")).error, "invalid-token");
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, bearer(token({{"live", "show"}, {"view", true}}, "", kNow - 100))).error,
            "token-expired");
}

TEST(AccessPolicy, ValidTokenWithoutTheRightIs403) {
  auto p = policy();
  auto viewer = token({{"live", "show"}, {"view", true}});
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, bearer(viewer)).status, 0);
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, bearer(viewer)).status, 403);
  EXPECT_EQ(run(p, {Action::kView, "other", ""}, bearer(viewer)).status, 403);
  EXPECT_EQ(run(p, {Action::kAdmin, "show", ""}, bearer(viewer)).status, 403);
  auto nothing = token(json::object());
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, bearer(nothing)).status, 403);
}

TEST(AccessPolicy, LivePatterns) {
  auto p = policy();
  auto prefix = token({{"live", "team-*"}, {"view", true}});
  EXPECT_EQ(run(p, {Action::kView, "team-red", ""}, bearer(prefix)).status, 0);
  EXPECT_EQ(run(p, {Action::kView, "team-", ""}, bearer(prefix)).status, 0);
  EXPECT_EQ(run(p, {Action::kView, "team", ""}, bearer(prefix)).status, 403);
  EXPECT_EQ(run(p, {Action::kView, "xteam-red", ""}, bearer(prefix)).status, 403);
  auto any = token({{"live", "*"}, {"view", true}});
  EXPECT_EQ(run(p, {Action::kView, "whatever", ""}, bearer(any)).status, 0);
  auto exact = token({{"live", "show"}, {"view", true}});
  EXPECT_EQ(run(p, {Action::kView, "show2", ""}, bearer(exact)).status, 403);
}

TEST(AccessPolicy, PublishTokenWithSubjectPinsTheHost) {
  auto p = policy();
  auto alice = token({{"live", "show"}, {"publish", true}}, "alice");
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, bearer(alice)).host, "alice") << "sub is the default host name";
  EXPECT_EQ(run(p, {Action::kPublish, "show", "alice"}, bearer(alice)).status, 0);
  EXPECT_EQ(run(p, {Action::kPublish, "show", "bob"}, bearer(alice)).status, 403);
  auto anyone = token({{"live", "show"}, {"publish", true}});
  EXPECT_EQ(run(p, {Action::kPublish, "show", "bob"}, bearer(anyone)).host, "bob");
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, bearer(anyone)).host, "");
  auto email = token({{"live", "show"}, {"publish", true}}, "alice@example.com");
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, bearer(email)).status, 403) << "a sub that is no host name";
}

TEST(AccessPolicy, AccessTokenInTheQuery) {
  auto p = policy();
  Credentials q{std::nullopt, token({{"live", "show"}, {"view", true}}), std::nullopt};
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, q).status, 0);
  q.access_token = "nope";
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, q).status, 401);
}

TEST(AccessPolicy, AdminScope) {
  auto p = policy();
  auto root = token({{"live", "*"}, {"admin", true}});
  auto moderator = token({{"live", "team-*"}, {"admin", true}});
  EXPECT_EQ(run(p, {Action::kAdmin, "", ""}, bearer(root)).status, 0);
  EXPECT_EQ(run(p, {Action::kAdmin, "team-red", ""}, bearer(moderator)).status, 0);
  EXPECT_EQ(run(p, {Action::kAdmin, "", ""}, bearer(moderator)).status, 403) << "the whole server needs live *";
  EXPECT_EQ(run(p, {Action::kAdmin, "other", ""}, bearer(moderator)).status, 403);
}

TEST(AccessPolicy, BrokerTickets) {
  auto p = policy("origin-1");
  TicketSigner signer(kClusterSecret);
  Ticket t{Action::kPublish, "show", "alice", "origin-1", "alice", kNow + 30};
  Credentials c{std::nullopt, std::nullopt, signer.issue(t)};
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, c).host, "alice");
  EXPECT_EQ(run(p, {Action::kPublish, "show", "alice"}, c).status, 0);
  EXPECT_EQ(run(p, {Action::kPublish, "show", "bob"}, c).status, 403);
  EXPECT_EQ(run(p, {Action::kView, "show", ""}, c).status, 403) << "another action";
  EXPECT_EQ(run(p, {Action::kPublish, "other", ""}, c).status, 403) << "another live";
  EXPECT_EQ(run(policy("origin-2"), {Action::kPublish, "show", ""}, c).status, 401) << "another node";
  EXPECT_EQ(run(p, {Action::kAdmin, "show", ""}, c).status, 401) << "tickets never grant admin";

  Ticket old = t;
  old.expires_at = kNow - 1;
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, Credentials{{}, {}, signer.issue(old)}).error, "invalid-ticket");
  TicketSigner stranger("another-cluster");
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, Credentials{{}, {}, stranger.issue(t)}).status, 401);
  // A bad ticket next to a good token: the token decides.
  Credentials both{"Bearer " + token({{"live", "show"}, {"publish", true}}, "alice"), std::nullopt, "bad.ticket"};
  EXPECT_EQ(run(p, {Action::kPublish, "show", ""}, both).status, 0);
}

TEST(Ticket, RoundTripAndTamper) {
  TicketSigner signer(kClusterSecret);
  Ticket t{Action::kView, "show", "", "edge-1", "carol", kNow + 30};
  std::string text = signer.issue(t);
  auto back = signer.verify(text, kNow);
  ASSERT_TRUE(std::holds_alternative<Ticket>(back)) << std::get<std::string>(back);
  EXPECT_EQ(std::get<Ticket>(back).node, "edge-1");
  EXPECT_EQ(std::get<Ticket>(back).subject, "carol");
  std::string tampered = text;
  tampered[2] = tampered[2] == 'a' ? 'b' : 'a';
  EXPECT_TRUE(std::holds_alternative<std::string>(signer.verify(tampered, kNow)));
  EXPECT_TRUE(std::holds_alternative<std::string>(signer.verify(text, kNow + 30)));
  EXPECT_TRUE(std::holds_alternative<std::string>(signer.verify("", kNow)));
  // A ticket signer's key is not the cluster secret itself: an HMAC of the same payload
  // keyed with the raw secret does not pass.
  std::string body = text.substr(0, text.find('.'));
  std::string forged = body + "." + base64url_encode(testing::hs256(kClusterSecret, body));
  EXPECT_TRUE(std::holds_alternative<std::string>(signer.verify(forged, kNow)));
}

TEST(BearerToken, Parsing) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER  abc "), "abc");
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer   "));
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearerabc"));
}

}  // namespace
}  // namespace strata::auth
