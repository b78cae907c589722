#include "signaling/api_render.hpp"

#include <gtest/gtest.h>

namespace strata::signaling {
namespace {

DirectoryView one_stream() {
  DirectoryView view;
  StreamView& s = view.streams.emplace_back();
  s.name = "cam";
  sfu::IngestTrackInfo video;
  video.mid = "1";
  video.kind = sfu::MediaKind::kVideo;
  video.codec.name = "VP8";
  video.codec.clock_rate = 90000;
  video.rids = {"q", "h"};
  s.tracks.push_back(video);
  s.publisher_session = "p1";
  s.publisher_worker = 1;
  s.publisher_connected = true;
  s.viewers = 2;
  s.relays = 1;
  s.uptime = std::chrono::milliseconds(2500);
  s.viewer_layers.push_back({"v1", 1, "2", {1, 2, -1, 2, 3, 500000, 480000}, 750000, 4});
  view.publishers = 1;
  view.viewers = 2;
  view.relays_out = 1;
  view.publishes_total = 5;
  view.views_total = 7;
  view.rejected_total = 1;
  return view;
}

TEST(ApiRender, StreamsJsonCarriesTheDirectory) {
  const nlohmann::json j = streams_json(one_stream());
  ASSERT_EQ(j["streams"].size(), 1u);
  const auto& s = j["streams"][0];
  EXPECT_EQ(s["name"], "cam");
  EXPECT_EQ(s["publisher"]["session"], "p1");
  EXPECT_EQ(s["publisher"]["worker"], 1);
  EXPECT_EQ(s["publisher"]["connected"], true);
  EXPECT_EQ(s["viewers"], 2);
  EXPECT_EQ(s["relays"], 1);
  EXPECT_EQ(s["relayed"], false);
  EXPECT_DOUBLE_EQ(s["uptime_seconds"].get<double>(), 2.5);
  ASSERT_EQ(s["tracks"].size(), 1u);
  EXPECT_EQ(s["tracks"][0]["codec"], "VP8");
  EXPECT_EQ(s["tracks"][0]["kind"], "video");
  EXPECT_EQ(s["tracks"][0]["rids"], nlohmann::json({"q", "h"}));
  ASSERT_EQ(s["viewer_layers"].size(), 1u);
  EXPECT_EQ(s["viewer_layers"][0]["session"], "v1");
  EXPECT_EQ(s["viewer_layers"][0]["target"], 2);
  EXPECT_EQ(s["viewer_layers"][0]["estimate_bps"], 750000);
  EXPECT_EQ(s["viewer_layers"][0]["slot"], 1);
  EXPECT_EQ(s["viewer_layers"][0]["mid"], "2");
  EXPECT_EQ(s["viewer_layers"][0]["current"], 1);
  EXPECT_EQ(s["viewer_layers"][0]["switches"], 3);
  EXPECT_EQ(s["viewer_layers"][0]["share_bps"], 500000);
  EXPECT_EQ(s["viewer_layers"][0]["layer_bps"], 480000);
  EXPECT_EQ(streams_json(DirectoryView{})["streams"], nlohmann::json::array());
}

TEST(ApiRender, MetricsTextHasEveryCounterWithHelpAndType) {
  worker::WorkerMetricsSnapshot workers;
  workers.packets_in = 42;
  const std::string text = metrics_text(one_stream(), workers);
  for (const char* line : {"# TYPE strata_packets_in_total counter\nstrata_packets_in_total 42\n",
                           "# TYPE strata_sessions_viewers gauge\nstrata_sessions_viewers 2\n",
                           "strata_relays_out 1\n", "strata_relays_in 0\n", "strata_streams_live 1\n",
                           "strata_whip_sessions_created_total 5\n", "strata_whep_sessions_created_total 7\n",
                           "strata_signaling_rejected_total 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  // Every sample line has its HELP and TYPE (Prometheus exposition format 0.0.4).
  size_t samples = 0, helps = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    std::string_view line(text.data() + at, end - at);
    if (line.starts_with("# HELP ")) ++helps;
    else if (!line.starts_with("#")) ++samples;
    at = end + 1;
  }
  EXPECT_EQ(samples, helps);
}

}  // namespace
}  // namespace strata::signaling
