// The public HTTP contract of a media server (the README's HTTP API): WHIP, WHEP (RFC 9725),
// session PATCH/DELETE, health, metrics and the JSON API.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "auth/access_policy.hpp"
#include "http/router.hpp"
#include "signaling/session_manager.hpp"

namespace strata::signaling {

struct NodeInfo {
  std::string id;
  std::string role = "dev";
  std::string region = "local";
  std::string http_url;
};

// Who may use the API (README, "Access control"). Off by default (`strata dev`).
struct ApiAccess {
  auth::AccessPolicy policy;
  // Wall-clock Unix seconds, for tokens' exp/nbf and tickets; empty = the system clock.
  std::function<int64_t()> unix_now;
};

// WHIP/WHEP need a publish/view grant for the live, /api/v1/* and /metrics an admin grant;
// /healthz, relays (cluster secret) and session URLs (their unguessable id is the
// capability, RFC 9725 §4.3) need none.
// `metrics_router` (--metrics-http) gets GET /metrics and /healthz without auth.
void add_media_routes(http::Router& router, SessionManager& sessions, NodeInfo node, ApiAccess access = {},
                      http::Router* metrics_router = nullptr);

}  // namespace strata::signaling
