#include "http/cors.hpp"

#include <algorithm>

namespace strata::http {
namespace {

constexpr const char* kAllowMethods = "GET, POST, PATCH, DELETE, OPTIONS";
constexpr const char* kAllowHeaders = "Content-Type, Authorization, If-Match";
// WHIP/WHEP clients need Location (session URL), ETag (ICE restarts), Link (ICE servers)
// and Retry-After (409/503 back-off) from cross-origin responses.
// WWW-Authenticate says why a token was refused (RFC 6750 §3).
constexpr const char* kExposeHeaders = "Location, ETag, Link, Retry-After, WWW-Authenticate";
constexpr const char* kMaxAgeSeconds = "86400";

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins)
    : allowed_origins_(std::move(allowed_origins)) {
  any_origin_ = allowed_origins_.empty() ||
                std::find(allowed_origins_.begin(), allowed_origins_.end(), "*") !=
                    allowed_origins_.end();
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (any_origin_) return true;
  // Origins are compared as serialized (scheme://host[:port]); browsers send them lower-case.
  return std::any_of(allowed_origins_.begin(), allowed_origins_.end(),
                     [&](const std::string& allowed) { return iequals(allowed, origin); });
}

void CorsPolicy::apply(const Request& request, Response& response) const {
  auto origin = request.header("Origin");
  if (!origin) return;
  response.set_header("Vary", "Origin");  // the answer differs per Origin: keep caches honest
  if (!allows(*origin)) return;
  response.set_header("Access-Control-Allow-Origin", *origin);
  response.set_header("Access-Control-Expose-Headers", kExposeHeaders);
}

Response CorsPolicy::preflight(const Request& request, const Router& router) const {
  auto origin = request.header("Origin");
  if (origin && !allows(*origin)) {
    Response refused = error_response(403, "origin_not_allowed", "CORS origin " + *origin);
    refused.set_header("Vary", "Origin");
    return refused;
  }
  Response response;
  if (router.has_route("OPTIONS", request.target)) {
    response = router.dispatch(request);
  } else {
    response.status = 204;
  }
  response.set_header("Allow", kAllowMethods);
  if (origin) {
    apply(request, response);
    response.set_header("Access-Control-Allow-Methods", kAllowMethods);
    response.set_header("Access-Control-Allow-Headers", kAllowHeaders);
    response.set_header("Access-Control-Max-Age", kMaxAgeSeconds);
  }
  return response;
}

Response serve_request(const Router& router, const CorsPolicy& cors, const Request& request) {
  if (request.method == "OPTIONS" && router.has_path(request.target)) {
    return cors.preflight(request, router);
  }
  Response response = router.dispatch(request);
  cors.apply(request, response);
  return response;
}

}  // namespace strata::http
