// The public HTTP contract of a media server (the README's HTTP API): WHIP, WHEP (RFC 9725),
// session PATCH/DELETE, health, metrics and the JSON API.
#pragma once
#include <string>

#include "http/router.hpp"
#include "signaling/session_manager.hpp"

namespace strata::signaling {

struct NodeInfo {
  std::string id;
  std::string role = "dev";
  std::string region = "local";
  std::string http_url;
};

void add_media_routes(http::Router& router, SessionManager& sessions, NodeInfo node);

}  // namespace strata::signaling
