#include "registry/cached_registry.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "registry/memory_registry.hpp"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;

constexpr Duration kTtl = 60s;

// MemoryRegistry with read counters and an outage switch (reads fail, as Redis's do).
class CountingRegistry final : public Registry {
 public:
  explicit CountingRegistry(const Clock& clock) : mem_(clock) {}
  std::atomic<int> node_reads{0}, relay_reads{0}, stream_reads{0}, live_reads{0}, health_reads{0};
  std::atomic<bool> down{false};

  bool put_node(const NodeRecord& n, Duration ttl) override { return mem_.put_node(n, ttl); }
  bool remove_node(const NodeRecord& n) override { return mem_.remove_node(n); }
  Read<std::vector<NodeRecord>> read_nodes(std::string_view region) override {
    ++node_reads;
    auto out = down ? Read<std::vector<NodeRecord>>{} : mem_.read_nodes(region);
    // A slow read: it has its answer, and hands it over only when released.
    if (hold_next_node_read.exchange(false)) {
      holding = true;
      while (!release_held_read) std::this_thread::sleep_for(1ms);
    }
    return out;
  }
  std::atomic<bool> hold_next_node_read{false}, holding{false}, release_held_read{false};
  ClaimResult claim_stream(const StreamClaim& c, Duration ttl) override { return mem_.claim_stream(c, ttl); }
  bool refresh_claim(const StreamClaim& c, Duration ttl) override { return mem_.refresh_claim(c, ttl); }
  bool release_claim(const StreamClaim& c) override { return mem_.release_claim(c); }
  Read<std::optional<StreamClaim>> read_stream(std::string_view name) override {
    ++stream_reads;
    return down ? Read<std::optional<StreamClaim>>{} : mem_.read_stream(name);
  }
  Read<std::vector<StreamClaim>> read_streams() override { return mem_.read_streams(); }
  Read<std::vector<StreamClaim>> read_live(std::string_view live) override {
    ++live_reads;
    return down ? Read<std::vector<StreamClaim>>{} : mem_.read_live(live);
  }
  bool put_relay(std::string_view r, std::string_view s, std::string_view e, Duration ttl) override {
    return mem_.put_relay(r, s, e, ttl);
  }
  bool remove_relay(std::string_view r, std::string_view s, std::string_view e) override {
    return mem_.remove_relay(r, s, e);
  }
  Read<std::vector<std::string>> read_relays(std::string_view r, std::string_view s) override {
    ++relay_reads;
    return down ? Read<std::vector<std::string>>{} : mem_.read_relays(r, s);
  }
  bool publish(const Event& e) override { return mem_.publish(e); }
  void subscribe(std::function<void(const Event&)> h) override { mem_.subscribe(std::move(h)); }
  bool healthy() override {
    ++health_reads;
    return !down;
  }

  MemoryRegistry mem_;
};

NodeRecord edge(std::string id, std::string region, uint32_t sessions = 0) {
  NodeRecord n;
  n.id = std::move(id);
  n.role = "edge";
  n.region = std::move(region);
  n.http_url = "http://" + n.id;
  n.sessions = sessions;
  return n;
}

class CachedRegistryTest : public ::testing::Test {
 protected:
  void make(bool background, const Clock* clock = nullptr, Duration refresh_after = 500ms) {
    if (!clock) clock = &clock_;
    auto backend = std::make_unique<CountingRegistry>(*clock);
    backend_ = backend.get();
    CachedRegistry::Options o;
    o.refresh_after = refresh_after;
    o.max_stale = 3s;
    o.background_refresh = background;
    cache_ = std::make_unique<CachedRegistry>(std::move(backend), *clock, o);
  }
  // Real-time wait for the background refresher (it runs on its own thread).
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  FakeClock clock_;
  CountingRegistry* backend_ = nullptr;
  std::unique_ptr<CachedRegistry> cache_;
};

TEST_F(CachedRegistryTest, FreshReadsDoNotTouchTheBackend) {
  make(false);
  backend_->put_node(edge("e1", "b"), kTtl);
  backend_->put_relay("b", "cam", "e1", kTtl);
  backend_->claim_stream({"cam", "o1", "a", "http://o1"}, kTtl);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(cache_->nodes("b").size(), 1u);
    EXPECT_EQ(cache_->relays("b", "cam"), std::vector<std::string>{"e1"});
    EXPECT_EQ(cache_->stream("cam")->origin_region, "a");
    EXPECT_TRUE(cache_->healthy());
    clock_.advance(100ms);
  }
  EXPECT_EQ(backend_->node_reads, 1);
  EXPECT_EQ(backend_->relay_reads, 1);
  EXPECT_EQ(backend_->stream_reads, 1);
  EXPECT_EQ(backend_->health_reads, 1);
  EXPECT_EQ(cache_->backend_reads(), 4u);
}

// A background refresh that read the backend before a node died, and finished after a
// newer read stored the node's absence, must not bring the dead node back.
TEST_F(CachedRegistryTest, SlowRefreshDoesNotOverwriteANewerRead) {
  make(true);
  backend_->put_node(edge("e1", "b"), kTtl);
  ASSERT_EQ(cache_->nodes("b").size(), 1u);
  clock_.advance(600ms);                     // stale: this read queues a background refresh
  backend_->hold_next_node_read = true;
  EXPECT_EQ(cache_->nodes("b").size(), 1u);
  ASSERT_TRUE(eventually([&] { return backend_->holding.load(); })) << "the refresh reads (and stalls)";
  backend_->remove_node(edge("e1", "b"));    // the edge dies (outside this cache)
  clock_.advance(3s);                        // past max_stale: the next read is a miss
  EXPECT_TRUE(cache_->nodes("b").empty());
  const int reads = backend_->node_reads;
  backend_->release_held_read = true;        // the old answer (with e1) lands now
  ASSERT_TRUE(eventually([&] { return cache_->backend_reads() >= 3u; }));
  EXPECT_TRUE(cache_->nodes("b").empty()) << "the dead edge came back";
  EXPECT_EQ(backend_->node_reads, reads) << "served from the newer entry";
}

TEST_F(CachedRegistryTest, KeysAreSeparatePerRegionAndStream) {
  make(false);
  backend_->put_node(edge("e1", "b"), kTtl);
  backend_->put_node(edge("e2", "c"), kTtl);
  backend_->put_relay("b", "cam", "e1", kTtl);
  EXPECT_EQ(cache_->nodes("b")[0].id, "e1");
  EXPECT_EQ(cache_->nodes("c")[0].id, "e2");
  EXPECT_EQ(cache_->relays("b", "cam").size(), 1u);
  EXPECT_TRUE(cache_->relays("b", "other").empty());
  EXPECT_TRUE(cache_->relays("c", "cam").empty());
}

TEST_F(CachedRegistryTest, StaleEntryIsReadAgainWithoutARefresher) {
  make(false);
  backend_->put_node(edge("e1", "b", 1), kTtl);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 1u);
  backend_->put_node(edge("e1", "b", 7), kTtl);
  clock_.advance(499ms);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 1u);  // still fresh
  clock_.advance(1ms);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 7u);
  EXPECT_EQ(backend_->node_reads, 2);
}

TEST_F(CachedRegistryTest, StaleEntryIsServedAtOnceAndRefreshedInTheBackground) {
  make(true);
  backend_->put_node(edge("e1", "b", 1), kTtl);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 1u);
  backend_->put_node(edge("e1", "b", 7), kTtl);
  clock_.advance(600ms);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 1u);  // old answer, no wait
  EXPECT_TRUE(eventually([&] { return cache_->nodes("b")[0].sessions == 7u; }));
  EXPECT_EQ(backend_->node_reads, 2);  // one refresh however many reads saw it stale
}

TEST_F(CachedRegistryTest, TooStaleEntryIsNotServed) {
  make(true);
  backend_->put_node(edge("e1", "b", 1), kTtl);
  cache_->nodes("b");
  backend_->put_node(edge("e1", "b", 9), kTtl);
  clock_.advance(3001ms);
  EXPECT_EQ(cache_->nodes("b")[0].sessions, 9u);  // read through, synchronously
}

TEST_F(CachedRegistryTest, StreamNotLiveIsNeverCached) {
  make(false);
  EXPECT_FALSE(cache_->stream("cam"));
  EXPECT_FALSE(cache_->stream("cam"));
  EXPECT_EQ(backend_->stream_reads, 2);
  backend_->claim_stream({"cam", "o1", "a", "http://o1"}, kTtl);
  ASSERT_TRUE(cache_->stream("cam"));  // visible at once
  EXPECT_EQ(cache_->stream("cam")->origin_id, "o1");
  EXPECT_EQ(backend_->stream_reads, 3);
}

TEST_F(CachedRegistryTest, EndedStreamIsDroppedByTheRefresh) {
  make(true);
  StreamClaim claim{"cam", "o1", "a", "http://o1"};
  backend_->claim_stream(claim, kTtl);
  ASSERT_TRUE(cache_->stream("cam"));
  backend_->release_claim(claim);
  clock_.advance(600ms);
  EXPECT_TRUE(cache_->stream("cam"));  // stale answer while the refresh runs
  EXPECT_TRUE(eventually([&] { return !cache_->stream("cam"); }));
}

TEST_F(CachedRegistryTest, WritesThroughTheCacheInvalidate) {
  make(false);
  EXPECT_TRUE(cache_->relays("b", "cam").empty());
  EXPECT_TRUE(cache_->put_relay("b", "cam", "e1", kTtl));
  EXPECT_EQ(cache_->relays("b", "cam"), std::vector<std::string>{"e1"});
  EXPECT_TRUE(cache_->remove_relay("b", "cam", "e1"));
  EXPECT_TRUE(cache_->relays("b", "cam").empty());
  EXPECT_TRUE(cache_->nodes("b").empty());
  EXPECT_TRUE(cache_->put_node(edge("e1", "b"), kTtl));
  EXPECT_EQ(cache_->nodes("b").size(), 1u);
  EXPECT_TRUE(cache_->remove_node(edge("e1", "b")));
  EXPECT_TRUE(cache_->nodes("b").empty());
  StreamClaim claim{"cam", "o1", "a", "http://o1"};
  EXPECT_EQ(cache_->claim_stream(claim, kTtl), ClaimResult::kClaimed);
  EXPECT_TRUE(cache_->stream("cam"));
  EXPECT_TRUE(cache_->release_claim(claim));
  EXPECT_FALSE(cache_->stream("cam"));
}

// A live's hosts are cached like a stream: only while it has one (a first host shows up at
// once), and a claim or release of a host stream through the cache drops the live's entry.
TEST_F(CachedRegistryTest, LiveIsCachedOnlyWithHostsAndClaimsInvalidateIt) {
  make(false);
  auto hosts = [&](std::string_view live) {
    std::vector<std::string> out;
    for (const auto& c : cache_->read_live(live).value) out.push_back(c.stream);
    return out;
  };
  EXPECT_TRUE(hosts("cam").empty());
  EXPECT_TRUE(hosts("cam").empty());
  EXPECT_EQ(backend_->live_reads, 2) << "an empty live is never cached";
  StreamClaim ann{"cam/ann", "o1", "a", "http://o1"};
  backend_->claim_stream(ann, kTtl);  // outside the cache
  EXPECT_EQ(hosts("cam"), std::vector<std::string>{"cam/ann"}) << "the first host shows up at once";
  EXPECT_EQ(backend_->live_reads, 3);

  StreamClaim bob{"cam/bob", "o2", "a", "http://o2"};
  backend_->claim_stream(bob, kTtl);
  clock_.advance(100ms);
  EXPECT_EQ(hosts("cam"), std::vector<std::string>{"cam/ann"}) << "served from the cache";
  EXPECT_EQ(backend_->live_reads, 3);

  backend_->release_claim(bob);
  StreamClaim mia{"cam/mia", "o1", "a", "http://o1"};
  EXPECT_EQ(cache_->claim_stream(mia, kTtl), ClaimResult::kClaimed);
  EXPECT_EQ(hosts("cam"), (std::vector<std::string>{"cam/ann", "cam/mia"}));
  EXPECT_EQ(backend_->live_reads, 4);
  EXPECT_EQ(cache_->claim_stream({"cam2/x", "o1", "a", "http://o1"}, kTtl), ClaimResult::kClaimed);
  EXPECT_EQ(cache_->claim_stream({"cam", "o1", "a", "http://o1"}, kTtl), ClaimResult::kClaimed);
  EXPECT_EQ(hosts("cam"), (std::vector<std::string>{"cam/ann", "cam/mia"}));
  EXPECT_EQ(backend_->live_reads, 4) << "other lives' claims leave the entry alone";
  EXPECT_TRUE(cache_->release_claim(ann));
  EXPECT_EQ(hosts("cam"), std::vector<std::string>{"cam/mia"});
  EXPECT_EQ(backend_->live_reads, 5);
  EXPECT_TRUE(cache_->release_claim(mia));
  EXPECT_TRUE(hosts("cam").empty());
  EXPECT_TRUE(hosts("cam").empty());
  EXPECT_EQ(backend_->live_reads, 7);
}

// A failed refresh keeps the last good answer (ok) up to max_stale; after that, reads and
// health report the outage.
TEST_F(CachedRegistryTest, OutageKeepsLastAnswersUntilMaxStaleThenShows) {
  make(true);
  backend_->put_node(edge("e1", "b"), kTtl);
  EXPECT_TRUE(cache_->healthy());
  EXPECT_EQ(cache_->nodes("b").size(), 1u);
  backend_->down = true;
  clock_.advance(600ms);
  cache_->nodes("b");
  cache_->healthy();
  ASSERT_TRUE(eventually([&] { return backend_->health_reads >= 2 && backend_->node_reads >= 2; }));
  std::this_thread::sleep_for(20ms);  // the failed refreshes land
  EXPECT_TRUE(cache_->healthy()) << "one failed PING within max_stale is not an outage";
  auto read = cache_->read_nodes("b");
  EXPECT_TRUE(read.ok);
  EXPECT_EQ(read.value.size(), 1u);  // the failed refresh did not wipe it
  clock_.advance(2500ms);  // 3.1 s since the last answers
  EXPECT_FALSE(cache_->healthy());
  EXPECT_FALSE(cache_->read_nodes("b").ok);
  EXPECT_FALSE(cache_->read_relays("b", "cam").ok);
  backend_->down = false;
  EXPECT_TRUE(cache_->healthy());
  EXPECT_TRUE(cache_->read_nodes("b").ok);
}

// A backend answer with no nodes is an answer: it replaces the list at once (no guessing
// that an empty list is a failure, now that failures say so).
TEST_F(CachedRegistryTest, EmptyAnswerReplacesTheList) {
  make(false);
  backend_->put_node(edge("e1", "b"), kTtl);
  EXPECT_EQ(cache_->nodes("b").size(), 1u);
  backend_->remove_node(edge("e1", "b"));
  clock_.advance(500ms);
  auto read = cache_->read_nodes("b");
  EXPECT_TRUE(read.ok);
  EXPECT_TRUE(read.value.empty());
}

// Records age in the cache: ttl_left shrinks with the entry's age, and a record whose TTL
// ran out is not served even though the entry itself is within max_stale.
TEST_F(CachedRegistryTest, NodeRecordsAgeAndExpireInTheCache) {
  make(true);
  backend_->put_node(edge("e1", "b"), 1s);
  backend_->put_node(edge("e2", "b"), 10s);
  auto first = cache_->nodes("b");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].ttl_left, Duration(1s));
  backend_->down = true;  // refreshes fail: the entry stays as it was read
  clock_.advance(400ms);
  auto aged = cache_->nodes("b");
  ASSERT_EQ(aged.size(), 2u);
  EXPECT_EQ(aged[0].ttl_left, Duration(600ms));
  clock_.advance(600ms);
  auto later = cache_->nodes("b");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, "e2");
  EXPECT_EQ(later[0].ttl_left, Duration(9s));
}

// An entry in use is kept warm: nodes whose heartbeats are on time (a 3 s record re-put
// every second) are listed by every read, however long since the last one. Refreshing only
// on use served a 2.5 s old entry, aged: it listed neither node, and the next refresh listed
// both again (the broker then placed viewers on a node it had just stopped listing).
TEST_F(CachedRegistryTest, EntryInUseIsKeptWarmAndNeverAgesOutLiveNodes) {
  make(false);
  backend_->put_node(edge("e1", "b"), 3s);
  clock_.advance(500ms);
  backend_->put_node(edge("e2", "b"), 3s);
  ASSERT_EQ(cache_->nodes("b").size(), 2u);
  for (int step = 1; step <= 25; ++step) {  // 2.5 s without a read; heartbeats every second
    clock_.advance(100ms);
    if (step % 10 == 0) backend_->put_node(edge("e1", "b"), 3s);
    if (step % 10 == 5) backend_->put_node(edge("e2", "b"), 3s);
    cache_->refresh_due_entries();  // the refresher's timer
  }
  auto nodes = cache_->nodes("b");
  ASSERT_EQ(nodes.size(), 2u);
  for (const auto& n : nodes) EXPECT_GE(n.ttl_left, Duration(1500ms)) << n.id;
  EXPECT_GE(backend_->node_reads, 9) << "refreshed every refresh_after / 2 meanwhile";

  // Unread for keep_warm: no more refreshes, and dropped once older than max_stale.
  const int reads = backend_->node_reads;
  clock_.advance(CachedRegistry::Options{}.keep_warm + 1s);
  cache_->refresh_due_entries();
  EXPECT_EQ(backend_->node_reads, reads);
  backend_->put_node(edge("e1", "b"), 3s);
  EXPECT_EQ(cache_->nodes("b").size(), 1u) << "read again as a miss";
  EXPECT_EQ(backend_->node_reads, reads + 1);
}

// Real time here: HTTP threads and the refresher all read the clock.
TEST_F(CachedRegistryTest, ConcurrentReadersAreSafe) {
  SteadyClock steady;
  make(true, &steady, 1ms);
  backend_->put_node(edge("e1", "b"), kTtl);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  const Timestamp until = steady.now() + 30ms;  // many refresh periods, however fast the loop
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500 || steady.now() < until; ++i) {
        if (cache_->nodes("b").size() != 1u) ++wrong;
        cache_->relays("b", "cam");
        cache_->healthy();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_TRUE(eventually([&] { return cache_->backend_reads() > 3u; }));  // refreshed along the way
  cache_.reset();  // before `steady` goes away
}

}  // namespace
}  // namespace strata::registry
