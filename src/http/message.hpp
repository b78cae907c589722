// HTTP request/response value types shared by the router and the server. These carry no
// Beast types, so handlers (signaling, metrics, admin) never depend on Boost.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::http {

class EventStream;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // case-sensitive token, e.g. "POST" (RFC 9110 §9.1)
  std::string target;  // path only, still percent-encoded, e.g. "/whip/cam%201"
  std::string query;   // raw text after '?', without the '?'
  std::map<std::string, std::string> query_params;  // decoded; last value wins
  HeaderList headers;                               // in arrival order
  std::string body;
  std::string remote_address;                       // "ip:port" or "[ip]:port"
  std::map<std::string, std::string> path_params;   // decoded "{name}" captures

  // Field names are case-insensitive (RFC 9110 §5.1); returns the first match.
  std::optional<std::string> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  std::string content_type;  // empty = no Content-Type header
  // Set: the body is this event stream (text/event-stream), written as events come until
  // either side closes it; `body` is ignored.
  std::shared_ptr<EventStream> events;

  std::optional<std::string> header(std::string_view name) const;
  // Replaces any existing field of that name (case-insensitive).
  Response& set_header(std::string name, std::string value);
};

Response json_response(int status, const nlohmann::json& body);
// Body {"error": error, "detail": detail}, Content-Type application/json.
Response error_response(int status, std::string_view error, std::string_view detail);
Response text_response(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");

bool iequals(std::string_view a, std::string_view b);
// RFC 3986 §2.1 percent-decoding; malformed escapes are kept literally. With
// plus_as_space, '+' decodes to ' ' (application/x-www-form-urlencoded queries).
std::string percent_decode(std::string_view text, bool plus_as_space);
// "a=1&b=x%20y&flag" -> {a:"1", b:"x y", flag:""}.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace strata::http
