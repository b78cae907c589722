#include "signaling/api_bodies.hpp"

#include <nlohmann/json.hpp>

#include "dtls/certificate.hpp"
#include "signaling/track_json.hpp"

namespace strata::signaling {
namespace {

// A string member, or nullopt when absent or of another type.
std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// "sha-256 AB:CD:..." → algorithm and digest bytes.
bool parse_fingerprint_attr(const std::string& text, std::string* algorithm, Bytes* digest) {
  auto space = text.find(' ');
  if (space == std::string::npos) return false;
  *algorithm = text.substr(0, space);
  auto bytes = dtls::parse_fingerprint(text.substr(space + 1));
  if (!bytes) return false;
  *digest = *bytes;
  return true;
}

// The origin's candidates; false when one is malformed or none is usable.
bool parse_candidates(const nlohmann::json& answer, std::vector<SocketAddress>* out) {
  auto candidates = answer.find("candidates");
  if (candidates == answer.end() || !candidates->is_array()) return false;
  for (auto& c : *candidates) {
    auto ip = string_field(c, "ip");
    auto port = c.is_object() ? c.find("port") : c.end();
    if (!ip || port == c.end() || !port->is_number_unsigned() || port->get<uint64_t>() > 65535) return false;
    if (auto a = SocketAddress::from_ip_port(*ip, uint16_t(port->get<uint64_t>()))) out->push_back(*a);
  }
  return !out->empty();
}

}  // namespace

std::variant<LayerRequest, ApiError> parse_layer_request(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("mid") && !j["mid"].is_string())
    return ApiError{400, "bad-mid", "\"mid\" must be a string: the slot's video m-line mid"};
  return LayerRequest{string_field(j, "layer").value_or(""), string_field(j, "mid")};
}

std::variant<RelayRequest, ApiError> parse_relay_request(std::string_view body) {
  nlohmann::json req = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto edge = string_field(req, "edge_id");
  auto edge_ufrag = string_field(req, "ice_ufrag");
  auto edge_pwd = string_field(req, "ice_pwd");
  auto fingerprint = string_field(req, "fingerprint");
  if (!edge || !edge_ufrag || !edge_pwd || !fingerprint || edge_ufrag->empty() || edge_pwd->empty())
    return ApiError{400, "bad-relay-request", "expected JSON {edge_id, ice_ufrag, ice_pwd, fingerprint} (strings)"};
  RelayRequest out{*edge, *edge_ufrag, *edge_pwd, "", {}};
  if (!parse_fingerprint_attr(*fingerprint, &out.fingerprint_algorithm, &out.fingerprint))
    return ApiError{400, "bad-relay-request", "fingerprint must be '<algorithm> <hex:hex:...>'"};
  return out;
}

std::optional<RelayPlan> parse_relay_answer(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  RelayPlan plan;
  transport::TransportConfig& config = plan.config;
  auto tracks = tracks_from_json(j.value("tracks", nlohmann::json()));
  auto fingerprint = string_field(j, "fingerprint");
  auto remote_ufrag = string_field(j, "ice_ufrag");
  auto remote_pwd = string_field(j, "ice_pwd");
  if (!tracks || !fingerprint || !remote_ufrag || !remote_pwd ||
      !parse_fingerprint_attr(*fingerprint, &config.remote_fingerprint_algorithm, &config.remote_fingerprint) ||
      !parse_candidates(j, &config.remote_candidates))
    return std::nullopt;
  config.remote_ufrag = *remote_ufrag;
  config.remote_pwd = *remote_pwd;
  config.ice_controlling = true;
  config.dtls_role = dtls::Role::kClient;
  plan.tracks = std::move(*tracks);
  return plan;
}

}  // namespace strata::signaling
