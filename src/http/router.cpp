#include "http/router.hpp"

#include <algorithm>
#include <exception>

namespace strata::http {
namespace {

bool is_capture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

std::vector<std::string_view> split_path(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::vector<std::string_view> segments;
  while (true) {
    size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  for (std::string_view segment : split_path(pattern)) {
    if (!is_capture(segment)) ++route.literal_count;
    route.segments.emplace_back(segment);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

bool Router::matches(const Route& route, const std::vector<std::string_view>& path,
                     Params* params) {
  if (route.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& want = route.segments[i];
    if (is_capture(want)) {
      if (path[i].empty()) return false;  // "/whip/" does not match "/whip/{stream}"
      if (params) (*params)[want.substr(1, want.size() - 2)] = percent_decode(path[i], false);
    } else if (want != path[i]) {
      return false;
    }
  }
  return true;
}

const Router::Route* Router::find(std::string_view method,
                                  const std::vector<std::string_view>& path) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.method != method || !matches(route, path, nullptr)) continue;
    if (!best || route.literal_count > best->literal_count) best = &route;
  }
  return best;
}

Response Router::dispatch(const Request& request) const {
  auto path = split_path(request.target);
  const Route* route = find(request.method, path);
  if (!route) {
    auto allowed = allowed_methods(request.target);
    if (allowed.empty()) {
      return error_response(404, "not_found", "no route for " + request.target);
    }
    if (std::find(allowed.begin(), allowed.end(), "OPTIONS") == allowed.end()) {
      allowed.push_back("OPTIONS");  // the server answers preflight for every routed path
    }
    Response response = error_response(405, "method_not_allowed",
                                        request.method + " not allowed on " + request.target);
    response.set_header("Allow", join(allowed, ", "));
    return response;
  }
  Request routed = request;
  routed.path_params.clear();
  matches(*route, path, &routed.path_params);
  try {
    return route->handler(routed);
  } catch (const std::exception& e) {
    return error_response(500, "internal_error", e.what());
  } catch (...) {
    return error_response(500, "internal_error", "unknown exception");
  }
}

bool Router::has_path(std::string_view path) const {
  auto segments = split_path(path);
  return std::any_of(routes_.begin(), routes_.end(),
                     [&](const Route& r) { return matches(r, segments, nullptr); });
}

bool Router::has_route(std::string_view method, std::string_view path) const {
  return find(method, split_path(path)) != nullptr;
}

std::vector<std::string> Router::allowed_methods(std::string_view path) const {
  auto segments = split_path(path);
  std::vector<std::string> methods;
  for (const Route& route : routes_) {
    if (!matches(route, segments, nullptr)) continue;
    if (std::find(methods.begin(), methods.end(), route.method) == methods.end()) {
      methods.push_back(route.method);
    }
  }
  return methods;
}

void add_static(Router& router, std::string path, std::string content_type, std::string body) {
  router.add("GET", std::move(path),
             [type = std::move(content_type), body = std::move(body)](const Request&) {
               Response response;
               response.content_type = type;
               response.body = body;
               response.set_header("Cache-Control", "no-cache");
               return response;
             });
}

}  // namespace strata::http
