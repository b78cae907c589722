// WorkerGroup with real threads and sockets on 127.0.0.1. Every wait is bounded (2 s) so a
// lost wake-up or a missing delivery fails the test instead of hanging it.
#include "worker/worker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stun/builder.hpp"

namespace strata::worker {
namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 2s;

// What a fake session saw; shared with the test, outlives the session.
struct SessionLog {
  struct Media {
    uint32_t track;
    std::vector<uint8_t> bytes;
    std::thread::id thread;
  };
  mutable std::mutex mu;
  std::vector<Media> media;
  std::vector<std::vector<uint8_t>> datagrams;
  std::vector<SocketAddress> datagram_from;
  std::atomic<int> ticks{0};
  std::atomic<int> closed{0};
  std::atomic<int> destroyed{0};

  size_t media_count() const {
    std::lock_guard lock(mu);
    return media.size();
  }
  size_t datagram_count() const {
    std::lock_guard lock(mu);
    return datagrams.size();
  }
};

class FakeSession final : public Session {
 public:
  FakeSession(uint64_t id, std::shared_ptr<SessionLog> log) : id_(id), log_(std::move(log)) {}
  ~FakeSession() override { ++log_->destroyed; }
  uint64_t id() const override { return id_; }
  void on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) override {
    std::lock_guard lock(log_->mu);
    log_->datagrams.emplace_back(packet.data(), packet.data() + packet.size());
    log_->datagram_from.push_back(from);
  }
  void on_tick(Timestamp now) override { ++log_->ticks; }
  void on_media(const FanoutItem& item, Timestamp now) override {
    std::lock_guard lock(log_->mu);
    const PacketRef& packet = item.packet;
    log_->media.push_back({item.track, {packet.data(), packet.data() + packet.size()}, std::this_thread::get_id()});
  }
  void on_close(Timestamp now) override {
    ++log_->closed;
    // on_close comes before destruction (the session still exists to say goodbye).
    EXPECT_EQ(log_->destroyed.load(), 0);
  }

 private:
  uint64_t id_;
  std::shared_ptr<SessionLog> log_;
};

// A host's session: it publishes `source` (Session::hosted_source).
class FakeHostSession final : public Session {
 public:
  FakeHostSession(uint64_t id, SourceId source) : id_(id), source_(source) {}
  uint64_t id() const override { return id_; }
  SourceId hosted_source() const override { return source_; }
  void on_datagram(PacketRef&, const SocketAddress&, const SocketAddress&, Timestamp) override {}
  void on_tick(Timestamp) override {}

 private:
  uint64_t id_;
  SourceId source_;
};

// A session whose on_tick blocks while `hold` is set, to pause its worker after the
// inbox-draining stage of a loop iteration.
class SlowTickSession final : public Session {
 public:
  struct Control {
    std::atomic<bool> hold{false};
    std::atomic<bool> in_tick{false};
  };
  SlowTickSession(uint64_t id, std::shared_ptr<Control> c) : id_(id), c_(std::move(c)) {}
  uint64_t id() const override { return id_; }
  void on_datagram(PacketRef&, const SocketAddress&, const SocketAddress&, Timestamp) override {}
  void on_tick(Timestamp) override {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (c_->hold && std::chrono::steady_clock::now() < deadline) {
      c_->in_tick = true;
      std::this_thread::sleep_for(1ms);
    }
    c_->in_tick = false;
  }

 private:
  uint64_t id_;
  std::shared_ptr<Control> c_;
};

// Runs fn on the worker thread and waits (bounded) for it to finish.
bool run_on(Worker& w, std::function<void(Worker&)> fn) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  w.post([fn = std::move(fn), done](Worker& wk) {
    fn(wk);
    done->set_value();
  });
  return fut.wait_for(kWait) == std::future_status::ready;
}

template <class Pred>
bool wait_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::vector<uint8_t> media_bytes(uint8_t tag) {
  std::vector<uint8_t> b(100);
  b[0] = 0x80;
  b[1] = 96;
  for (size_t i = 2; i < b.size(); ++i) b[i] = uint8_t(tag + i);
  return b;
}

// fan_out of `bytes` on worker `w`, from a buffer of that worker's pool.
bool fan_out_on(Worker& w, uint64_t stream, uint32_t track, const std::vector<uint8_t>& bytes,
                PacketBuffer** buffer_out = nullptr) {
  return run_on(w, [&](Worker& wk) {
    PacketRef ref = wk.pool().acquire();
    std::copy(bytes.begin(), bytes.end(), ref.data());
    ref->size = bytes.size();
    if (buffer_out) *buffer_out = ref.get();
    wk.fan_out(FanoutItem{stream, track, {}, ref});
  });
}

class WorkerGroupTest : public testing::Test {
 protected:
  static constexpr uint64_t kStream = 7;
  static constexpr uint64_t kViewerA = 1;  // on worker 0, the producer's worker
  static constexpr uint64_t kViewerB = 2;  // on worker 1

  void SetUp() override {
    std::string error;
    ASSERT_TRUE(group_.open("127.0.0.1", 0, &error)) << error;
    group_.start();
    ASSERT_TRUE(run_on(group_.at(0), [&](Worker&) { thread0_ = std::this_thread::get_id(); }));
    ASSERT_TRUE(run_on(group_.at(1), [&](Worker&) { thread1_ = std::this_thread::get_id(); }));
    ASSERT_NE(thread0_, thread1_);
  }
  void TearDown() override { group_.stop(); }

  // Viewer B on worker 1 (reachable by ufrag "ufragB"), viewer A on worker 0, both
  // watching kStream, which worker 0 produces and also sends to worker 1.
  void add_viewers() {
    ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) {
      w.add_session(std::make_unique<FakeSession>(kViewerB, log_b_), "");
      Session* b = w.find_session(kViewerB);
      ASSERT_NE(b, nullptr);
      w.bind_ufrag("ufragB", b);
      w.subscribe(kStream, b);
    }));
    ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) {
      w.add_session(std::make_unique<FakeSession>(kViewerA, log_a_), "ufragA");
      w.subscribe(kStream, w.find_session(kViewerA));
      w.set_remote_subscriber(kStream, 1, true);
    }));
  }

  // A round trip through worker 1's loop: everything it had queued before has run.
  void sync_worker1() { ASSERT_TRUE(run_on(group_.at(1), [](Worker&) {})); }

  WorkerGroup group_{2};
  std::thread::id thread0_, thread1_;
  std::shared_ptr<SessionLog> log_a_ = std::make_shared<SessionLog>();
  std::shared_ptr<SessionLog> log_b_ = std::make_shared<SessionLog>();
};

TEST_F(WorkerGroupTest, WorkersHaveDistinctPorts) {
  EXPECT_NE(group_.at(0).port(), 0);
  EXPECT_NE(group_.at(1).port(), 0);
  EXPECT_NE(group_.at(0).port(), group_.at(1).port());
  EXPECT_EQ(group_.size(), 2);
}

TEST_F(WorkerGroupTest, FanOutReachesLocalViewerAndRemoteViewerThroughRing) {
  add_viewers();
  const auto bytes = media_bytes(1);
  PacketBuffer* buffer = nullptr;
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 3, bytes, &buffer));
  ASSERT_TRUE(wait_until([&] { return log_a_->media_count() == 1 && log_b_->media_count() == 1; }))
      << "A got " << log_a_->media_count() << ", B got " << log_b_->media_count();
  {
    std::lock_guard lock(log_a_->mu);
    EXPECT_EQ(log_a_->media[0].track, 3u);
    EXPECT_EQ(log_a_->media[0].bytes, bytes);
    EXPECT_EQ(log_a_->media[0].thread, thread0_);
  }
  {
    std::lock_guard lock(log_b_->mu);
    EXPECT_EQ(log_b_->media[0].track, 3u);
    EXPECT_EQ(log_b_->media[0].bytes, bytes);
    EXPECT_EQ(log_b_->media[0].thread, thread1_) << "remote viewer must run on its own worker";
  }
  // Once worker 1 drained the ring, the last reference is gone: the buffer is back home.
  ASSERT_TRUE(wait_until([&] { return buffer->refs.load() == 0; }));
}

TEST_F(WorkerGroupTest, ManyPacketsArriveInOrderOnBothWorkers) {
  add_viewers();
  constexpr int kPackets = 500;
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) {
    for (int i = 0; i < kPackets; ++i) {
      PacketRef ref = w.pool().acquire();
      store_be32(ref.data(), uint32_t(i));
      ref->size = 4;
      w.fan_out(FanoutItem{kStream, 0, {}, ref});
    }
  }));
  ASSERT_TRUE(wait_until([&] { return log_b_->media_count() == size_t(kPackets); })) << log_b_->media_count();
  EXPECT_EQ(log_a_->media_count(), size_t(kPackets));
  std::lock_guard lock(log_b_->mu);
  for (int i = 0; i < kPackets; ++i) EXPECT_EQ(load_be32(log_b_->media[size_t(i)].bytes.data()), uint32_t(i));
}

TEST_F(WorkerGroupTest, UnknownStreamGoesNowhere) {
  add_viewers();
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream + 1, 0, media_bytes(2)));
  sync_worker1();
  EXPECT_EQ(log_a_->media_count(), 0u);
  EXPECT_EQ(log_b_->media_count(), 0u);
}

TEST_F(WorkerGroupTest, RemoteSubscriberOffStopsCrossWorkerDelivery) {
  add_viewers();
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(1)));
  ASSERT_TRUE(wait_until([&] { return log_b_->media_count() == 1; }));
  ASSERT_TRUE(run_on(group_.at(0), [](Worker& w) { w.set_remote_subscriber(kStream, 1, false); }));
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(2)));
  ASSERT_TRUE(wait_until([&] { return log_a_->media_count() == 2; }));
  sync_worker1();
  std::this_thread::sleep_for(20ms);
  sync_worker1();
  EXPECT_EQ(log_b_->media_count(), 1u);
  // And back on.
  ASSERT_TRUE(run_on(group_.at(0), [](Worker& w) { w.set_remote_subscriber(kStream, 1, true); }));
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(3)));
  ASSERT_TRUE(wait_until([&] { return log_b_->media_count() == 2; }));
}

TEST_F(WorkerGroupTest, UnsubscribeStopsLocalDelivery) {
  add_viewers();
  ASSERT_TRUE(run_on(group_.at(0), [](Worker& w) { w.unsubscribe(kStream, w.find_session(kViewerA)); }));
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(1)));
  ASSERT_TRUE(wait_until([&] { return log_b_->media_count() == 1; }));  // remote still on
  EXPECT_EQ(log_a_->media_count(), 0u);
}

TEST_F(WorkerGroupTest, RemoveSessionClosesDestroysAndUnsubscribes) {
  add_viewers();
  bool found_after = true;
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) {
    w.remove_session(kViewerB);
    found_after = w.find_session(kViewerB) != nullptr;
  }));
  EXPECT_EQ(log_b_->closed.load(), 1);
  EXPECT_EQ(log_b_->destroyed.load(), 1);
  EXPECT_FALSE(found_after);
  // Packets still routed to worker 1 for the stream must not reach the removed session.
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(1)));
  ASSERT_TRUE(wait_until([&] { return log_a_->media_count() == 1; }));
  sync_worker1();
  EXPECT_EQ(log_b_->media_count(), 0u);
  // Removing an unknown id is a no-op.
  ASSERT_TRUE(run_on(group_.at(1), [](Worker& w) { w.remove_session(12345); }));
  EXPECT_EQ(log_b_->closed.load(), 1);
}

TEST_F(WorkerGroupTest, SessionsAreTicked) {
  add_viewers();
  EXPECT_TRUE(wait_until([&] { return log_a_->ticks.load() >= 3 && log_b_->ticks.load() >= 3; }));
}

TEST_F(WorkerGroupTest, StopClosesRemainingSessions) {
  add_viewers();
  group_.stop();
  EXPECT_EQ(log_a_->closed.load(), 1);
  EXPECT_EQ(log_b_->closed.load(), 1);
  EXPECT_EQ(log_a_->destroyed.load(), 1);
  EXPECT_EQ(log_b_->destroyed.load(), 1);
}

// A full ring drops (and counts) instead of blocking the producer's worker.
TEST_F(WorkerGroupTest, FullRingDropsAndCounts) {
  add_viewers();
  // Hold worker 1 busy so it cannot drain its inbox while worker 0 fans out.
  std::promise<void> release;
  auto released = release.get_future().share();
  auto blocked = std::make_shared<std::promise<void>>();
  auto is_blocked = blocked->get_future();
  group_.at(1).post([released, blocked](Worker&) {
    blocked->set_value();
    released.wait_for(5s);
  });
  ASSERT_EQ(is_blocked.wait_for(kWait), std::future_status::ready);
  constexpr int kPackets = 9000;  // ring capacity is 8192
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) {
    PacketRef ref = w.pool().acquire();
    ref->size = 10;
    for (int i = 0; i < kPackets; ++i) w.fan_out(FanoutItem{kStream, 0, {}, ref});
  }));
  release.set_value();
  ASSERT_TRUE(wait_until([&] { return log_b_->media_count() == 8192; })) << log_b_->media_count();
  sync_worker1();
  EXPECT_EQ(log_b_->media_count(), 8192u);
  EXPECT_EQ(log_a_->media_count(), size_t(kPackets));
  EXPECT_EQ(group_.metrics().drop_ring_full, uint64_t(kPackets - 8192));
}

// Regression: FanoutItems pushed by another worker after this worker's last drain hold
// PacketRefs into the other worker's pool; stop() must release them while every pool is
// alive (before the fix they were released in ~Worker after worker 0's pool was freed: a
// use-after-free). Worker 1 is paused in a tick (after its drain), worker 0 fans out,
// then the group stops: the buffer must be free after stop().
TEST_F(WorkerGroupTest, StopReleasesBuffersQueuedInRings) {
  add_viewers();
  auto control = std::make_shared<SlowTickSession::Control>();
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) { w.add_session(std::make_unique<SlowTickSession>(99, control), ""); }));
  control->hold = true;
  ASSERT_TRUE(wait_until([&] { return control->in_tick.load(); }));
  PacketBuffer* buffer = nullptr;
  ASSERT_TRUE(fan_out_on(group_.at(0), kStream, 0, media_bytes(1), &buffer));
  std::thread stopper([&] { group_.stop(); });
  std::this_thread::sleep_for(200ms);  // stop() has stopped worker 0 and told worker 1 to stop
  control->hold = false;
  stopper.join();
  EXPECT_EQ(buffer->refs.load(), 0u) << "a FanoutItem still pins worker 0's buffer after stop()";
}

// ---- datagram demux (RFC 7983 first byte; STUN by ufrag, the rest by 5-tuple) -----------

Bytes stun_request(const std::string& username) {
  return stun::MessageBuilder::binding_request(stun::random_transaction_id())
      .add_username(username)
      .finish(std::nullopt, true);
}

TEST_F(WorkerGroupTest, DatagramsAreDispatchedByUfragThenAddress) {
  add_viewers();
  UdpSocket client;
  std::string error;
  ASSERT_TRUE(client.open(*SocketAddress::from_ip_port("127.0.0.1", 0), &error)) << error;
  const SocketAddress client_addr = *SocketAddress::from_ip_port("127.0.0.1", client.local_port());
  const SocketAddress worker1 = *SocketAddress::from_ip_port("127.0.0.1", group_.at(1).port());
  auto sender = std::make_unique<SendBatch>(client.fd());
  auto send = [&](ByteSpan bytes) {
    sender->send(bytes.data(), bytes.size(), worker1);
    sender->flush();
  };
  auto metrics = [&] { return group_.metrics(); };

  // STUN for our ufrag → B; for an unknown ufrag → dropped and counted.
  Bytes good = stun_request("ufragB:peer");
  send(good);
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 1; }));
  {
    std::lock_guard lock(log_b_->mu);
    EXPECT_EQ(log_b_->datagrams[0], std::vector<uint8_t>(good.begin(), good.end()));
    EXPECT_EQ(log_b_->datagram_from[0], client_addr);
  }
  send(stun_request("nobody:peer"));
  ASSERT_TRUE(wait_until([&] { return metrics().drop_unknown_ufrag == 1; }));

  // RTP-range first byte from an address nobody bound → dropped; after bind → B.
  const auto rtp = media_bytes(9);
  send(ByteSpan(rtp.data(), rtp.size()));
  ASSERT_TRUE(wait_until([&] { return metrics().drop_unknown_source == 1; }));
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) { w.bind_address(client_addr, w.find_session(kViewerB)); }));
  send(ByteSpan(rtp.data(), rtp.size()));
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 2; }));
  // A DTLS-range first byte (20..63) is routed by address too.
  const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0};
  send(ByteSpan(dtls, sizeof dtls));
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 3; }));
  // Outside every RFC 7983 range → malformed.
  const uint8_t junk[] = {100, 1, 2, 3};
  send(ByteSpan(junk, sizeof junk));
  ASSERT_TRUE(wait_until([&] { return metrics().drop_malformed == 1; }));
  // STUN-range byte without a parsable USERNAME → malformed.
  const uint8_t bad_stun[] = {0, 1, 0, 0};
  send(ByteSpan(bad_stun, sizeof bad_stun));
  ASSERT_TRUE(wait_until([&] { return metrics().drop_malformed == 2; }));
  EXPECT_EQ(log_b_->datagram_count(), 3u);
  EXPECT_EQ(log_a_->datagram_count(), 0u);
  EXPECT_GE(metrics().packets_in, 7u);
}

// A client path that is not verified yet (its answer to our verification request, or its
// early DTLS, has no USERNAME to route by) is routed by address only while no other session
// has that address: a spoofed check must not take a verified session's traffic. Only the
// session that bound it can give it back.
TEST_F(WorkerGroupTest, AnUnverifiedPathNeverTakesAnotherSessionsAddress) {
  add_viewers();
  constexpr uint64_t kViewerC = 3;
  auto log_c = std::make_shared<SessionLog>();
  UdpSocket client;
  std::string error;
  ASSERT_TRUE(client.open(*SocketAddress::from_ip_port("127.0.0.1", 0), &error)) << error;
  const SocketAddress client_addr = *SocketAddress::from_ip_port("127.0.0.1", client.local_port());
  const SocketAddress worker1 = *SocketAddress::from_ip_port("127.0.0.1", group_.at(1).port());
  auto sender = std::make_unique<SendBatch>(client.fd());
  const auto rtp = media_bytes(3);
  auto send = [&] {
    sender->send(rtp.data(), rtp.size(), worker1);
    sender->flush();
  };
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) {
    w.add_session(std::make_unique<FakeSession>(kViewerC, log_c), "");
    w.bind_address(client_addr, w.find_session(kViewerB));               // B's verified path
    w.bind_address_if_free(client_addr, w.find_session(kViewerC));       // C's spoofed check
    w.unbind_address(client_addr, w.find_session(kViewerC));             // not C's to give back
  }));
  send();
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 1; }));
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) {
    w.unbind_address(client_addr, w.find_session(kViewerB));
    w.bind_address_if_free(client_addr, w.find_session(kViewerC));  // free now
  }));
  send();
  ASSERT_TRUE(wait_until([&] { return log_c->datagram_count() == 1; }));
  EXPECT_EQ(log_b_->datagram_count(), 1u);
}

// A client's answer to our verification request is routed by its source address even when
// it carries USERNAME (libnice echoes the request's, "<its ufrag>:<ours>", so the part
// before the colon is no ufrag of ours).
TEST_F(WorkerGroupTest, StunResponsesAreRoutedByAddressWhateverTheirUsername) {
  add_viewers();
  UdpSocket client;
  std::string error;
  ASSERT_TRUE(client.open(*SocketAddress::from_ip_port("127.0.0.1", 0), &error)) << error;
  const SocketAddress client_addr = *SocketAddress::from_ip_port("127.0.0.1", client.local_port());
  const SocketAddress worker1 = *SocketAddress::from_ip_port("127.0.0.1", group_.at(1).port());
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) { w.bind_address_if_free(client_addr, w.find_session(kViewerB)); }));
  const Bytes answer = stun::MessageBuilder::binding_success(stun::random_transaction_id())
                           .add_username("peer:ufragB")
                           .finish(std::string_view("client-password"));
  auto sender = std::make_unique<SendBatch>(client.fd());
  sender->send(answer.data(), answer.size(), worker1);
  sender->flush();
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 1; }));
  EXPECT_EQ(group_.metrics().drop_unknown_ufrag, 0u);
}

// RTCP (or anything) larger than a receive buffer arrives cut (MSG_TRUNC): it is dropped
// and counted as malformed, never handed to the session as a truncated compound.
TEST_F(WorkerGroupTest, OversizedDatagramIsDroppedAndCounted) {
  add_viewers();
  UdpSocket client;
  std::string error;
  ASSERT_TRUE(client.open(*SocketAddress::from_ip_port("127.0.0.1", 0), &error)) << error;
  const SocketAddress client_addr = *SocketAddress::from_ip_port("127.0.0.1", client.local_port());
  const SocketAddress worker1 = *SocketAddress::from_ip_port("127.0.0.1", group_.at(1).port());
  ASSERT_TRUE(run_on(group_.at(1), [&](Worker& w) { w.bind_address(client_addr, w.find_session(kViewerB)); }));
  // An RTCP receiver report header (RFC 3550 §6.4.2) claiming the whole datagram.
  auto rtcp = [](size_t size) {
    std::vector<uint8_t> b(size, 0);
    b[0] = 0x80;
    b[1] = 201;
    store_be16(&b[2], uint16_t(size / 4 - 1));
    return b;
  };
  auto sender = std::make_unique<SendBatch>(client.fd());
  const auto big = rtcp(PacketBuffer::kCapacity);  // larger than a receive buffer
  sender->send(big.data(), big.size(), worker1);
  sender->flush();
  ASSERT_TRUE(wait_until([&] { return group_.metrics().drop_malformed == 1; }));
  const auto small = rtcp(1200);
  sender->send(small.data(), small.size(), worker1);
  sender->flush();
  ASSERT_TRUE(wait_until([&] { return log_b_->datagram_count() == 1; }));
  std::lock_guard lock(log_b_->mu);
  EXPECT_EQ(log_b_->datagrams[0], small);
  EXPECT_EQ(group_.metrics().drop_malformed, 1u);
}

}  // namespace
}  // namespace strata::worker

namespace strata::worker {
namespace {

// The host's worker keeps its source's keyframe cache from the start (the first viewer of
// a host that just went live starts from it); with the host gone and no subscriber left,
// the cache lets its buffers go.
TEST_F(WorkerGroupTest, TheHostsWorkerCachesItsKeyframeBeforeAnyViewer) {
  constexpr uint64_t kHost = 9;
  PacketBuffer* buffer = nullptr;
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) {
    w.add_session(std::make_unique<FakeHostSession>(kHost, kStream), "");
    PacketRef ref = w.pool().acquire();
    const auto bytes = media_bytes(1);
    std::copy(bytes.begin(), bytes.end(), ref.data());
    ref->size = bytes.size();
    buffer = ref.get();
    w.fan_out(FanoutItem{kStream, 1, sfu::PacketFacts{.keyframe = true, .frame_start = true}, ref});
  }));
  size_t cached = 0;
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) {
    const sfu::KeyframeCache* cache = w.keyframe_cache(kStream);
    cached = cache ? cache->group(1, 0, w.now()).packets.size() : 0;
  }));
  EXPECT_EQ(cached, 1u) << "no viewer yet, but the host's worker keeps its keyframe";
  EXPECT_EQ(buffer->refs.load(), 1u);
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) { w.remove_session(kHost); }));
  ASSERT_TRUE(run_on(group_.at(0), [&](Worker& w) { EXPECT_EQ(w.keyframe_cache(kStream), nullptr); }));
  EXPECT_EQ(buffer->refs.load(), 0u) << "the cache gave its buffer back";
}

}  // namespace
}  // namespace strata::worker
