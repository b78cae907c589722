#include "loadtest/twcc_recorder.hpp"

#include <gtest/gtest.h>

#include "rtp/rtcp.hpp"

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

TEST(TwccRecorderTest, ReportsReceivedAndMissingSinceLastFeedback) {
  TwccRecorder r;
  rtp::TransportFeedback fb;
  EXPECT_FALSE(r.build(1, 2, fb));
  Timestamp t{std::chrono::seconds(1000)};
  r.on_packet(65534, t);
  r.on_packet(0, t + 2ms);  // 65535 lost, wraps
  r.on_packet(1, t + 3ms);
  ASSERT_TRUE(r.build(1, 2, fb));
  EXPECT_EQ(fb.base_seq, 65534);
  ASSERT_EQ(fb.packets.size(), 4u);
  EXPECT_TRUE(fb.packets[0].received);
  EXPECT_FALSE(fb.packets[1].received);
  EXPECT_EQ(fb.packets[2].delta_us, 2000);
  EXPECT_EQ(fb.packets[3].delta_us, 1000);
  Bytes out;
  EXPECT_TRUE(rtp::append_transport_feedback(out, fb));
  rtp::RtcpIterator it(out);
  auto v = it.next();
  ASSERT_TRUE(v);
  auto parsed = rtp::parse_transport_feedback(*v);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->packets.size(), 4u);

  EXPECT_FALSE(r.build(1, 2, fb));  // nothing new
  r.on_packet(65535, t + 5ms);      // too late: already reported lost
  EXPECT_FALSE(r.build(1, 2, fb));
  r.on_packet(3, t + 6ms);
  ASSERT_TRUE(r.build(1, 2, fb));
  EXPECT_EQ(fb.base_seq, 2);
  EXPECT_EQ(fb.packets.size(), 2u);
  EXPECT_EQ(fb.fb_pkt_count, 1);
}

TEST(TwccRecorderTest, LongGapIsClampedToTheRing) {
  TwccRecorder r;
  rtp::TransportFeedback fb;
  Timestamp t{std::chrono::seconds(5)};
  r.on_packet(0, t);
  r.on_packet(5000, t + 1ms);
  ASSERT_TRUE(r.build(0, 0, fb));
  EXPECT_EQ(fb.packets.size(), size_t(TwccRecorder::kRing));
  EXPECT_TRUE(fb.packets.back().received);
}

}  // namespace
}  // namespace strata::loadtest
