#include "signaling/api_render.hpp"

#include <sstream>

namespace strata::signaling {

namespace {

nlohmann::json tracks_json(const std::vector<sfu::IngestTrackInfo>& tracks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tracks) {
    out.push_back({{"mid", t.mid}, {"kind", sfu::to_string(t.kind)}, {"codec", t.codec.name},
                   {"clock_rate", t.codec.clock_rate}, {"rids", t.rids}});
  }
  return out;
}

// Per simulcast viewer: the layer it gets and why (explicit cap, downlink estimate).
nlohmann::json slot_layer_json(const SlotLayerView& l) {
  return {{"current", l.current},
          {"target", l.target},
          {"requested", l.requested},
          {"temporal", l.temporal},
          {"switches", l.switches},
          {"share_bps", l.share_bps},
          {"layer_bps", l.layer_bps}};
}

nlohmann::json viewer_layers_json(const std::vector<ViewerLayerView>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : layers) {
    nlohmann::json j = slot_layer_json(v.layer);
    j.update({{"session", v.session},
              {"slot", v.slot},
              {"mid", v.mid},
              {"estimate_bps", v.estimate_bps},
              {"probes", v.probes}});
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

nlohmann::json streams_json(const DirectoryView& view) {
  nlohmann::json streams = nlohmann::json::array();
  for (const StreamView& s : view.streams) {
    streams.push_back({{"name", s.name},
                       {"host", s.host},
                       {"viewer_layers", viewer_layers_json(s.viewer_layers)},
                       {"publisher", {{"session", s.publisher_session},
                                      {"worker", s.publisher_worker},
                                      {"connected", s.publisher_connected}}},
                       {"viewers", s.viewers},
                       {"relays", s.relays},
                       {"relayed", s.relayed},
                       {"tracks", tracks_json(s.tracks)},
                       {"uptime_seconds", std::chrono::duration<double>(s.uptime).count()}});
  }
  return {{"streams", streams}};
}

namespace {

nlohmann::json one_live_json(const LiveView& l) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const HostView& h : l.hosts) {
    hosts.push_back({{"name", h.name},
                     {"session", h.session},
                     {"connected", h.connected},
                     {"joined_seconds_ago", std::chrono::duration<double>(h.joined).count()},
                     {"tracks", tracks_json(h.tracks)}});
  }
  nlohmann::json viewers = nlohmann::json::array();
  for (const LiveViewerView& v : l.viewers) {
    nlohmann::json slots = nlohmann::json::array();
    for (const SlotView& s : v.slots) {
      slots.push_back({{"mid", s.video_mid.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.video_mid)},
                       {"audio_mid", s.audio_mid.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.audio_mid)},
                       {"host", s.host ? nlohmann::json(*s.host) : nlohmann::json(nullptr)},
                       {"layer", s.layer ? slot_layer_json(*s.layer) : nlohmann::json(nullptr)}});
    }
    viewers.push_back({{"session", v.session},
                       {"filter", v.filter},
                       {"slots", slots},
                       {"estimate_bps", v.estimate_bps ? nlohmann::json(*v.estimate_bps) : nlohmann::json(nullptr)}});
  }
  return {{"live", l.live},
          {"hosts", hosts},
          {"viewer_count", l.viewers.size()},
          {"viewers", viewers},
          {"speaker", l.speaker ? nlohmann::json(*l.speaker) : nlohmann::json(nullptr)}};
}

}  // namespace

nlohmann::json lives_json(const LivesView& view) {
  nlohmann::json lives = nlohmann::json::array();
  for (const LiveView& l : view.lives) lives.push_back(one_live_json(l));
  return {{"lives", lives}};
}

std::optional<nlohmann::json> live_json(const LivesView& view, const std::string& live) {
  for (const LiveView& l : view.lives) {
    if (l.live == live) return one_live_json(l);
  }
  return std::nullopt;
}

std::string metrics_text(const DirectoryView& view, const worker::WorkerMetricsSnapshot& workers) {
  std::ostringstream out;
  auto counter = [&](const char* name, const char* help, uint64_t v, const char* type = "counter") {
    out << "# HELP strata_" << name << ' ' << help << "\n# TYPE strata_" << name << ' ' << type << "\nstrata_" << name
        << ' ' << v << '\n';
  };
#define STRATA_EMIT(name, help) counter(#name "_total", help, workers.name);
  STRATA_WORKER_COUNTERS(STRATA_EMIT)
#undef STRATA_EMIT
  counter("sessions_publishers", "publisher (WHIP) sessions", view.publishers, "gauge");
  counter("sessions_viewers", "viewer (WHEP) sessions", view.viewers, "gauge");
  counter("relays_out", "relays this origin feeds to edges", view.relays_out, "gauge");
  counter("relays_in", "relays this edge pulls from origins (one per stream)", view.relays_in, "gauge");
  counter("streams_live", "streams with a host", view.streams.size(), "gauge");
  counter("whip_sessions_created_total", "WHIP sessions created", view.publishes_total);
  counter("whep_sessions_created_total", "WHEP sessions created", view.views_total);
  counter("signaling_rejected_total", "WHIP/WHEP requests rejected", view.rejected_total);
  counter("client_rate_limited_total", "new sessions refused 429: the client opened them too fast",
          view.client_rate_limited_total);
  counter("client_session_cap_total", "new sessions refused 429: the client held too many", view.client_session_cap_total);
  return out.str();
}

}  // namespace strata::signaling
