#include "signaling/http_api.hpp"

#include <memory>

#include "auth/client_limiter.hpp"
#include "http/access_gate.hpp"
#include "http/message.hpp"
#include "signaling/api_bodies.hpp"
#include "signaling/api_render.hpp"

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
http::Response create_session(const http::Request& req, SessionManager& sessions, const http::AccessGate& gate, bool publish) {
  const std::string& stream = req.path_params.at("stream");
  if (!SessionManager::valid_stream_name(stream))
    return http::error_response(400, "bad-stream-name",
                                "stream names are 1-64 characters of A-Z a-z 0-9 '-' '_' '.'");
  auto param = [&](const char* name) -> std::optional<std::string> {
    auto it = req.query_params.find(name);
    if (it == req.query_params.end()) return std::nullopt;
    return it->second;
  };
  const auto host = param("host");
  if (publish && host && host->empty())
    return http::error_response(400, "bad-host-name", "host names are 1-64 characters of A-Z a-z 0-9 '-' '_'");
  // Who asks comes before what they send: a stranger learns nothing about the offer's checks.
  auto permit = gate.check(req, publish ? auth::Action::kPublish : auth::Action::kView, stream,
                           publish ? host.value_or("") : "");
  if (auto* refused = std::get_if<http::Response>(&permit)) return std::move(*refused);
  if (!is_content_type(req, "application/sdp"))
    return http::error_response(415, "unsupported-media-type", "the offer must be sent as Content-Type: application/sdp");
  const std::string client = auth::client_key(req.remote_address);
  std::variant<SessionCreated, ApiError> result;
  if (publish) {
    // A token pinning its host (sub) names the host when the request does not.
    result = sessions.publish(stream, req.body, std::get<auth::Permit>(permit).host, client);
  } else {
    result = sessions.view(stream, req.body, {param("layer").value_or(""), host, param("exclude"), client});
  }
  if (auto* e = std::get_if<ApiError>(&result)) return api_error(*e);
  auto& created = std::get<SessionCreated>(result);
  http::Response r;
  r.status = 201;
  r.content_type = "application/sdp";
  r.body = created.answer_sdp;
  const std::string location = kSessionPath + created.session_id;
  r.set_header("Location", location);
  r.set_header("ETag", created.etag);
  // The WHEP server-sent events extension: the live's state for this session.
  r.set_header("Link", "<" + location + "/events>; rel=\"urn:ietf:params:whep:ext:core:server-sent-events\"; events=\"live\"");
  return r;
}

std::string sdpfrag_attribute(const std::string& body, std::string_view name) {
  size_t at = body.find(name);
  if (at == std::string::npos) return {};
  at += name.size();
  size_t end = body.find_first_of("\r\n", at);
  return body.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// RFC 9725 §4.3: a fragment with new ICE credentials is an ICE restart (200 + our new
// credentials and candidates); otherwise it is trickle, which an ICE-lite server does not
// need (the client's checks reveal its addresses), so it is acknowledged with 204.
http::Response patch_session(const http::Request& req, SessionManager& sessions) {
  const std::string& id = req.path_params.at("id");
  if (!sessions.has_session(id))
    return http::error_response(404, "unknown-session", "no session with this id on this server");
  if (!is_content_type(req, "application/trickle-ice-sdpfrag"))
    return http::error_response(415, "unsupported-media-type",
                                "PATCH bodies must be Content-Type: application/trickle-ice-sdpfrag");
  std::string ufrag = sdpfrag_attribute(req.body, "a=ice-ufrag:");
  std::string pwd = sdpfrag_attribute(req.body, "a=ice-pwd:");
  if (ufrag.empty() && pwd.empty()) {
    http::Response r;
    r.status = 204;
    return r;
  }
  auto result = sessions.restart_ice(id, ufrag, pwd);
  if (auto* e = std::get_if<ApiError>(&result)) return api_error(*e);
  auto& restarted = std::get<SessionManager::IceRestarted>(result);
  http::Response r;
  r.status = 200;
  r.content_type = "application/trickle-ice-sdpfrag";
  // The same candidates as the session's answer: RFC 9725 §4.3.2 has the restart's answer
  // carry the server's candidates with its new credentials.
  r.body = "a=ice-lite\r\na=ice-ufrag:" + restarted.ice_ufrag + "\r\na=ice-pwd:" + restarted.ice_pwd + "\r\n";
  for (const auto& c : restarted.candidates)
    r.body += "a=candidate:" + c.foundation + " 1 udp " + std::to_string(c.priority) + " " + c.ip + " " +
              std::to_string(c.port) + " typ host\r\n";
  r.body += "a=end-of-candidates\r\n";
  r.set_header("ETag", restarted.etag);
  return r;
}

http::Response metrics_response(SessionManager& sessions, const http::AccessGate* gate) {
  std::string text = metrics_text(sessions.directory_view(), sessions.worker_metrics());
  if (gate) text += gate->metrics_text();
  return http::text_response(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

// /api/v1/* and /metrics: an admin grant for the whole server ("live": "*"), or for the
// live a request names. /healthz stays open (load balancers probe it).
void add_admin_routes(http::Router& router, SessionManager& sessions, NodeInfo node, std::shared_ptr<const http::AccessGate> gate) {
  // Runs `answer` when the request is an admin of `live` (empty: of the whole server).
  auto admin = [gate](const http::Request& req, const std::string& live, auto answer) -> http::Response {
    auto permit = gate->check(req, auth::Action::kAdmin, live);
    if (auto* refused = std::get_if<http::Response>(&permit)) return std::move(*refused);
    return answer();
  };
  router.add("GET", "/healthz", [](const http::Request&) { return http::text_response(200, "ok\n"); });
  router.add("GET", "/metrics", [&sessions, admin, gate](const http::Request& req) {
    return admin(req, "", [&] { return metrics_response(sessions, gate.get()); });
  });
  router.add("GET", "/api/v1/lives", [&sessions, admin](const http::Request& req) {
    return admin(req, "", [&] { return http::json_response(200, lives_json(sessions.lives_view())); });
  });
  router.add("GET", "/api/v1/lives/{live}", [&sessions, admin](const http::Request& req) {
    const std::string& live = req.path_params.at("live");
    return admin(req, live, [&] {
      auto one = live_json(sessions.lives_view(), live);
      if (!one) return http::error_response(404, "unknown-live", "no live named '" + live + "' on this server");
      return http::json_response(200, *one);
    });
  });
  // Ends a live here: its hosts and viewers (viewers get RTCP BYE).
  router.add("DELETE", "/api/v1/lives/{live}", [&sessions, admin](const http::Request& req) {
    const std::string& live = req.path_params.at("live");
    return admin(req, live, [&] {
      const size_t ended = sessions.end_live(live);
      if (ended == 0) return http::error_response(404, "unknown-live", "no live named '" + live + "' on this server");
      return http::json_response(200, {{"live", live}, {"ended_sessions", ended}});
    });
  });
  // Ends one host's or viewer's session (a kick): an admin of the session's live.
  router.add("DELETE", "/api/v1/sessions/{id}", [&sessions, admin](const http::Request& req) {
    const std::string& id = req.path_params.at("id");
    const auto live = sessions.session_live(id);
    // An unknown id is told only to an admin of the whole server, who may list sessions anyway.
    return admin(req, live.value_or(""), [&] {
      if (!live || !sessions.end_session(id))
        return http::error_response(404, "unknown-session", "no host or viewer session with this id on this server");
      return http::json_response(200, {{"session", id}, {"live", *live}, {"status", "ended"}});
    });
  });
  router.add("GET", "/api/v1/streams", [&sessions, admin](const http::Request& req) {
    return admin(req, "", [&] { return http::json_response(200, streams_json(sessions.directory_view())); });
  });
  router.add("GET", "/api/v1/nodes", [&sessions, node, admin](const http::Request& req) {
    return admin(req, "", [&] {
      nlohmann::json n = {{"id", node.id},         {"role", node.role},
                          {"region", node.region}, {"url", node.http_url},
                          {"sessions", sessions.session_count()}};
      return http::json_response(200, {{"nodes", nlohmann::json::array({n})}});
    });
  });
}

}  // namespace

void add_media_routes(http::Router& router, SessionManager& sessions, NodeInfo node, ApiAccess access,
                      http::Router* metrics_router) {
  auto gate = std::make_shared<const http::AccessGate>(std::move(access.policy), std::move(access.unix_now));
  if (metrics_router) {
    metrics_router->add("GET", "/healthz", [](const http::Request&) { return http::text_response(200, "ok\n"); });
    metrics_router->add("GET", "/metrics",
                        [&sessions, gate](const http::Request&) { return metrics_response(sessions, gate.get()); });
  }
  router.add("POST", "/whip/{stream}",
             [&sessions, gate](const http::Request& req) { return create_session(req, sessions, *gate, true); });
  router.add("POST", "/whep/{stream}",
             [&sessions, gate](const http::Request& req) { return create_session(req, sessions, *gate, false); });
  // Server-to-server relay (docs/ARCHITECTURE.md, "Cluster"), authenticated with the cluster secret.
  // One host's stream of a live: /relay/{live}/{host}; /relay/{live} is its default host.
  auto relay = [&sessions](const http::Request& req, const std::string& host) {
    const std::string& live = req.path_params.at("stream");
    if (!SessionManager::valid_stream_name(live) || !room::valid_host_name(host))
      return http::error_response(400, "bad-stream-name", "expected /relay/{live}/{host} with valid names");
    auto result = sessions.create_relay(registry::host_stream(live, host), req.body, req.header("Authorization"));
    if (auto* e = std::get_if<ApiError>(&result)) return api_error(*e);
    return http::json_response(201, std::get<nlohmann::json>(result));
  };
  router.add("POST", "/relay/{stream}",
             [relay](const http::Request& req) { return relay(req, std::string(room::kDefaultHost)); });
  router.add("POST", "/relay/{stream}/{host}",
             [relay](const http::Request& req) { return relay(req, req.path_params.at("host")); });
  // A viewer's highest simulcast layer while it watches, per slot:
  // {"layer": "q" | "h" | "f" | "auto", "mid": "<the slot's video mid>"} (no mid: every slot).
  router.add("POST", "/session/{id}/layer", [&sessions](const http::Request& req) {
    auto parsed = parse_layer_request(req.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return api_error(*e);
    const std::string layer = std::get<LayerRequest>(parsed).layer;
    const auto mid = std::get<LayerRequest>(parsed).mid;
    if (auto e = sessions.set_layer(req.path_params.at("id"), layer, mid)) return api_error(*e);
    nlohmann::json out = {{"layer", layer}};
    if (mid) out["mid"] = *mid;
    return http::json_response(200, out);
  });
  // The live's state for one session, now and on every change (text/event-stream).
  router.add("GET", "/session/{id}/events", [&sessions](const http::Request& req) {
    auto result = sessions.events(req.path_params.at("id"));
    if (auto* e = std::get_if<ApiError>(&result)) return api_error(*e);
    http::Response r;
    r.status = 200;
    r.events = std::get<std::shared_ptr<http::EventStream>>(std::move(result));
    return r;
  });
  router.add("PATCH", "/session/{id}", [&sessions](const http::Request& req) { return patch_session(req, sessions); });
  router.add("DELETE", "/session/{id}", [&sessions](const http::Request& req) {
    if (!sessions.end_session(req.path_params.at("id")))
      return http::error_response(404, "unknown-session", "no session with this id on this server");
    return http::json_response(200, {{"status", "deleted"}});
  });
  add_admin_routes(router, sessions, std::move(node), gate);
}

}  // namespace strata::signaling
