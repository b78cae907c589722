// The control plane's refusal of a request, rendered by the HTTP layer as a JSON error.
#pragma once
#include <string>

namespace strata::signaling {

struct ApiError {
  int status = 400;
  std::string error;   // short machine-readable code
  std::string detail;  // what was wrong, for people
  int retry_after = 0; // seconds; > 0 adds Retry-After
};

}  // namespace strata::signaling
