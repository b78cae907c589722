// The bench's results: per-viewer numbers reduced to distributions (percentiles), the
// publisher's counters and the server's CPU/RSS, printed as a table or written as JSON
// (field names documented in bench/scenarios/README.md; they are a stable contract).
#pragma once
#include <cstdint>
#include <optional>
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

// One host restart of a churn run: the host DELETEd its session and published again.
struct HostRestartReport {
  double at_s = 0;            // when the DELETE was sent, from the run's start
  int host = 0;
  double host_down_ms = -1;   // DELETE sent -> the new publisher sending (-1: it never did)
  int publish_failures = 0;   // WHIP attempts that failed before the host was back
  int viewers = 0;            // the host's viewers when it restarted
  int ended_with_bye = 0;     // sessions the server ended with RTCP BYE
  int ended_otherwise = 0;    // ended without a BYE (DTLS close, ICE or DTLS failure)
  int silent = 0;             // neither ended nor receiving 5 s later: left and re-joined
  int survived = 0;           // still receiving 5 s later (not ended)
  int in_flight = 0;          // their WHEP POST went out after the DELETE: sessions of the new live
  int rejoined = 0;           // re-joins started for this restart's viewers
  int rejoined_with_media = 0;
  int rejoins_retried = 0;    // re-joins whose first POST got 409/503 (the host not back yet)
  Distribution first_frame_ms;         // DELETE sent -> first keyframe on the re-joined session
  Distribution rejoin_first_frame_ms;  // the re-join's WHEP POST -> its first keyframe
};

struct ChurnReport {
  int initial_joins = 0;        // the ramp
  int joins = 0, leaves = 0;    // churn after the ramp (leaves: WHEP DELETE)
  int rejoins = 0;              // after a host restart (or any other end the server caused)
  int ended_outside_restarts = 0;  // sessions that ended without leave() and without a restart
  int population_end = 0;       // viewers at the end of the run
  int sessions = 0;             // every session started (joins of all kinds)
  int with_media = 0;
  int cut_by_restart = 0;       // no media: the live ended before the session got any
  int join_failures = 0;        // no media otherwise (signaling failure, or none within >= 3 s)
  std::vector<HostRestartReport> restarts;
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
  std::optional<ChurnReport> churn;  // churn scenarios only
  std::vector<std::string> errors;  // first few distinct failure reasons
};

// `viewers` are every session of the run; a session counts in `without_media` when it
// lived at least `min_life` (rejoin churn makes some sessions very short) and got nothing.
Summary summarize(const std::vector<const ViewerStats*>& viewers, Timestamp end, Duration min_life);
void print_summary(const Summary& s, std::FILE* out);
nlohmann::json summary_json(const Summary& s);

}  // namespace strata::loadtest
