// Rendering for the HTTP API: the directory as /api/v1/streams JSON and the node's
// counters as Prometheus text (exposition format 0.0.4). Pure functions of copies taken
// by SessionManager::directory_view() and worker_metrics(): no lock is held while rendering.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "signaling/session_manager.hpp"
#include "worker/metrics.hpp"

namespace strata::signaling {

// {"streams": [...]}: per stream its tracks, publisher, viewers, relays, uptime and the
// layer choice of each simulcast viewer.
nlohmann::json streams_json(const DirectoryView& view);

// {"lives": [...]}: per live its hosts (session, tracks and layers), viewers with their
// slots, and the active speaker. One live alone when `only` names it (nullopt when absent).
nlohmann::json lives_json(const LivesView& view);
std::optional<nlohmann::json> live_json(const LivesView& view, const std::string& live);

// Every worker counter as strata_<name>_total, then the control plane's gauges and totals.
std::string metrics_text(const DirectoryView& view, const worker::WorkerMetricsSnapshot& workers);

}  // namespace strata::signaling
