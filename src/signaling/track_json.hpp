// Track descriptions as JSON, for the server-to-server relay handshake: the origin tells
// the edge what the host publishes (codecs, payload types, simulcast rids, SSRCs,
// header extension ids) so the edge can run the same producers on the relayed packets.
#pragma once
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "sfu/track.hpp"

namespace strata::signaling {

nlohmann::json tracks_to_json(const std::vector<sfu::IngestTrackInfo>& tracks);
// nullopt when the JSON does not describe tracks (a bad or newer peer).
std::optional<std::vector<sfu::IngestTrackInfo>> tracks_from_json(const nlohmann::json& j);

}  // namespace strata::signaling
