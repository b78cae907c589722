#include "http/message.hpp"

#include <gtest/gtest.h>

namespace strata::http {
namespace {

TEST(PercentDecode, Table) {
  struct Case { const char* in; bool plus; const char* out; };
  const Case cases[] = {
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%41%62", false, "Ab"},
      {"%", false, "%"},         // truncated escape kept literally
      {"%4", false, "%4"},
      {"%zz", false, "%zz"},
      {"100%", true, "100%"},
      {"%e2%82%ac", false, "\xe2\x82\xac"},
      {"", false, ""},
  };
  for (const auto& c : cases) EXPECT_EQ(percent_decode(c.in, c.plus), c.out) << c.in;
}

TEST(ParseQuery, Table) {
  auto q = parse_query("layer=h&name=my+cam%21&flag&&=empty&dup=1&dup=2");
  EXPECT_EQ(q["layer"], "h");
  EXPECT_EQ(q["name"], "my cam!");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q[""], "empty");
  EXPECT_EQ(q["dup"], "2");
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query("&&&").empty());
}

TEST(Request, HeaderLookupIsCaseInsensitive) {
  Request request;
  request.headers = {{"Content-Type", "application/sdp"}, {"X-Two", "a"}, {"x-two", "b"}};
  EXPECT_EQ(request.header("content-type"), "application/sdp");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "application/sdp");
  EXPECT_EQ(request.header("x-TWO"), "a");  // first wins
  EXPECT_FALSE(request.header("Content-Length").has_value());
}

TEST(Response, SetHeaderReplaces) {
  Response response;
  response.headers = {{"location", "/a"}};
  response.set_header("Location", "/b");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.header("LOCATION"), "/b");
}

TEST(Response, ErrorResponseBody) {
  Response response = error_response(409, "conflict", "stream \"x\" busy");
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "conflict");
  EXPECT_EQ(body["detail"], "stream \"x\" busy");
}

TEST(Response, JsonResponseToleratesInvalidUtf8) {
  Response response = json_response(200, {{"name", std::string("bad\xff")}});
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(nlohmann::json::accept(response.body));
}

TEST(Iequals, Table) {
  EXPECT_TRUE(iequals("Origin", "oRIGIN"));
  EXPECT_FALSE(iequals("Origin", "Origins"));
  EXPECT_TRUE(iequals("", ""));
}

}  // namespace
}  // namespace strata::http
