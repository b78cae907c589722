// Two Associations wired back to back on fake time, through a link that can lose, reorder
// and corrupt packets: the handshake (one side or both connecting), ordered and unordered
// messages, fragmentation, loss recovery, partial reliability, flow control, stream resets,
// shutdown and abort.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "sctp/association.hpp"
#include "association_pair.hpp"

namespace strata::sctp {
namespace {

using std::chrono::milliseconds;
using testing::config_for;
using testing::Pair;

ByteSpan span_of(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

bool has_event(const std::vector<AssociationEvent>& events, AssociationEvent::Kind kind) {
  for (const auto& e : events)
    if (e.kind == kind) return true;
  return false;
}

TEST(Association, HandshakeOneSideConnects) {
  Pair p;
  p.connect_a();
  EXPECT_TRUE(p.a.established());
  EXPECT_TRUE(p.b.established());
  EXPECT_TRUE(has_event(p.a.take_events(), AssociationEvent::Kind::kEstablished));
  EXPECT_TRUE(has_event(p.b.take_events(), AssociationEvent::Kind::kEstablished));
  EXPECT_EQ(p.a.outbound_streams(), 65535);
  EXPECT_EQ(p.a_to_b.sent, 2u);  // INIT, COOKIE ECHO
  EXPECT_EQ(p.b_to_a.sent, 2u);  // INIT ACK, COOKIE ACK
}

TEST(Association, HandshakeBothConnect) {
  // Browsers connect from both ends (INIT collision, RFC 9260 §5.2.1).
  Pair p;
  p.a.connect(p.clock.now());
  p.b.connect(p.clock.now());
  p.run(milliseconds(200));
  EXPECT_TRUE(p.a.established());
  EXPECT_TRUE(p.b.established());
  ASSERT_EQ(p.a.send(1, 51, span_of("ping"), {}, p.clock.now()), SendResult::kQueued);
  ASSERT_EQ(p.b.send(1, 51, span_of("pong"), {}, p.clock.now()), SendResult::kQueued);
  p.run(milliseconds(100));
  auto at_b = p.take(p.b);
  auto at_a = p.take(p.a);
  ASSERT_EQ(at_b.size(), 1u);
  ASSERT_EQ(at_a.size(), 1u);
  EXPECT_EQ(text_of(at_b[0].data), "ping");
  EXPECT_EQ(text_of(at_a[0].data), "pong");
}

TEST(Association, HandshakeSurvivesLostInitAndCookieEcho) {
  Pair p;
  p.a_to_b.lose = [](size_t i, const Bytes&) { return i == 0 || i == 2; };  // INIT, then the first COOKIE ECHO
  p.a.connect(p.clock.now());
  p.run(std::chrono::seconds(5));
  EXPECT_TRUE(p.a.established());
  EXPECT_TRUE(p.b.established());
}

TEST(Association, HandshakeGivesUp) {
  Pair p;
  p.a_to_b.lose = [](size_t, const Bytes&) { return true; };
  p.a.connect(p.clock.now());
  p.run(std::chrono::seconds(120));
  EXPECT_EQ(p.a.state(), AssociationState::kClosed);
  EXPECT_TRUE(has_event(p.a.take_events(), AssociationEvent::Kind::kClosed));
}

TEST(Association, SendBeforeEstablishedAndBadStream) {
  Pair p;
  EXPECT_EQ(p.a.send(0, 51, span_of("x"), {}, p.clock.now()), SendResult::kNotOpen);
  p.connect_a();
  EXPECT_EQ(p.a.send(0, 51, {}, {}, p.clock.now()), SendResult::kEmpty);
  AssociationConfig small = config_for(0x0B0B0B0B, 100);
  small.streams = 16;
  Pair q(config_for(0x0A0A0A0A, 1), small);
  q.connect_a();
  EXPECT_EQ(q.a.outbound_streams(), 16);
  EXPECT_EQ(q.a.send(16, 51, span_of("x"), {}, q.clock.now()), SendResult::kInvalidStream);
  EXPECT_EQ(q.a.send(15, 51, span_of("x"), {}, q.clock.now()), SendResult::kQueued);
}

TEST(Association, OrderedMessagesInOrderAcrossTheTsnWrap) {
  Pair p;  // a's initial TSN is 0xFFFFFFF0: its TSNs wrap during the test
  p.connect_a();
  for (int i = 0; i < 100; ++i) {
    const std::string m = "message " + std::to_string(i);
    ASSERT_EQ(p.a.send(1, 51, span_of(m), {}, p.clock.now()), SendResult::kQueued);
  }
  p.run(milliseconds(500));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(text_of(got[size_t(i)].data), "message " + std::to_string(i));
    EXPECT_EQ(got[size_t(i)].stream_id, 1);
    EXPECT_EQ(got[size_t(i)].ppid, 51u);
  }
  EXPECT_TRUE(p.a.sender()->everything_acked());
  EXPECT_EQ(p.a.next_timeout(), kNever);
  EXPECT_EQ(p.b.next_timeout(), kNever);
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t k = 0; k < n; ++k) b[k] = uint8_t(k * 7 + seed);
  return b;
}

TEST(Association, LargeMessagesAreFragmentedAndReassembled) {
  Pair p;
  p.connect_a();
  const Bytes big = pattern(64 * 1024, 3);
  const Bytes bigger = pattern(256 * 1024, 5);
  ASSERT_EQ(p.a.send(2, 53, big, {}, p.clock.now()), SendResult::kQueued);
  ASSERT_EQ(p.a.send(2, 53, bigger, {}, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(2));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, big);
  EXPECT_EQ(got[1].data, bigger);
}

TEST(Association, PacketsNeverExceedTheMtu) {
  Pair p;
  size_t largest = 0;
  p.a_to_b.lose = [&](size_t, const Bytes& b) {
    largest = std::max(largest, b.size());
    return false;
  };
  p.connect_a();
  ASSERT_EQ(p.a.send(0, 53, pattern(100000, 1), {}, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(2));
  EXPECT_EQ(p.take(p.b).size(), 1u);
  EXPECT_LE(largest, 1200u);
  EXPECT_GE(largest, 1100u);
}

TEST(Association, MessageAboveTheLimitIsDroppedAndTheStreamGoesOn) {
  AssociationConfig cb = config_for(0x0B0B0B0B, 100);
  cb.max_message_size = 10000;
  Pair p(config_for(0x0A0A0A0A, 1), cb);
  p.connect_a();
  ASSERT_EQ(p.a.send(1, 53, pattern(20000, 1), {}, p.clock.now()), SendResult::kQueued);
  ASSERT_EQ(p.a.send(1, 51, span_of("after"), {}, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(1));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(text_of(got[0].data), "after");
  EXPECT_EQ(p.b.receiver()->counters().oversized, 1u);
}

TEST(Association, ReliableDeliveryUnderLoss) {
  Pair p;
  p.connect_a();
  // From now on 20 % of a's packets and 20 % of b's (its SACKs) are lost, at random but the
  // same every run. (A modulo pattern resonates with the retransmission rhythm: every T3
  // round sent 4 packets and the 4th, the retransmission, was always the one lost.)
  std::mt19937 rng(7);
  auto lossy = [&rng](size_t, const Bytes&) { return std::uniform_int_distribution<int>(0, 99)(rng) < 20; };
  p.a_to_b.lose = lossy;
  p.b_to_a.lose = lossy;
  for (int i = 0; i < 200; ++i) {
    const Bytes m = pattern(size_t(100 + i * 37), uint8_t(i));
    ASSERT_EQ(p.a.send(uint16_t(i % 3), 53, m, {}, p.clock.now()), SendResult::kQueued);
  }
  p.run(std::chrono::seconds(60));
  auto got = p.take(p.b);
  const auto& sc = p.a.sender()->counters();
  ASSERT_EQ(got.size(), 200u) << "state " << int(p.a.state()) << " cwnd " << p.a.sender()->cwnd() << " flight "
                              << p.a.sender()->flight_size() << " t3 " << sc.t3_expiries << " rtx " << sc.retransmissions
                              << " fast " << sc.fast_retransmits << " sent " << sc.chunks_sent << " rto "
                              << p.a.sender()->rto().value().count() << " b cum " << p.b.receiver()->cumulative_tsn()
                              << " a cum " << p.a.sender()->cumulative_ack() << " last " << p.a.sender()->last_assigned_tsn()
                              << " oow " << p.b.receiver()->counters().out_of_window;
  // In order per stream, and complete.
  int next[3] = {0, 1, 2};
  for (const auto& m : got) {
    const int i = next[m.stream_id];
    EXPECT_EQ(m.data, pattern(size_t(100 + i * 37), uint8_t(i))) << "message " << i;
    next[m.stream_id] += 3;
  }
  EXPECT_GT(p.a_to_b.lost, 10u);
  EXPECT_GT(p.a.sender()->counters().retransmissions, 0u);
  EXPECT_TRUE(p.a.sender()->everything_acked());
}

TEST(Association, FastRetransmitRepairsOneLossWithoutATimeout) {
  Pair p;
  p.connect_a();
  p.a_to_b.lose = [](size_t i, const Bytes&) { return i == 3; };  // one DATA packet, after the handshake's two
  for (int i = 0; i < 12; ++i) ASSERT_EQ(p.a.send(1, 53, pattern(1000, uint8_t(i)), {}, p.clock.now()), SendResult::kQueued);
  p.run(milliseconds(900));  // well under the 1 s initial RTO
  EXPECT_EQ(p.take(p.b).size(), 12u);
  EXPECT_EQ(p.a.sender()->counters().fast_retransmits, 1u);
  EXPECT_EQ(p.a.sender()->counters().t3_expiries, 0u);
}

TEST(Association, UnreliableUnorderedMessagesAreAbandonedNotWaitedFor) {
  Pair p;
  p.connect_a();
  size_t data_index = 0;
  p.a_to_b.lose = [&](size_t, const Bytes& b) {
    // Lose every 3rd packet that carries DATA (chunk type 0 first after the header).
    if (b.size() > 12 && b[12] == 0) return ++data_index % 3 == 0;
    return false;
  };
  SendOptions unreliable;
  unreliable.unordered = true;
  unreliable.max_retransmits = 0;
  for (int i = 0; i < 30; ++i) ASSERT_EQ(p.a.send(4, 51, span_of(std::to_string(i)), unreliable, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(5));
  // A reliable message after them still arrives: the FORWARD TSN moved the peer past the holes.
  p.a_to_b.lose = [](size_t, const Bytes&) { return false; };
  ASSERT_EQ(p.a.send(5, 51, span_of("reliable"), {}, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(5));
  auto got = p.take(p.b);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(text_of(got.back().data), "reliable");
  EXPECT_LT(got.size(), 31u);
  EXPECT_GE(got.size(), 10u);
  EXPECT_GT(p.a.sender()->counters().abandoned_messages, 0u);
  EXPECT_TRUE(p.a.sender()->everything_acked());
}

TEST(Association, OrderedMessagesWithALifetimeSkipWhatExpired) {
  Pair p;
  p.connect_a();
  bool blackhole = true;
  p.a_to_b.lose = [&](size_t, const Bytes&) { return blackhole; };
  SendOptions timed;
  timed.lifetime = milliseconds(300);
  ASSERT_EQ(p.a.send(6, 51, span_of("stale 1"), timed, p.clock.now()), SendResult::kQueued);
  ASSERT_EQ(p.a.send(6, 51, span_of("stale 2"), timed, p.clock.now()), SendResult::kQueued);
  p.run(milliseconds(500));
  blackhole = false;
  ASSERT_EQ(p.a.send(6, 51, span_of("fresh"), timed, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(5));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(text_of(got[0].data), "fresh");  // ordered stream 6 was not held for SSNs 0 and 1
}

TEST(Association, FlowControlHoldsTheSenderToTheReceiveWindow) {
  AssociationConfig cb = config_for(0x0B0B0B0B, 100);
  cb.receive_window = 16 * 1024;
  Pair p(config_for(0x0A0A0A0A, 1), cb);
  p.connect_a();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(p.a.send(1, 53, pattern(4000, uint8_t(i)), {}, p.clock.now()), SendResult::kQueued);
  size_t got = 0;
  for (int round = 0; round < 100 && got < 50; ++round) {
    p.run(milliseconds(50));
    got += p.take(p.b).size();
  }
  EXPECT_EQ(got, 50u);
  EXPECT_EQ(p.b.receiver()->counters().out_of_window, 0u);
}

TEST(Association, SendBufferLimit) {
  AssociationConfig ca = config_for(0x0A0A0A0A, 1);
  ca.send_buffer = 10000;
  Pair p(ca, config_for(0x0B0B0B0B, 100));
  p.connect_a();
  EXPECT_EQ(p.a.send(1, 53, pattern(6000, 1), {}, p.clock.now()), SendResult::kQueued);
  EXPECT_EQ(p.a.send(1, 53, pattern(6000, 2), {}, p.clock.now()), SendResult::kBufferFull);
  p.run(milliseconds(200));
  EXPECT_EQ(p.a.send(1, 53, pattern(6000, 2), {}, p.clock.now()), SendResult::kQueued);
}

TEST(Association, StreamResetBothWays) {
  Pair p;
  p.connect_a();
  ASSERT_EQ(p.a.send(3, 51, span_of("before"), {}, p.clock.now()), SendResult::kQueued);
  p.a.reset_streams({3}, p.clock.now());
  p.run(milliseconds(200));
  auto a_events = p.a.take_events();
  auto b_events = p.b.take_events();
  ASSERT_TRUE(has_event(a_events, AssociationEvent::Kind::kOutgoingStreamsReset));
  ASSERT_TRUE(has_event(b_events, AssociationEvent::Kind::kIncomingStreamsReset));
  for (const auto& e : b_events) {
    if (e.kind == AssociationEvent::Kind::kIncomingStreamsReset) {
      EXPECT_EQ(e.streams, std::vector<uint16_t>{3});
    }
  }
  // The stream starts again at SSN 0 on both ends: a new message on it is delivered.
  ASSERT_EQ(p.a.send(3, 51, span_of("after"), {}, p.clock.now()), SendResult::kQueued);
  p.run(milliseconds(200));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(text_of(got[0].data), "before");
  EXPECT_EQ(text_of(got[1].data), "after");
}

TEST(Association, StreamResetWaitsForDataStillInFlight) {
  Pair p;
  p.connect_a();
  bool lose_first_data = true;
  p.a_to_b.lose = [&](size_t, const Bytes& b) {
    if (lose_first_data && b.size() > 12 && b[12] == 0) {
      lose_first_data = false;
      return true;
    }
    return false;
  };
  ASSERT_EQ(p.a.send(3, 51, span_of("lost once"), {}, p.clock.now()), SendResult::kQueued);
  p.a.reset_streams({3}, p.clock.now());
  p.run(milliseconds(100));
  EXPECT_FALSE(has_event(p.b.take_events(), AssociationEvent::Kind::kIncomingStreamsReset));  // deferred
  p.run(std::chrono::seconds(3));
  EXPECT_TRUE(has_event(p.b.take_events(), AssociationEvent::Kind::kIncomingStreamsReset));
  EXPECT_TRUE(has_event(p.a.take_events(), AssociationEvent::Kind::kOutgoingStreamsReset));
  auto got = p.take(p.b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(text_of(got[0].data), "lost once");
}

TEST(Association, ShutdownClosesBothEnds) {
  Pair p;
  p.connect_a();
  ASSERT_EQ(p.a.send(1, 51, span_of("last words"), {}, p.clock.now()), SendResult::kQueued);
  p.a.shutdown(p.clock.now());
  p.run(milliseconds(500));
  EXPECT_EQ(p.a.state(), AssociationState::kClosed);
  EXPECT_EQ(p.b.state(), AssociationState::kClosed);
  EXPECT_EQ(p.take(p.b).size(), 1u);
}

TEST(Association, AbortClosesThePeer) {
  Pair p;
  p.connect_a();
  p.a.abort("going away", p.clock.now());
  p.run(milliseconds(100));
  EXPECT_EQ(p.b.state(), AssociationState::kClosed);
  auto events = p.b.take_events();
  ASSERT_TRUE(has_event(events, AssociationEvent::Kind::kClosed));
  EXPECT_EQ(events.back().reason, "abort received");
}

TEST(Association, PeerUnreachableAborts) {
  Pair p;
  p.connect_a();
  p.a_to_b.lose = [](size_t, const Bytes&) { return true; };
  ASSERT_EQ(p.a.send(1, 51, span_of("into the void"), {}, p.clock.now()), SendResult::kQueued);
  p.run(std::chrono::seconds(200));
  EXPECT_EQ(p.a.state(), AssociationState::kClosed);
  auto events = p.a.take_events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().reason, "peer unreachable");
}

TEST(Association, ForeignTagsAndBadChecksumsAreDropped) {
  Pair p;
  p.connect_a();
  ASSERT_EQ(p.a.send(1, 51, span_of("x"), {}, p.clock.now()), SendResult::kQueued);
  ASSERT_EQ(p.a.packets().size(), 1u);
  Bytes good = p.a.packets()[0];
  p.a.packets().clear();
  Bytes foreign = good;
  foreign[4] ^= 0xFF;  // verification tag
  stamp_checksum(foreign);
  p.b.handle_packet(foreign, p.clock.now());
  EXPECT_EQ(p.b.counters().bad_tag, 1u);
  Bytes corrupt = good;
  corrupt[20] ^= 1;
  p.b.handle_packet(corrupt, p.clock.now());
  EXPECT_EQ(p.b.counters().bad_packets, 1u);
  EXPECT_TRUE(p.take(p.b).empty());
  p.b.handle_packet(good, p.clock.now());
  EXPECT_EQ(p.take(p.b).size(), 1u);
}

TEST(Association, HeartbeatIsAnswered) {
  Pair p;
  p.connect_a();
  Bytes hb;
  begin_packet(hb, {5000, 5000, 0x0B0B0B0B});
  const Bytes info = {1, 2, 3, 4, 5};
  append_heartbeat(hb, ChunkType::kHeartbeat, info);
  finish_packet(hb);
  p.b.handle_packet(hb, p.clock.now());
  ASSERT_EQ(p.b.packets().size(), 1u);
  auto c = ChunkIterator(p.b.packets()[0]).next();
  ASSERT_TRUE(c && c->is(ChunkType::kHeartbeatAck));
  auto echoed = parse_heartbeat_info(*c);
  ASSERT_TRUE(echoed);
  EXPECT_EQ(Bytes(echoed->begin(), echoed->end()), info);
}

TEST(Association, UnknownChunksFollowTheirTypeBits) {
  Pair p;
  p.connect_a();
  auto packet_with = [](uint8_t type) {
    Bytes b;
    begin_packet(b, {5000, 5000, 0x0B0B0B0B});
    append_empty_chunk(b, ChunkType(type));
    DataChunk d;
    d.beginning = d.ending = true;
    d.tsn = 0xFFFFFFF0u + 1;
    d.stream_id = 1;
    d.ppid = 51;
    const Bytes x = {'x'};
    d.user_data = x;
    append_data(b, d);
    finish_packet(b);
    return b;
  };
  p.b.handle_packet(packet_with(0x3E), p.clock.now());  // 00: stop, the DATA after it is not read
  EXPECT_TRUE(p.take(p.b).empty());
  p.b.handle_packet(packet_with(0xBE), p.clock.now());  // 10: skip, the DATA is read
  EXPECT_EQ(p.take(p.b).size(), 1u);
  EXPECT_EQ(p.b.counters().unknown_chunks, 2u);
}

}  // namespace
}  // namespace strata::sctp
