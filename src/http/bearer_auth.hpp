// The HTTP side of access control (README, "Access control"): a request's credentials
// (RFC 6750 §2.1 Authorization: Bearer, §2.3 ?access_token=, a broker's ?ticket=) and a
// refusal as a response (401/403 with WWW-Authenticate, RFC 6750 §3, and the JSON error).
#pragma once
#include "auth/access_policy.hpp"
#include "http/message.hpp"

namespace strata::http {

auth::Credentials credentials_of(const Request& request);
Response denial_response(const auth::Denial& denial);

}  // namespace strata::http
