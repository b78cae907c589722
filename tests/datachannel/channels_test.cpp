// Data channels over two Associations on fake time: opening from either side with DCEP,
// strings, binary and empty messages, the channel types, closing by stream reset from either
// side, and what a misbehaving peer gets.
#include <gtest/gtest.h>

#include <string>

#include "../sctp/association_pair.hpp"
#include "datachannel/channels.hpp"

namespace strata::datachannel {
namespace {

using sctp::testing::Pair;
using std::chrono::milliseconds;

// a is the DTLS client (even streams), b the server (odd ones), as a browser and Strata.
struct Peers {
  Peers() : ca(pair.a, true, 256 * 1024), cb(pair.b, false, 256 * 1024) {
    pair.on_step = [this] {
      ca.poll(pair.clock.now());
      cb.poll(pair.clock.now());
    };
    pair.a.connect(pair.clock.now());
    pair.b.connect(pair.clock.now());  // both connect, as browsers do
    pair.run(milliseconds(200));
  }
  Pair pair;
  Channels ca;
  Channels cb;
};

OpenMessage channel(const std::string& label, bool ordered = true, Reliability r = Reliability::kReliable, uint32_t p = 0) {
  OpenMessage o;
  o.label = label;
  o.options.ordered = ordered;
  o.options.reliability = r;
  o.options.reliability_parameter = p;
  return o;
}

ByteSpan bytes_of(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(Channels, OpenFromEitherSideOnTheirParity) {
  Peers p;
  ASSERT_TRUE(p.pair.a.established());
  auto chat = p.ca.open(channel("chat"), p.pair.clock.now());
  auto gifts = p.cb.open(channel("gifts"), p.pair.clock.now());
  ASSERT_TRUE(chat && gifts);
  EXPECT_EQ(*chat % 2, 0);   // DTLS client: even
  EXPECT_EQ(*gifts % 2, 1);  // DTLS server: odd
  p.pair.run(milliseconds(200));
  ASSERT_NE(p.cb.channel(*chat), nullptr);
  EXPECT_EQ(p.cb.channel(*chat)->open.label, "chat");
  ASSERT_NE(p.ca.channel(*gifts), nullptr);
  EXPECT_TRUE(p.ca.channel(*chat)->acked);
  EXPECT_TRUE(p.cb.channel(*gifts)->acked);
  auto events = p.cb.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[1].by_peer || events[0].by_peer);
}

TEST(Channels, StringsBinaryAndEmptyMessages) {
  Peers p;
  auto id = p.ca.open(channel("chat"), p.pair.clock.now());
  ASSERT_TRUE(id);
  const Bytes blob = {0, 1, 2, 255};
  EXPECT_EQ(p.ca.send(*id, false, bytes_of("héllo"), p.pair.clock.now()), ChannelSendResult::kSent);
  EXPECT_EQ(p.ca.send(*id, true, blob, p.pair.clock.now()), ChannelSendResult::kSent);
  EXPECT_EQ(p.ca.send(*id, false, {}, p.pair.clock.now()), ChannelSendResult::kSent);
  EXPECT_EQ(p.ca.send(*id, true, {}, p.pair.clock.now()), ChannelSendResult::kSent);
  p.pair.run(milliseconds(200));
  auto& got = p.cb.messages();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(std::string(got[0].data.begin(), got[0].data.end()), "héllo");
  EXPECT_FALSE(got[0].binary);
  EXPECT_EQ(got[1].data, blob);
  EXPECT_TRUE(got[1].binary);
  EXPECT_TRUE(got[2].data.empty());
  EXPECT_FALSE(got[2].binary);
  EXPECT_TRUE(got[3].data.empty());
  EXPECT_TRUE(got[3].binary);
  // The answer goes back on the same stream.
  EXPECT_EQ(p.cb.send(*id, false, bytes_of("back"), p.pair.clock.now()), ChannelSendResult::kSent);
  p.pair.run(milliseconds(200));
  ASSERT_EQ(p.ca.messages().size(), 1u);
  EXPECT_EQ(p.ca.messages()[0].stream_id, *id);
}

TEST(Channels, SixtyFourKilobyteBinaryArrivesIntact) {
  Peers p;
  auto id = p.ca.open(channel("files"), p.pair.clock.now());
  ASSERT_TRUE(id);
  Bytes big(64 * 1024);
  for (size_t k = 0; k < big.size(); ++k) big[k] = uint8_t(k * 31 + 7);
  ASSERT_EQ(p.ca.send(*id, true, big, p.pair.clock.now()), ChannelSendResult::kSent);
  p.pair.run(milliseconds(500));
  ASSERT_EQ(p.cb.messages().size(), 1u);
  EXPECT_EQ(p.cb.messages()[0].data, big);
  EXPECT_EQ(p.ca.send(*id, true, Bytes(256 * 1024 + 1), p.pair.clock.now()), ChannelSendResult::kTooLarge);
}

TEST(Channels, UnreliableChannelDropsUnderLossButNeverStalls) {
  Peers p;
  auto id = p.ca.open(channel("state", false, Reliability::kRetransmits, 0), p.pair.clock.now());
  ASSERT_TRUE(id);
  p.pair.run(milliseconds(100));  // OPEN acknowledged: unordered from now on
  size_t n = 0;
  p.pair.a_to_b.lose = [&n](size_t, const Bytes& b) { return b.size() > 12 && b[12] == 0 && ++n % 4 == 0; };
  for (int i = 0; i < 40; ++i) ASSERT_EQ(p.ca.send(*id, false, bytes_of(std::to_string(i)), p.pair.clock.now()), ChannelSendResult::kSent);
  p.pair.run(std::chrono::seconds(3));
  EXPECT_LT(p.cb.messages().size(), 40u);
  EXPECT_GT(p.cb.messages().size(), 20u);
  EXPECT_TRUE(p.pair.a.sender()->everything_acked());
}

TEST(Channels, CloseFromEitherSide) {
  Peers p;
  auto one = p.ca.open(channel("one"), p.pair.clock.now());
  auto two = p.ca.open(channel("two"), p.pair.clock.now());
  ASSERT_TRUE(one && two);
  p.pair.run(milliseconds(200));
  p.ca.take_events();
  p.cb.take_events();
  p.ca.close(*one, p.pair.clock.now());  // the opener closes
  p.cb.close(*two, p.pair.clock.now());  // the other side closes
  p.pair.run(milliseconds(500));
  EXPECT_EQ(p.ca.channel(*one), nullptr);
  EXPECT_EQ(p.cb.channel(*one), nullptr);
  EXPECT_EQ(p.ca.channel(*two), nullptr);
  EXPECT_EQ(p.cb.channel(*two), nullptr);
  EXPECT_EQ(p.ca.take_events().size(), 2u);
  EXPECT_EQ(p.cb.take_events().size(), 2u);
  EXPECT_EQ(p.ca.send(*one, false, bytes_of("late"), p.pair.clock.now()), ChannelSendResult::kUnknownChannel);
  // New channels open after the closes.
  auto again = p.ca.open(channel("again"), p.pair.clock.now());
  ASSERT_TRUE(again);
  p.pair.run(milliseconds(200));
  ASSERT_EQ(p.ca.send(*again, false, bytes_of("hi"), p.pair.clock.now()), ChannelSendResult::kSent);
  p.pair.run(milliseconds(200));
  ASSERT_EQ(p.cb.messages().size(), 1u);
}

TEST(Channels, MisbehavingPeerIsCounted) {
  Peers p;
  const auto now = p.pair.clock.now();
  // A user message on a stream nobody opened; a deprecated PPID; a malformed DCEP; an OPEN on
  // the receiver's own parity (stream 1 is b's).
  p.pair.a.send(4, 51, bytes_of("nobody"), {}, now);
  p.pair.a.send(4, 52, bytes_of("old"), {}, now);
  p.pair.a.send(6, 50, bytes_of("\x07"), {}, now);
  const Bytes open_on_odd = serialize_open(channel("squat"));
  p.pair.a.send(1, 50, open_on_odd, {}, now);
  p.pair.run(milliseconds(200));
  EXPECT_EQ(p.cb.counters().unknown_stream, 1u);
  EXPECT_EQ(p.cb.counters().bad_ppid, 1u);
  EXPECT_EQ(p.cb.counters().bad_dcep, 1u);
  EXPECT_EQ(p.cb.counters().stream_collisions, 1u);
  EXPECT_EQ(p.cb.channel(1), nullptr);
}

TEST(Channels, AssociationEndClosesEveryChannel) {
  Peers p;
  ASSERT_TRUE(p.ca.open(channel("a"), p.pair.clock.now()));
  ASSERT_TRUE(p.ca.open(channel("b"), p.pair.clock.now()));
  p.pair.run(milliseconds(200));
  p.cb.take_events();
  p.pair.a.abort("bye", p.pair.clock.now());
  p.pair.run(milliseconds(200));
  EXPECT_TRUE(p.cb.all().empty());
  EXPECT_EQ(p.cb.take_events().size(), 2u);
}

}  // namespace
}  // namespace strata::datachannel
