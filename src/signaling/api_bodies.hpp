// The JSON bodies the HTTP API takes from strangers and from other nodes, parsed into plain
// values (docs/ARCHITECTURE.md, "Fuzzing": fuzz/api_json_target.cpp runs them on any bytes).
// Nothing here trusts a field's presence or type: a malformed body is an ApiError (or
// nullopt), never an exception.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.hpp"
#include "signaling/api_error.hpp"
#include "signaling/cluster_link.hpp"

namespace strata::signaling {

// POST /session/{id}/layer: {"layer": "q" | "h" | "f" | "auto", "mid": "<video mid>"}.
// A body that is not an object, or has no string "layer", asks for layer "" (which
// set_layer refuses); a "mid" that is not a string is 400 bad-mid.
struct LayerRequest {
  std::string layer;
  std::optional<std::string> mid;
};
std::variant<LayerRequest, ApiError> parse_layer_request(std::string_view body);

// POST /relay/{live}/{host} from an edge: {edge_id, ice_ufrag, ice_pwd, fingerprint}, the
// fingerprint as "<algorithm> <hex:hex:...>" (400 bad-relay-request otherwise).
struct RelayRequest {
  std::string edge_id, ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm;
  Bytes fingerprint;
};
std::variant<RelayRequest, ApiError> parse_relay_request(std::string_view body);

// The origin's 201 answer to a relay request, as the edge's side of the relay transport (ICE
// controlling, DTLS client); nullopt when any field is missing, of another type or unusable.
std::optional<RelayPlan> parse_relay_answer(std::string_view body);

}  // namespace strata::signaling
