// HTTP API JSON-body fuzz body: the bodies strangers POST (a viewer's layer choice) and the
// ones other nodes send (an edge's relay request to an origin, an origin's relay answer to an
// edge), through the same parsers the handlers call (signaling/api_bodies.hpp), and the
// registry's node and claim records (registry_json), which a compromised Redis could hold.
#include <string>
#include <string_view>

#include "registry/registry_json.hpp"
#include "signaling/api_bodies.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

volatile size_t g_sink = 0;

}  // namespace

int api_json_one_input(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto layer = signaling::parse_layer_request(body);
  if (auto* l = std::get_if<signaling::LayerRequest>(&layer)) g_sink = g_sink + l->layer.size() + l->mid.has_value();
  if (auto* e = std::get_if<signaling::ApiError>(&layer)) STRATA_FUZZ_CHECK("api_json", e->status == 400);
  auto relay = signaling::parse_relay_request(body);
  if (auto* r = std::get_if<signaling::RelayRequest>(&relay)) {
    STRATA_FUZZ_CHECK("api_json", !r->ice_ufrag.empty() && !r->ice_pwd.empty());
    g_sink = g_sink + r->fingerprint.size();
  } else {
    STRATA_FUZZ_CHECK("api_json", std::get<signaling::ApiError>(relay).status == 400);
  }
  if (auto plan = signaling::parse_relay_answer(body)) {
    STRATA_FUZZ_CHECK("api_json", !plan->config.remote_candidates.empty());
    g_sink = g_sink + plan->tracks.size();
  }
  g_sink = g_sink + registry::node_from_json(body).has_value() + registry::claim_from_json("live/host", body).has_value() +
           registry::event_from_json(body).has_value();
  return 0;
}

}  // namespace strata::fuzz
