// CORS (Fetch standard, "CORS protocol") for the browser demo page and third-party WHIP/
// WHEP players, plus the transport-independent part of serving a request. Kept apart from
// the socket code so it is unit-testable without a server.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "http/router.hpp"

namespace strata::http {

class CorsPolicy {
 public:
  // Empty list or a "*" entry = any origin.
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  bool allows(std::string_view origin) const;
  // Adds Access-Control-Allow-Origin (echoing the origin), Vary and Expose-Headers when
  // the request carries an allowed Origin; otherwise leaves the response untouched.
  void apply(const Request& request, Response& response) const;
  // Answer to OPTIONS on a routed path: 204 with Allow-Methods/-Headers/Max-Age, or 403
  // when the Origin is not allowed. A registered OPTIONS handler still runs (WHIP §4.4
  // lets a server return ICE servers in Link headers there); preflight headers are added.
  Response preflight(const Request& request, const Router& router) const;

 private:
  std::vector<std::string> allowed_origins_;
  bool any_origin_ = false;
};

// Routing + CORS for one parsed request: what the server sends back.
Response serve_request(const Router& router, const CorsPolicy& cors, const Request& request);

}  // namespace strata::http
