#include "loadtest/report.hpp"

#include <gtest/gtest.h>

#include "loadtest/server_sampler.hpp"

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

TEST(ReportTest, SummarizesViewers) {
  Timestamp t0{std::chrono::seconds(100)};
  ViewerStats a, b, c;
  a.post_sent = b.post_sent = c.post_sent = t0;
  a.connected = a.first_media = t0 + 100ms;
  a.first_keyframe = t0 + 150ms;
  a.packets = 1000;
  a.bytes = 1'000'000;
  for (uint16_t s = 0; s < 100; ++s)
    if (s != 50) a.video_seq.on_packet(s);
  a.delay_ms = {1.0f, 2.0f};
  b.connected = b.first_media = t0 + 300ms;
  b.packets = 10;
  b.bytes = 10'000;
  c.error = "ICE failed";
  auto s = summarize({&a, &b, &c}, t0 + 10s, 0s);
  EXPECT_EQ(s.connected, 2);
  EXPECT_EQ(s.with_media, 2);
  EXPECT_EQ(s.without_media, 1);
  EXPECT_EQ(s.connect_ms.p50, 100);
  EXPECT_EQ(s.connect_ms.max, 300);
  EXPECT_EQ(s.first_keyframe_ms.count, 1u);
  EXPECT_EQ(s.loss_percent.max, 1.0);
  EXPECT_EQ(s.packets_per_viewer.min, 10);
  EXPECT_EQ(s.delay_ms.count, 2u);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], "ICE failed");
  auto j = summary_json(s);
  EXPECT_EQ(j["viewers"]["with_media"], 2);
  EXPECT_EQ(j["connect_ms"]["p99"], 300.0);
  EXPECT_TRUE(j.contains("forwarding_delay_ms"));
  EXPECT_TRUE(j["server"].contains("rss_per_viewer_bytes"));
}

TEST(ReportTest, ShortLivedSessionsWithoutMediaAreNotFailures) {
  Timestamp t0{std::chrono::seconds(100)};
  ViewerStats v;
  v.post_sent = t0;
  v.closed_at = t0 + 1s;
  EXPECT_EQ(summarize({&v}, t0 + 10s, 3s).without_media, 0);
  EXPECT_EQ(summarize({&v}, t0 + 10s, 0s).without_media, 1);
}

TEST(ProcParseTest, StatAndStatus) {
  EXPECT_EQ(parse_proc_stat_cpu_ticks("123 (str ata) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0"), 300u);
  EXPECT_FALSE(parse_proc_stat_cpu_ticks("123 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat_cpu_ticks("no paren"));
  auto us = parse_proc_stat_user_system_ticks("123 (str) ata) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0");
  ASSERT_TRUE(us);
  EXPECT_EQ(us->first, 250u);
  EXPECT_EQ(us->second, 50u);
  EXPECT_FALSE(parse_proc_stat_user_system_ticks("123 (x) S 1 2"));
  EXPECT_EQ(parse_proc_status_rss("Name:\tstrata\nVmRSS:\t   2048 kB\n"), 2048u * 1024);
  EXPECT_FALSE(parse_proc_status_rss("Name: x\n"));
}

}  // namespace
}  // namespace strata::loadtest
