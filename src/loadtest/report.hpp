// The bench's results: per-viewer numbers reduced to distributions (percentiles), the
// publisher's counters and the server's CPU/RSS, printed as a table or written as JSON
// (field names documented in bench/scenarios/README.md; they are a stable contract).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loadtest/publisher.hpp"
#include "loadtest/viewer.hpp"

namespace strata::loadtest {

struct Distribution {
  double p50 = 0, p95 = 0, p99 = 0, max = 0, min = 0;
  size_t count = 0;
};
Distribution distribution(const std::vector<double>& values);

struct ServerUsage {
  bool sampled = false;
  double cpu_avg_percent = 0, cpu_max_percent = 0;  // while every viewer was joined
  uint64_t rss_before_bytes = 0, rss_peak_bytes = 0;
};

// The measured window: from 2 s after the last join to the end of the run (before teardown).
// Counts are deltas over the window, so joins and teardown do not dilute them.
struct WindowUsage {
  bool measured = false;
  double start_s = 0, duration_s = 0;  // start relative to the run's start
  uint64_t packets = 0, bytes = 0;     // received by all viewers within the window
  uint64_t publisher_packets = 0;      // sent by the bench's publishers within the window
  Distribution delay_ms;               // forwarding delay samples taken within the window
  double bench_cpu_percent = 0;        // this bench process's CPU over the window (100 = one core)
  bool server_sampled = false;
  double server_user_s = 0, server_system_s = 0;  // server utime / stime over the window
  uint64_t server_rss_end_bytes = 0;              // server RSS at the end of the window
};

struct Summary {
  std::string target, url, stream;
  int viewers_requested = 0;  // sessions the run asked for (joins, incl. rejoins)
  int signaling_failures = 0;
  int connected = 0, with_media = 0, without_media = 0;
  double duration_s = 0;
  Distribution connect_ms, first_keyframe_ms;
  Distribution packets_per_viewer, kbps_per_viewer;
  Distribution loss_percent, jitter_ms, delay_ms;
  uint64_t packets = 0, bytes = 0, sampled = 0, auth_failures = 0, nacks_sent = 0, plis_sent = 0, rtx_received = 0;
  uint64_t publisher_packets = 0, publisher_retransmitted = 0, publisher_keyframe_requests = 0;
  ServerUsage server;
  double rss_per_viewer_bytes = 0;
  WindowUsage window;
  std::vector<std::string> errors;  // first few distinct failure reasons
};

// `viewers` are every session of the run; a session counts in `without_media` when it
// lived at least `min_life` (rejoin churn makes some sessions very short) and got nothing.
Summary summarize(const std::vector<const ViewerStats*>& viewers, Timestamp end, Duration min_life);
void print_summary(const Summary& s, std::FILE* out);
nlohmann::json summary_json(const Summary& s);

}  // namespace strata::loadtest
