#include "loadtest/churn.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

// A server and bench in simulated time: a viewer's first keyframe comes 100 ms after its
// POST while its host is up (a POST while the host is down waits for it, as the bench's
// 409 + Retry-After loop does); a host is sending 50 ms after its WHIP. Stopping a host
// ends its viewers with a BYE, unless the test says otherwise.
class FakeBench final : public ChurnActions {
 public:
  struct Viewer {
    int host = 0;
    bool waiting = false;  // POSTed while its host was down
    bool ended = false, taken = false, bye = true;
    ViewerStats stats;
  };

  Timestamp now() override { return now_; }
  void wait_until(Timestamp t) override { now_ = std::max(now_, t + overshoot); }

  uint64_t join(int host) override {
    uint64_t id = next_id_++;
    Viewer& v = viewers_[id];
    v.host = host;
    if (fail_next_joins > 0) {
      --fail_next_joins;
      failed_.push_back(id);
      viewers_.erase(id);
      return id;
    }
    if (host_up(host)) start_media(v, now_);
    else v.waiting = true;
    return id;
  }

  void leave(uint64_t id) override {
    auto it = viewers_.find(id);
    ASSERT_NE(it, viewers_.end());
    ASSERT_GE(now_ - it->second.stats.post_sent, ChurnDriver::kMinAge) << "a viewer younger than kMinAge left";
    Timestamp media = it->second.stats.first_media;
    ASSERT_TRUE(media != Timestamp{} && media <= now_) << "a viewer left before it had any media";
    it->second.stats.closed_at = now_;
    it->second.taken = true;
    ++leaves;
  }

  std::vector<EndedSession> take_ended() override {
    std::vector<EndedSession> out;
    for (auto& [id, v] : viewers_)
      if (v.ended && !v.taken) {
        v.taken = true;
        v.stats.closed_at = now_;
        out.push_back({id, v.bye, false});
      }
    for (uint64_t id : failed_) out.push_back({id, false, true});
    failed_.clear();
    return out;
  }

  std::unordered_map<uint64_t, ViewerProbe> probe(const std::vector<uint64_t>& ids) override {
    std::unordered_map<uint64_t, ViewerProbe> out;
    for (uint64_t id : ids) {
      auto it = viewers_.find(id);
      if (it == viewers_.end() || it->second.waiting) continue;
      const Viewer& v = it->second;
      Timestamp media = v.stats.first_media;
      bool had_media = media != Timestamp{} && media <= now_;
      bool receiving = had_media && !v.ended && (keep_viewers || v.stats.post_sent >= host_started_[v.host]);
      out[id] = {true, v.stats.post_sent, receiving ? now_ : had_media ? media : Timestamp{}};
    }
    return out;
  }

  void stop_host(int host) override {
    host_started_[host] = kNever;
    ++stops;
    if (keep_viewers) return;
    int n = 0;
    for (auto& [id, v] : viewers_) {
      if (v.host != host || v.taken || v.waiting) continue;
      // Every `no_bye_every`-th viewer is never told: the server forgot it silently.
      if (no_bye_every > 0 && ++n % no_bye_every == 0) continue;
      v.ended = true;
      if (v.stats.first_media > now_) {  // not connected yet: no media ever, and no BYE
        v.stats.first_media = v.stats.first_keyframe = v.stats.last_media = Timestamp{};
        v.bye = false;
      }
    }
  }

  bool start_host(int host, std::string* error) override {
    if (fail_publishes > 0) {
      --fail_publishes;
      *error = "WHIP: 503";
      return false;
    }
    host_started_[host] = now_;
    for (auto& [id, v] : viewers_)
      if (v.host == host && v.waiting) {
        v.waiting = false;
        start_media(v, now_);
        v.stats.post_attempts = 2;  // its first POST got 409
      }
    return true;
  }

  bool host_sending(int host) override { return host_up(host) && now_ >= host_started_[host] + 50ms; }

  const ViewerStats* stats(uint64_t id) override {
    auto it = viewers_.find(id);
    return it == viewers_.end() ? nullptr : &it->second.stats;
  }

  int viewers_of(int host) const {
    int n = 0;
    for (auto& [id, v] : viewers_) n += v.host == host && !v.taken;
    return n;
  }

  // Knobs.
  Duration overshoot{0};      // wait_until() returns this late (a busy machine)
  Duration first_media_after = 100ms;
  bool keep_viewers = false;  // a server whose viewers survive a host restart
  int no_bye_every = 0;
  int fail_publishes = 0;
  int fail_next_joins = 0;
  // Counters.
  int leaves = 0, stops = 0;

 private:
  bool host_up(int host) const {
    auto it = host_started_.find(host);
    return it == host_started_.end() || it->second != kNever;
  }
  void start_media(Viewer& v, Timestamp at) const {
    v.stats.post_sent = at;
    v.stats.first_media = v.stats.first_keyframe = v.stats.last_media = at + first_media_after;
  }

  Timestamp now_ = Timestamp(Duration(1'000'000'000));
  uint64_t next_id_ = 1;
  std::map<uint64_t, Viewer> viewers_;
  std::map<int, Timestamp> host_started_;  // kNever while down
  std::vector<uint64_t> failed_;
};

ChurnBehaviour churn(int viewers, double ramp, double joins, double leaves, double restart) {
  ChurnBehaviour c;
  c.viewers = viewers;
  c.ramp = ramp;
  c.joins_per_s = joins;
  c.leaves_per_s = leaves;
  c.host_restart_s = restart;
  return c;
}

TEST(ChurnDriverTest, KeepsThePopulationAtTheJoinAndLeaveRates) {
  FakeBench bench;
  ChurnDriver d(churn(30, 10, 2, 2, 0), 1, 60, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  EXPECT_EQ(r.initial_joins, 30);
  // Churn runs from the end of the 3 s ramp: 2 per second for 57 s.
  EXPECT_NEAR(r.joins, 114, 1);
  EXPECT_NEAR(r.leaves, 114, 1);
  EXPECT_EQ(r.leaves, bench.leaves);
  EXPECT_NEAR(r.population_end, 30, 1);
  EXPECT_EQ(bench.viewers_of(0), r.population_end);
  EXPECT_EQ(r.sessions, r.initial_joins + r.joins);
  EXPECT_EQ(r.with_media, r.sessions);
  EXPECT_EQ(r.join_failures, 0);
  EXPECT_EQ(r.rejoins, 0);
  EXPECT_TRUE(r.restarts.empty());
  EXPECT_FALSE(churn_failed(r));
}

TEST(ChurnDriverTest, LeavesOwedRightAfterARestartAreMadeUpLater) {
  FakeBench bench;
  // After each restart every viewer is new or pending for a few seconds: no one to leave.
  ChurnDriver d(churn(30, 10, 3, 3, 15), 1, 40, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 2u);
  EXPECT_NEAR(r.leaves, r.joins, 1);
  EXPECT_NEAR(r.population_end, 30, 1);
}

TEST(ChurnDriverTest, LeavesOnlyViewersThatHadMedia) {
  FakeBench bench;
  bench.first_media_after = 4s;  // a slow server: past kMinAge without a picture
  ChurnDriver d(churn(20, 0, 2, 2, 0), 1, 30, bench);
  d.run();  // FakeBench::leave() asserts each victim had media
  ChurnReport r = d.report(bench.now());
  EXPECT_GT(r.leaves, 40);
  EXPECT_EQ(r.join_failures, 0);
}

TEST(ChurnDriverTest, NothingHappensAtOrAfterTheEnd) {
  FakeBench bench;
  bench.overshoot = 250ms;  // steps come late, as on a loaded machine
  ChurnDriver d(churn(10, 0, 10, 10, 10), 1, 20, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  // The restart due at 20 s, the end of the run, does not happen.
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_EQ(bench.stops, 1);
  // Joins every 100 ms from 0.1 s to 19.9 s, none at 20 s.
  EXPECT_EQ(r.joins, 199);
}

TEST(ChurnDriverTest, SpreadsViewersOverHosts) {
  FakeBench bench;
  ChurnDriver d(churn(30, 0, 3, 0, 0), 3, 10, bench);
  d.run();
  EXPECT_EQ(bench.viewers_of(0), bench.viewers_of(1));
  EXPECT_EQ(bench.viewers_of(1), bench.viewers_of(2));
}

TEST(ChurnDriverTest, RejoinsTheViewersAHostRestartEnded) {
  FakeBench bench;
  ChurnDriver d(churn(20, 0, 0, 0, 10), 1, 25, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 2u);
  EXPECT_EQ(bench.stops, 2);
  for (const HostRestartReport& h : r.restarts) {
    EXPECT_EQ(h.viewers, 20);
    EXPECT_EQ(h.ended_with_bye, 20);
    EXPECT_EQ(h.ended_otherwise + h.silent + h.survived + h.in_flight, 0);
    EXPECT_EQ(h.rejoined, 20);
    EXPECT_EQ(h.rejoined_with_media, 20);
    EXPECT_EQ(h.publish_failures, 0);
    // Sending 50 ms after the WHIP, seen by a poll every 20 ms.
    EXPECT_GE(h.host_down_ms, 50);
    EXPECT_LE(h.host_down_ms, 80);
    // Ended seen within a 20 ms poll, then 100 ms to the keyframe.
    EXPECT_EQ(h.first_frame_ms.count, 20u);
    EXPECT_GE(h.first_frame_ms.min, 100);
    EXPECT_LE(h.first_frame_ms.max, 130);
    EXPECT_EQ(h.rejoin_first_frame_ms.p50, 100);
    EXPECT_EQ(h.rejoins_retried, 0);  // the host was back before they POSTed
  }
  EXPECT_DOUBLE_EQ(r.restarts[0].at_s, 10);
  EXPECT_DOUBLE_EQ(r.restarts[1].at_s, 20);
  EXPECT_EQ(r.rejoins, 40);
  EXPECT_EQ(r.population_end, 20);
  EXPECT_EQ(r.ended_outside_restarts, 0);
  EXPECT_EQ(r.join_failures, 0);
  EXPECT_FALSE(churn_failed(r));
}

TEST(ChurnDriverTest, ViewersNeverToldAreRejoinedAsSilent) {
  FakeBench bench;
  bench.no_bye_every = 4;  // 5 of 20 get no BYE and no media
  ChurnDriver d(churn(20, 0, 0, 0, 10), 1, 18, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 1u);
  const HostRestartReport& h = r.restarts[0];
  EXPECT_EQ(h.ended_with_bye, 15);
  EXPECT_EQ(h.silent, 5);
  EXPECT_EQ(h.rejoined, 20);
  EXPECT_EQ(h.rejoined_with_media, 20);
  // The silent ones re-join at the check, kCheckAfter after the DELETE.
  EXPECT_GE(h.first_frame_ms.max, 5000);
  EXPECT_EQ(r.population_end, 20);
}

TEST(ChurnDriverTest, ViewersThatSurviveARestartAreCountedNotRejoined) {
  FakeBench bench;
  bench.keep_viewers = true;
  ChurnDriver d(churn(20, 0, 0, 0, 10), 1, 18, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_EQ(r.restarts[0].survived, 20);
  EXPECT_EQ(r.restarts[0].rejoined, 0);
  EXPECT_EQ(r.rejoins, 0);
}

TEST(ChurnDriverTest, RetriesAFailedPublishEverySecond) {
  FakeBench bench;
  bench.fail_publishes = 2;
  ChurnDriver d(churn(10, 0, 0, 0, 5), 1, 9, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_EQ(r.restarts[0].publish_failures, 2);
  EXPECT_GE(r.restarts[0].host_down_ms, 2050);
  EXPECT_LE(r.restarts[0].host_down_ms, 2200);
  // The viewers' re-joins waited for the host.
  EXPECT_EQ(r.restarts[0].rejoined_with_media, 10);
  EXPECT_EQ(r.restarts[0].rejoins_retried, 10);
  EXPECT_GE(r.restarts[0].first_frame_ms.min, 2100);
  EXPECT_FALSE(churn_failed(r));
}

TEST(ChurnDriverTest, AHostThatNeverComesBackFailsTheRun) {
  FakeBench bench;
  bench.fail_publishes = 1000;
  ChurnDriver d(churn(5, 0, 0, 0, 5), 1, 9, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_LT(r.restarts[0].host_down_ms, 0);
  EXPECT_TRUE(churn_failed(r));
}

TEST(ChurnDriverTest, SignalingFailuresAreJoinFailuresAndRejoinLater) {
  FakeBench bench;
  bench.fail_next_joins = 2;
  ChurnDriver d(churn(10, 0, 0, 0, 0), 1, 5, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  EXPECT_EQ(r.join_failures, 2);
  EXPECT_EQ(r.ended_outside_restarts, 2);
  EXPECT_EQ(r.rejoins, 2);
  EXPECT_EQ(r.population_end, 10);
  EXPECT_EQ(r.with_media, 10);
  EXPECT_TRUE(churn_failed(r));
}

TEST(ChurnDriverTest, SessionsWithoutMediaCutByARestartAreNotFailures) {
  FakeBench bench;
  // Joins every 100 ms; the one at 4.0 s (just before the restart at 4.0 s) has no media
  // yet when its live ends.
  ChurnDriver d(churn(4, 0, 10, 0, 4), 1, 6, bench);
  d.run();
  ChurnReport r = d.report(bench.now());
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_EQ(r.cut_by_restart, 1);
  EXPECT_EQ(r.join_failures, 0);
  EXPECT_EQ(r.with_media, r.sessions - 1);
  EXPECT_EQ(r.restarts[0].ended_otherwise, 1);
  EXPECT_EQ(r.restarts[0].ended_with_bye, r.restarts[0].viewers - 1);
  EXPECT_EQ(r.restarts[0].rejoined_with_media, r.restarts[0].viewers);
  EXPECT_FALSE(churn_failed(r));
}

}  // namespace
}  // namespace strata::loadtest
