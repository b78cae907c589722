#include "http/cors.hpp"

#include <gtest/gtest.h>

namespace strata::http {
namespace {

Router make_router() {
  Router router;
  router.add("POST", "/whip/{stream}", [](const Request&) {
    Response response = text_response(201, "v=0\r\n", "application/sdp");
    response.set_header("Location", "/session/1");
    return response;
  });
  return router;
}

Request make_request(std::string method, std::string target, std::optional<std::string> origin) {
  Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  if (origin) request.headers.emplace_back("Origin", *origin);
  return request;
}

TEST(CorsPolicy, Allows) {
  struct Case { std::vector<std::string> list; const char* origin; bool allowed; };
  const Case cases[] = {
      {{}, "https://a.example", true},
      {{"*"}, "https://a.example", true},
      {{"https://a.example"}, "https://a.example", true},
      {{"https://a.example"}, "https://b.example", false},
      {{"https://a.example"}, "https://a.example:8443", false},
      {{"https://a.example", "http://localhost:8080"}, "http://localhost:8080", true},
      {{"https://a.example"}, "null", false},
  };
  for (const auto& c : cases) EXPECT_EQ(CorsPolicy(c.list).allows(c.origin), c.allowed) << c.origin;
}

TEST(CorsPolicy, SimpleRequestGetsExposedHeaders) {
  CorsPolicy cors({"https://a.example"});
  Response response = serve_request(make_router(), cors, make_request("POST", "/whip/x", "https://a.example"));
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(response.header("Vary"), "Origin");
  EXPECT_EQ(response.header("Access-Control-Expose-Headers"), "Location, ETag, Link, Retry-After, WWW-Authenticate");
}

TEST(CorsPolicy, DisallowedOriginGetsNoCorsHeaders) {
  CorsPolicy cors({"https://a.example"});
  Response response = serve_request(make_router(), cors, make_request("POST", "/whip/x", "https://evil.example"));
  EXPECT_EQ(response.status, 201);  // the browser, not the server, withholds the answer
  EXPECT_FALSE(response.header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(response.header("Access-Control-Expose-Headers"));
}

TEST(CorsPolicy, NoOriginNoCorsHeaders) {
  CorsPolicy cors({});
  Response response = serve_request(make_router(), cors, make_request("POST", "/whip/x", std::nullopt));
  EXPECT_FALSE(response.header("Access-Control-Allow-Origin"));
}

TEST(CorsPolicy, Preflight) {
  struct Case { std::optional<std::string> origin; const char* target; int status; bool cors_headers; };
  const Case cases[] = {
      {"https://a.example", "/whip/x", 204, true},
      {"https://evil.example", "/whip/x", 403, false},
      {std::nullopt, "/whip/x", 204, false},
      {"https://a.example", "/unknown", 404, true},  // unrouted: a normal 404
  };
  CorsPolicy cors({"https://a.example"});
  Router router = make_router();
  for (const auto& c : cases) {
    Response response = serve_request(router, cors, make_request("OPTIONS", c.target, c.origin));
    EXPECT_EQ(response.status, c.status) << c.target;
    EXPECT_EQ(response.header("Access-Control-Allow-Origin").has_value(), c.cors_headers);
    if (c.status == 204 && c.cors_headers) {
      EXPECT_EQ(response.header("Access-Control-Allow-Methods"), "GET, POST, PATCH, DELETE, OPTIONS");
      EXPECT_EQ(response.header("Access-Control-Allow-Headers"), "Content-Type, Authorization, If-Match");
      EXPECT_EQ(response.header("Access-Control-Max-Age"), "86400");
    }
  }
}

TEST(CorsPolicy, PreflightKeepsExplicitOptionsHandler) {
  Router router = make_router();
  router.add("OPTIONS", "/whip/{stream}", [](const Request&) {
    Response response;
    response.status = 204;
    response.set_header("Link", "<stun:stun.example>; rel=\"ice-server\"");
    return response;
  });
  Response response = serve_request(router, CorsPolicy({}), make_request("OPTIONS", "/whip/x", "https://a.example"));
  EXPECT_EQ(response.status, 204);
  EXPECT_TRUE(response.header("Link"));
  EXPECT_TRUE(response.header("Access-Control-Allow-Methods"));
}

}  // namespace
}  // namespace strata::http
