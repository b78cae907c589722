#include "registry/registry_json.hpp"

#include <nlohmann/json.hpp>

namespace strata::registry {
namespace {

using nlohmann::json;

// Parses an object; nullopt on syntax errors or a non-object document.
std::optional<json> parse_object(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

// Field readers that tolerate missing fields (default) but reject wrong types.
bool read_string(const json& doc, const char* key, std::string* out) {
  auto it = doc.find(key);
  if (it == doc.end()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

template <typename T>
bool read_number(const json& doc, const char* key, T* out) {
  auto it = doc.find(key);
  if (it == doc.end()) return true;
  if (!it->is_number()) return false;
  if constexpr (std::is_floating_point_v<T>) {
    *out = it->get<T>();
  } else {
    if (!it->is_number_unsigned()) return false;
    *out = static_cast<T>(it->get<uint64_t>());
  }
  return true;
}

bool read_bool(const json& doc, const char* key, bool* out) {
  auto it = doc.find(key);
  if (it == doc.end()) return true;
  if (!it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}

}  // namespace

std::string node_to_json(const NodeRecord& node) {
  json doc = {{"id", node.id},         {"role", node.role},
              {"region", node.region}, {"http_url", node.http_url},
              {"cpu", node.cpu},       {"egress_bps", node.egress_bps},
              {"sessions", node.sessions}, {"capacity", node.capacity},
              {"draining", node.draining}};
  return doc.dump();
}

std::optional<NodeRecord> node_from_json(std::string_view text) {
  auto doc = parse_object(text);
  if (!doc) return std::nullopt;
  NodeRecord node;
  bool ok = read_string(*doc, "id", &node.id) && read_string(*doc, "role", &node.role) &&
            read_string(*doc, "region", &node.region) &&
            read_string(*doc, "http_url", &node.http_url) && read_number(*doc, "cpu", &node.cpu) &&
            read_number(*doc, "egress_bps", &node.egress_bps) &&
            read_number(*doc, "sessions", &node.sessions) &&
            read_number(*doc, "capacity", &node.capacity) &&
            read_bool(*doc, "draining", &node.draining);
  if (!ok || node.id.empty()) return std::nullopt;
  return node;
}

std::string claim_to_json(const StreamClaim& claim) {
  json doc = {{"origin_id", claim.origin_id},
              {"origin_region", claim.origin_region},
              {"origin_url", claim.origin_url}};
  return doc.dump();
}

std::optional<StreamClaim> claim_from_json(std::string_view stream, std::string_view text) {
  auto doc = parse_object(text);
  if (!doc) return std::nullopt;
  StreamClaim claim;
  claim.stream = std::string(stream);
  bool ok = read_string(*doc, "origin_id", &claim.origin_id) &&
            read_string(*doc, "origin_region", &claim.origin_region) &&
            read_string(*doc, "origin_url", &claim.origin_url);
  if (!ok || claim.origin_id.empty()) return std::nullopt;
  return claim;
}

std::string event_to_json(const Event& event) {
  const char* kind = event.kind == Event::Kind::kStreamMoved ? "stream_moved" : "stream_ended";
  json doc = {{"kind", kind}, {"stream", event.stream}, {"origin_id", event.origin_id}};
  return doc.dump();
}

std::optional<Event> event_from_json(std::string_view text) {
  auto doc = parse_object(text);
  if (!doc) return std::nullopt;
  std::string kind;
  Event event;
  if (!read_string(*doc, "kind", &kind) || !read_string(*doc, "stream", &event.stream) ||
      !read_string(*doc, "origin_id", &event.origin_id)) {
    return std::nullopt;
  }
  if (kind == "stream_ended") {
    event.kind = Event::Kind::kStreamEnded;
  } else if (kind == "stream_moved") {
    event.kind = Event::Kind::kStreamMoved;
  } else {
    return std::nullopt;
  }
  return event;
}

}  // namespace strata::registry
