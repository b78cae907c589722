#include "http/bearer_auth.hpp"

namespace strata::http {

auth::Credentials credentials_of(const Request& request) {
  auth::Credentials c;
  c.authorization = request.header("Authorization");
  if (auto it = request.query_params.find("access_token"); it != request.query_params.end()) c.access_token = it->second;
  if (auto it = request.query_params.find("ticket"); it != request.query_params.end()) c.ticket = it->second;
  return c;
}

Response denial_response(const auth::Denial& denial) {
  Response r = error_response(denial.status, denial.error, denial.detail);
  if (!denial.www_authenticate.empty()) r.set_header("WWW-Authenticate", denial.www_authenticate);
  // A token or ticket decides per request: nothing about this answer may be cached.
  r.set_header("Cache-Control", "no-store");
  return r;
}

}  // namespace strata::http
