#include "loadtest/report.hpp"

#include <algorithm>
#include <cstdio>

namespace strata::loadtest {

Distribution distribution(const std::vector<double>& values) {
  Distribution d;
  d.count = values.size();
  if (values.empty()) return d;
  std::vector<double> v = values;
  std::sort(v.begin(), v.end());
  d.p50 = percentile(v, 50);
  d.p95 = percentile(v, 95);
  d.p99 = percentile(v, 99);
  d.max = v.back();
  d.min = v.front();
  return d;
}

namespace {
double ms_between(Timestamp a, Timestamp b) { return double((b - a).count()) / 1000.0; }

void add_error(std::vector<std::string>& errors, const std::string& e) {
  if (e.empty() || errors.size() >= 5 || std::find(errors.begin(), errors.end(), e) != errors.end()) return;
  errors.push_back(e);
}
}  // namespace

Summary summarize(const std::vector<const ViewerStats*>& viewers, Timestamp end, Duration min_life) {
  Summary s;
  std::vector<double> connect, keyframe, packets, kbps, loss, jitter, delay;
  for (const ViewerStats* v : viewers) {
    if (v->connected != Timestamp{}) ++s.connected;
    Timestamp stop = v->closed_at != Timestamp{} ? v->closed_at : end;
    if (v->has_media()) {
      ++s.with_media;
      connect.push_back(ms_between(v->post_sent, v->first_media));
      if (v->first_keyframe != Timestamp{}) keyframe.push_back(ms_between(v->post_sent, v->first_keyframe));
      packets.push_back(double(v->packets));
      double secs = std::max(0.001, std::chrono::duration<double>(stop - v->first_media).count());
      kbps.push_back(double(v->bytes) * 8 / secs / 1000.0);
      loss.push_back(v->expected() ? 100.0 * double(v->lost()) / double(v->expected()) : 0.0);
      jitter.push_back(v->video_jitter.jitter_ms());
      for (float d : v->delay_ms) delay.push_back(d);
    } else if (stop - v->post_sent >= min_life) {
      ++s.without_media;
      add_error(s.errors, v->error.empty() ? "no media received" : v->error);
    }
    s.packets += v->packets;
    s.bytes += v->bytes;
    s.sampled += v->sampled;
    s.auth_failures += v->auth_failures;
    s.nacks_sent += v->nacks_sent;
    s.plis_sent += v->plis_sent;
    s.rtx_received += v->rtx_packets;
  }
  s.connect_ms = distribution(connect);
  s.first_keyframe_ms = distribution(keyframe);
  s.packets_per_viewer = distribution(packets);
  s.kbps_per_viewer = distribution(kbps);
  s.loss_percent = distribution(loss);
  s.jitter_ms = distribution(jitter);
  s.delay_ms = distribution(delay);
  return s;
}

namespace {
template <typename... A>
std::string format(const char* fmt, A... args) {
  char buf[320];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return std::string(buf);
}

void print_row(std::FILE* out, const char* name, const std::string& value) { std::fprintf(out, "  %-28s %s\n", name, value.c_str()); }

void print_restart(std::FILE* out, size_t n, const HostRestartReport& r) {
  std::string name = format("host restart %zu at %.1f s", n, r.at_s);
  std::string down = r.host_down_ms < 0 ? std::string("never came back") : format("down %.0f ms", r.host_down_ms);
  print_row(out, name.c_str(), format("host %d %s (%d failed WHIP); %d viewers: %d BYE, %d other end, %d silent, %d survived, %d in flight",
                                      r.host, down.c_str(), r.publish_failures, r.viewers, r.ended_with_bye, r.ended_otherwise,
                                      r.silent, r.survived, r.in_flight));
  const Distribution &f = r.first_frame_ms, &j = r.rejoin_first_frame_ms;
  print_row(out, "  re-joined / with media", format("%d / %d (%d retried a 409/503)", r.rejoined, r.rejoined_with_media,
                                                    r.rejoins_retried));
  print_row(out, "  frame after DELETE ms", format("p50/p95/max %.0f / %.0f / %.0f  (%zu)", f.p50, f.p95, f.max, f.count));
  print_row(out, "  frame after re-join ms", format("p50/p95/max %.0f / %.0f / %.0f", j.p50, j.p95, j.max));
}

void print_churn(std::FILE* out, const ChurnReport& c) {
  print_row(out, "churn joins / leaves", format("%d initial, %d joins, %d leaves, %d re-joins", c.initial_joins, c.joins, c.leaves, c.rejoins));
  print_row(out, "churn sessions / with media", format("%d / %d; no media: %d cut by a restart, %d join failures", c.sessions, c.with_media,
                                                       c.cut_by_restart, c.join_failures));
  print_row(out, "churn viewers at the end", format("%d (ended outside restarts: %d)", c.population_end, c.ended_outside_restarts));
  for (size_t i = 0; i < c.restarts.size(); ++i) print_restart(out, i + 1, c.restarts[i]);
}
}  // namespace

void print_summary(const Summary& s, std::FILE* out) {
  auto row = [out](const char* name, const std::string& value) { std::fprintf(out, "  %-28s %s\n", name, value.c_str()); };
  auto f = [](const char* fmt, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf);
  };
  std::fprintf(out, "strata bench: %s %s stream '%s', %.1f s\n", s.target.c_str(), s.url.c_str(), s.stream.c_str(), s.duration_s);
  row("viewers requested", f("%d", s.viewers_requested));
  row("connected / with media", f("%d / %d  (signaling failures %d, no media %d)", s.connected, s.with_media,
                                  s.signaling_failures, s.without_media));
  row("connect ms p50/p95/p99/max", f("%.0f / %.0f / %.0f / %.0f", s.connect_ms.p50, s.connect_ms.p95, s.connect_ms.p99, s.connect_ms.max));
  row("first keyframe ms p50/p99", f("%.0f / %.0f", s.first_keyframe_ms.p50, s.first_keyframe_ms.p99));
  row("packets per viewer med/min", f("%.0f / %.0f", s.packets_per_viewer.p50, s.packets_per_viewer.min));
  row("kbit/s per viewer med/min", f("%.0f / %.0f", s.kbps_per_viewer.p50, s.kbps_per_viewer.min));
  row("loss % med/p99/max", f("%.3f / %.3f / %.3f", s.loss_percent.p50, s.loss_percent.p99, s.loss_percent.max));
  row("jitter ms med/p99", f("%.2f / %.2f", s.jitter_ms.p50, s.jitter_ms.p99));
  row("forwarding delay ms p50/p99", s.delay_ms.count ? f("%.2f / %.2f  (%zu samples)", s.delay_ms.p50, s.delay_ms.p99, s.delay_ms.count)
                                                     : std::string("n/a (no publisher in this process)"));
  row("SRTP auth failures", f("%llu of %llu decrypted", (unsigned long long)s.auth_failures, (unsigned long long)s.sampled));
  row("NACKs / PLIs sent, RTX rx", f("%llu / %llu, %llu", (unsigned long long)s.nacks_sent, (unsigned long long)s.plis_sent,
                                     (unsigned long long)s.rtx_received));
  if (s.publisher_packets)
    row("publisher pkts / rtx / kf req", f("%llu / %llu / %llu", (unsigned long long)s.publisher_packets,
                                           (unsigned long long)s.publisher_retransmitted,
                                           (unsigned long long)s.publisher_keyframe_requests));
  if (s.server.sampled) {
    row("server CPU % avg/max", f("%.1f / %.1f", s.server.cpu_avg_percent, s.server.cpu_max_percent));
    row("server RSS MB before/peak", f("%.1f / %.1f", s.server.rss_before_bytes / 1048576.0, s.server.rss_peak_bytes / 1048576.0));
    row("server RSS per viewer KB", f("%.1f", s.rss_per_viewer_bytes / 1024.0));
  }
  if (s.window.measured) {
    const WindowUsage& w = s.window;
    row("window s from/length", f("%.1f / %.1f", w.start_s, w.duration_s));
    row("window rx pkt/s, Mbit/s", f("%.0f, %.1f", w.duration_s > 0 ? double(w.packets) / w.duration_s : 0.0,
                                     w.duration_s > 0 ? double(w.bytes) * 8 / w.duration_s / 1e6 : 0.0));
    row("window publisher pkt/s", f("%.0f", w.duration_s > 0 ? double(w.publisher_packets) / w.duration_s : 0.0));
    row("window delay ms p50/p99", w.delay_ms.count ? f("%.2f / %.2f  (%zu samples)", w.delay_ms.p50, w.delay_ms.p99, w.delay_ms.count)
                                                    : std::string("n/a"));
    row("window bench CPU %", f("%.1f", w.bench_cpu_percent));
    if (w.server_sampled)
      row("window server user/sys s", f("%.2f / %.2f, RSS at end %.1f MB", w.server_user_s, w.server_system_s,
                                        w.server_rss_end_bytes / 1048576.0));
  }
  if (s.churn) print_churn(out, *s.churn);
  for (auto& e : s.errors) row("error", e);
}

namespace {
nlohmann::json dist_json(const Distribution& d) {
  return {{"p50", d.p50}, {"p95", d.p95}, {"p99", d.p99}, {"max", d.max}, {"min", d.min}, {"count", d.count}};
}
nlohmann::json churn_json(const ChurnReport& c) {
  nlohmann::json restarts = nlohmann::json::array();
  for (auto& r : c.restarts)
    restarts.push_back({{"at_s", r.at_s}, {"host", r.host}, {"host_down_ms", r.host_down_ms},
                        {"publish_failures", r.publish_failures}, {"viewers", r.viewers},
                        {"ended_with_bye", r.ended_with_bye}, {"ended_otherwise", r.ended_otherwise},
                        {"silent", r.silent}, {"survived", r.survived}, {"in_flight", r.in_flight},
                        {"rejoined", r.rejoined}, {"rejoined_with_media", r.rejoined_with_media},
                        {"rejoins_retried", r.rejoins_retried},
                        {"first_frame_ms", dist_json(r.first_frame_ms)},
                        {"rejoin_first_frame_ms", dist_json(r.rejoin_first_frame_ms)}});
  return {{"initial_joins", c.initial_joins}, {"joins", c.joins}, {"leaves", c.leaves}, {"rejoins", c.rejoins},
          {"ended_outside_restarts", c.ended_outside_restarts}, {"population_end", c.population_end},
          {"sessions", c.sessions}, {"with_media", c.with_media}, {"cut_by_restart", c.cut_by_restart},
          {"join_failures", c.join_failures}, {"host_restarts", restarts}};
}
}  // namespace

nlohmann::json summary_json(const Summary& s) {
  nlohmann::json j;
  j["target"] = s.target;
  j["url"] = s.url;
  j["stream"] = s.stream;
  j["duration_s"] = s.duration_s;
  j["viewers"] = {{"requested", s.viewers_requested}, {"connected", s.connected}, {"with_media", s.with_media},
                  {"without_media", s.without_media}, {"signaling_failures", s.signaling_failures}};
  j["connect_ms"] = dist_json(s.connect_ms);
  j["first_keyframe_ms"] = dist_json(s.first_keyframe_ms);
  j["packets_per_viewer"] = dist_json(s.packets_per_viewer);
  j["kbps_per_viewer"] = dist_json(s.kbps_per_viewer);
  j["loss_percent"] = dist_json(s.loss_percent);
  j["jitter_ms"] = dist_json(s.jitter_ms);
  j["forwarding_delay_ms"] = dist_json(s.delay_ms);
  j["totals"] = {{"packets", s.packets}, {"bytes", s.bytes}, {"decrypted", s.sampled}, {"srtp_auth_failures", s.auth_failures},
                 {"nacks_sent", s.nacks_sent}, {"plis_sent", s.plis_sent}, {"rtx_received", s.rtx_received}};
  j["publisher"] = {{"packets", s.publisher_packets}, {"retransmitted", s.publisher_retransmitted},
                    {"keyframe_requests", s.publisher_keyframe_requests}};
  j["server"] = {{"sampled", s.server.sampled}, {"cpu_avg_percent", s.server.cpu_avg_percent},
                 {"cpu_max_percent", s.server.cpu_max_percent}, {"rss_before_bytes", s.server.rss_before_bytes},
                 {"rss_peak_bytes", s.server.rss_peak_bytes}, {"rss_per_viewer_bytes", s.rss_per_viewer_bytes}};
  if (s.window.measured) {
    const WindowUsage& w = s.window;
    j["window"] = {{"start_s", w.start_s}, {"duration_s", w.duration_s}, {"packets", w.packets}, {"bytes", w.bytes},
                   {"publisher_packets", w.publisher_packets},
                   {"forwarding_delay_ms", dist_json(w.delay_ms)},
                   {"bench_cpu_percent", w.bench_cpu_percent}, {"server_sampled", w.server_sampled},
                   {"server_user_s", w.server_user_s}, {"server_system_s", w.server_system_s},
                   {"server_rss_end_bytes", w.server_rss_end_bytes}};
  }
  if (s.churn) j["churn"] = churn_json(*s.churn);
  j["errors"] = s.errors;
  return j;
}

}  // namespace strata::loadtest
