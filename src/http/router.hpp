// Method + path-pattern routing. Patterns are literal segments and "{name}" captures,
// e.g. "/whip/{stream}", "/session/{id}/layer". Matching is segment by segment on the
// still-encoded path; captures are percent-decoded into Request::path_params.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace strata::http {

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);

  // Runs the best matching handler (most literal segments wins, then registration order).
  // Unknown path: 404 JSON. Known path, other method: 405 JSON with an Allow header.
  // A handler that throws yields a 500 JSON error instead of tearing down the server.
  Response dispatch(const Request& request) const;

  bool has_path(std::string_view path) const;
  bool has_route(std::string_view method, std::string_view path) const;
  // Methods registered for this path, deduplicated, in registration order.
  std::vector<std::string> allowed_methods(std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{id}" = capture
    size_t literal_count = 0;
    Handler handler;
  };
  using Params = std::map<std::string, std::string>;

  static bool matches(const Route& route, const std::vector<std::string_view>& path,
                      Params* params);
  const Route* find(std::string_view method, const std::vector<std::string_view>& path) const;

  std::vector<Route> routes_;
};

// Serves a fixed body with GET at `path`.
void add_static(Router& router, std::string path, std::string content_type, std::string body);

// "/a/b" -> {"a","b"}; "/" -> {""}. Exposed for tests.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace strata::http
