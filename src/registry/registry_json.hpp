// JSON encodings of registry records (the Redis values and the pub/sub payload).
// Decoders never throw: malformed or foreign JSON gives nullopt.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "registry/registry.hpp"

namespace strata::registry {

std::string node_to_json(const NodeRecord& node);
std::optional<NodeRecord> node_from_json(std::string_view text);

// {origin_id, origin_region, origin_url}; the stream name lives in the key.
std::string claim_to_json(const StreamClaim& claim);
std::optional<StreamClaim> claim_from_json(std::string_view stream, std::string_view text);

// {kind: "stream_ended" | "stream_moved", stream, origin_id}
std::string event_to_json(const Event& event);
std::optional<Event> event_from_json(std::string_view text);

}  // namespace strata::registry
