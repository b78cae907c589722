#include "http/router.hpp"

#include <gtest/gtest.h>

#include <random>

namespace strata::http {
namespace {

Request make_request(std::string method, std::string target) {
  Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  return request;
}

Response echo_params(const Request& request) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : request.path_params) params[k] = v;
  return json_response(200, params);
}

Router make_router() {
  Router router;
  router.add("POST", "/whip/{stream}", echo_params);
  router.add("DELETE", "/session/{id}", echo_params);
  router.add("PATCH", "/session/{id}", echo_params);
  router.add("POST", "/session/{id}/layer", echo_params);
  router.add("GET", "/session/list", [](const Request&) { return text_response(200, "list"); });
  router.add("GET", "/", [](const Request&) { return text_response(200, "root"); });
  router.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
  return router;
}

TEST(SplitPath, Table) {
  struct Case { const char* path; std::vector<std::string_view> segments; };
  const Case cases[] = {
      {"/", {""}},
      {"", {""}},
      {"/a", {"a"}},
      {"/a/b", {"a", "b"}},
      {"/a/", {"a", ""}},
      {"//", {"", ""}},
  };
  for (const auto& c : cases) EXPECT_EQ(split_path(c.path), c.segments) << c.path;
}

TEST(Router, PathParams) {
  Router router = make_router();
  struct Case { const char* method; const char* target; int status; const char* key; const char* value; };
  const Case cases[] = {
      {"POST", "/whip/cam1", 200, "stream", "cam1"},
      {"POST", "/whip/my%20cam", 200, "stream", "my cam"},
      {"DELETE", "/session/abc", 200, "id", "abc"},
      {"PATCH", "/session/abc", 200, "id", "abc"},
      {"POST", "/session/s1/layer", 200, "id", "s1"},
  };
  for (const auto& c : cases) {
    Response response = router.dispatch(make_request(c.method, c.target));
    EXPECT_EQ(response.status, c.status) << c.target;
    EXPECT_EQ(nlohmann::json::parse(response.body)[c.key], c.value) << c.target;
  }
}

TEST(Router, LiteralBeatsCapture) {
  Router router = make_router();
  router.add("GET", "/session/{id}", echo_params);
  EXPECT_EQ(router.dispatch(make_request("GET", "/session/list")).body, "list");
  EXPECT_EQ(router.dispatch(make_request("GET", "/session/x")).status, 200);
  EXPECT_EQ(router.dispatch(make_request("GET", "/")).body, "root");
}

TEST(Router, NotFoundIsJson) {
  Router router = make_router();
  for (const char* target : {"/nope", "/whip", "/whip/", "/whip/a/b", "/session/x/layer/y"}) {
    Response response = router.dispatch(make_request("POST", target));
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "not_found");
  }
}

TEST(Router, MethodNotAllowedListsAllow) {
  Router router = make_router();
  Response response = router.dispatch(make_request("GET", "/session/abc"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "DELETE, PATCH, OPTIONS");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "method_not_allowed");
  // Methods are case-sensitive tokens (RFC 9110 §9.1).
  EXPECT_EQ(router.dispatch(make_request("post", "/whip/a")).status, 405);
}

TEST(Router, ThrowingHandlerGives500) {
  Router router = make_router();
  Response response = router.dispatch(make_request("GET", "/boom"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(nlohmann::json::parse(response.body)["detail"], "kaput");
}

TEST(Router, Introspection) {
  Router router = make_router();
  EXPECT_TRUE(router.has_path("/session/x"));
  EXPECT_FALSE(router.has_path("/session"));
  EXPECT_TRUE(router.has_route("PATCH", "/session/x"));
  EXPECT_FALSE(router.has_route("GET", "/session/x"));
  EXPECT_EQ(router.allowed_methods("/whip/x"), std::vector<std::string>{"POST"});
}

TEST(Router, StaticFile) {
  Router router;
  add_static(router, "/app.js", "text/javascript", "let x = 1;");
  Response response = router.dispatch(make_request("GET", "/app.js"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/javascript");
  EXPECT_EQ(response.body, "let x = 1;");
}

TEST(Router, RandomTargetsNeverCrash) {
  Router router = make_router();
  std::mt19937 rng(42);
  const std::string alphabet = "/{}%abc?&=+ \x00\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string target;
    size_t length = rng() % 24;
    for (size_t j = 0; j < length; ++j) target.push_back(alphabet[rng() % alphabet.size()]);
    Response response = router.dispatch(make_request(i % 2 ? "GET" : "POST", target));
    EXPECT_TRUE(response.status == 200 || response.status == 404 || response.status == 405 ||
                response.status == 500);
  }
}

}  // namespace
}  // namespace strata::http
