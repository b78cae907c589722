#include "signaling/http_api.hpp"

#include "http/message.hpp"

namespace strata::signaling {

namespace {

constexpr const char* kSessionPath = "/session/";

http::Response api_error(const ApiError& e) {
  auto r = http::error_response(e.status, e.error, e.detail);
  if (e.retry_after > 0) r.set_header("Retry-After", std::to_string(e.retry_after));
  return r;
}

bool is_content_type(const http::Request& req, std::string_view want) {
  auto ct = req.header("Content-Type");
  if (!ct) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return http::iequals(v, want);
}

// WHIP/WHEP POST (RFC 9725 §4.2): offer in, 201 + Location + ETag + answer out.
http::Response create_session(const http::Request& req, SessionManager& sessions, bool publish) {
  const std::string& stream = req.path_params.at("stream");
  if (!SessionManager::valid_stream_name(stream))
    return http::error_response(400, "bad-stream-name",
                                "stream names are 1-64 characters of A-Z a-z 0-9 '-' '_' '.'");
  if (!is_content_type(req, "application/sdp"))
    return http::error_response(415, "unsupported-media-type", "the offer must be sent as Content-Type: application/sdp");
  auto result = publish ? sessions.publish(stream, req.body) : sessions.view(stream, req.body);
  if (auto* e = std::get_if<ApiError>(&result)) return api_error(*e);
  auto& created = std::get<SessionCreated>(result);
  http::Response r;
  r.status = 201;
  r.content_type = "application/sdp";
  r.body = created.answer_sdp;
  r.set_header("Location", kSessionPath + created.session_id);
  r.set_header("ETag", created.etag);
  return r;
}

// RFC 9725 §4.3: trickle candidates to an ICE-lite server carry nothing it needs (the
// client's checks reveal its addresses), so a well-formed fragment is acknowledged.
http::Response patch_session(const http::Request& req, SessionManager& sessions) {
  if (!sessions.has_session(req.path_params.at("id")))
    return http::error_response(404, "unknown-session", "no session with this id on this server");
  if (!is_content_type(req, "application/trickle-ice-sdpfrag"))
    return http::error_response(415, "unsupported-media-type",
                                "PATCH bodies must be Content-Type: application/trickle-ice-sdpfrag");
  if (req.body.find("a=ice-ufrag:") != std::string::npos && req.body.find("a=ice-pwd:") != std::string::npos)
    return http::error_response(501, "ice-restart-unsupported",
                                "ICE restart is not supported yet; start a new session with POST");
  http::Response r;
  r.status = 204;
  return r;
}

}  // namespace

void add_media_routes(http::Router& router, SessionManager& sessions, NodeInfo node) {
  router.add("POST", "/whip/{stream}", [&sessions](const http::Request& req) { return create_session(req, sessions, true); });
  router.add("POST", "/whep/{stream}", [&sessions](const http::Request& req) { return create_session(req, sessions, false); });
  router.add("PATCH", "/session/{id}", [&sessions](const http::Request& req) { return patch_session(req, sessions); });
  router.add("DELETE", "/session/{id}", [&sessions](const http::Request& req) {
    if (!sessions.end_session(req.path_params.at("id")))
      return http::error_response(404, "unknown-session", "no session with this id on this server");
    return http::json_response(200, {{"status", "deleted"}});
  });
  router.add("GET", "/healthz", [](const http::Request&) { return http::text_response(200, "ok\n"); });
  router.add("GET", "/metrics", [&sessions](const http::Request&) {
    return http::text_response(200, sessions.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  router.add("GET", "/api/v1/streams", [&sessions](const http::Request&) { return http::json_response(200, sessions.streams_json()); });
  router.add("GET", "/api/v1/nodes", [&sessions, node](const http::Request&) {
    nlohmann::json n = {{"id", node.id},         {"role", node.role},
                        {"region", node.region}, {"url", node.http_url},
                        {"sessions", sessions.session_count()}};
    return http::json_response(200, {{"nodes", nlohmann::json::array({n})}});
  });
}

}  // namespace strata::signaling
