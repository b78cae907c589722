// A small blocking HTTP/1.1 client (Boost.Beast) for server-to-server control calls:
// an edge asking an origin for a relay, closing it. Control plane only.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.hpp"

namespace strata::http {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// `url` is "http://host:port/path". Returns nullopt with *error set on a bad URL, a
// connection failure or the timeout.
std::optional<ClientResponse> http_request(const std::string& method, const std::string& url,
                                           const std::vector<std::pair<std::string, std::string>>& headers,
                                           const std::string& body, Duration timeout, std::string* error);

}  // namespace strata::http
