// The live directory: host names, admission (409s), join order, snapshots, lives opening
// and closing, and the speaker and slot kinds as the directory exposes them.
#include "room/live_directory.hpp"

#include <gtest/gtest.h>

#include "room_test_util.hpp"

namespace strata::room {
namespace {

using namespace test;
using namespace std::chrono_literals;

Changes ok(Result<Changes> result) {
  EXPECT_TRUE(std::holds_alternative<Changes>(result)) << (std::holds_alternative<Error>(result)
                                                               ? std::get<Error>(result).detail
                                                               : "");
  return std::holds_alternative<Changes>(result) ? std::get<Changes>(result) : Changes{};
}

Error error(Result<Changes> result) {
  EXPECT_TRUE(std::holds_alternative<Error>(result));
  return std::holds_alternative<Error>(result) ? std::get<Error>(result) : Error{};
}

TEST(HostName, Rule) {
  struct Case {
    std::string name;
    bool valid;
  };
  const Case cases[] = {
      {"host", true},           {"Alice_01-x", true},     {std::string(64, 'a'), true}, {"0", true},
      {"", false},              {std::string(65, 'a'), false}, {"a b", false},           {"a.b", false},
      {"a/b", false},           {"caf\xc3\xa9", false},   {"a%20", false},              {"a?host=b", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(valid_host_name(c.name), c.valid) << c.name;
    LiveDirectory dir;
    auto result = dir.add_host("L", c.name, 1, Timestamp{});
    EXPECT_EQ(std::holds_alternative<Changes>(result), c.valid) << c.name;
    if (!c.valid) {
      EXPECT_EQ(std::get<Error>(result).code, ErrorCode::kBadHostName) << c.name;
    }
  }
  EXPECT_TRUE(valid_host_name(kDefaultHost));
}

TEST(ErrorCode, MachineReadableNames) {
  const std::pair<ErrorCode, std::string> cases[] = {
      {ErrorCode::kBadHostName, "bad-host-name"}, {ErrorCode::kHostTaken, "host-taken"},
      {ErrorCode::kTooManyHosts, "too-many-hosts"}, {ErrorCode::kUnknownHost, "unknown-host"},
      {ErrorCode::kBadSlotCount, "bad-slot-count"}, {ErrorCode::kSessionInUse, "session-in-use"},
  };
  for (const auto& [code, name] : cases) EXPECT_EQ(to_string(code), name);
}

TEST(LiveDirectory, HostAdmission) {
  Config config;
  config.max_hosts = 3;
  const Step steps[] = {
      add_host("L", std::string(kDefaultHost), 1),
      fails(add_host("L", std::string(kDefaultHost), 2), ErrorCode::kHostTaken),  // second WHIP without ?host=
      add_host("M", std::string(kDefaultHost), 3),                                 // another live: fine
      add_host("L", "b", 4),
      fails(add_host("L", "b", 5), ErrorCode::kHostTaken),
      add_host("L", "c", 6),
      fails(add_host("L", "d", 7), ErrorCode::kTooManyHosts),
      fails(add_host("L", "c", 8), ErrorCode::kHostTaken),  // taken wins over full: the more precise reason
      remove_host(4),
      add_host("L", "d", 9),  // b's place freed up
      fails(add_host("L", "b", 10), ErrorCode::kTooManyHosts),
  };
  LiveDirectory dir(config);
  Timestamp now{};
  int i = 0;
  for (const auto& step : steps) {
    EXPECT_EQ(run(dir, step, now += 1s).first, step.want_error) << "step " << i++;
  }
  EXPECT_EQ(dir.snapshot("L")->hosts.size(), 3u);
}

TEST(LiveDirectory, ErrorsSayWhy) {
  Config config;
  config.max_hosts = 1;
  config.max_slots = 4;
  LiveDirectory dir(config);
  ok(dir.add_host("L", "a", 1, Timestamp{}));
  EXPECT_EQ(error(dir.add_host("L", "a", 2, Timestamp{})).detail, "host 'a' is already live in 'L'");
  EXPECT_EQ(error(dir.add_host("L", "b", 2, Timestamp{})).detail, "live 'L' already has 1 hosts, the most it takes");
  EXPECT_EQ(error(dir.add_viewer("L", 3, 5, ViewerFilter::all())).detail,
            "a viewer has 1 to 4 video slots; the offer has 5");
  EXPECT_EQ(error(dir.add_viewer("L", 3, 1, ViewerFilter::only("z"))).detail, "host 'z' is not live in 'L'");
}

TEST(LiveDirectory, HostsInJoinOrderWithTheirChanges) {
  LiveDirectory dir;
  const Timestamp t0 = FakeClock().now();
  const Changes joined = ok(dir.add_host("L", "carol", 30, t0));
  ok(dir.add_host("L", "alice", 10, t0 + 1s));
  ok(dir.add_host("L", "bob", 20, t0 + 2s));
  EXPECT_EQ(joined.live, "L");
  ASSERT_EQ(joined.hosts.size(), 1u);
  EXPECT_EQ(joined.hosts[0], (HostChange{HostChange::Kind::kJoined, {"carol", 30, t0}}));

  const Changes left = dir.remove_host(10);
  ASSERT_EQ(left.hosts.size(), 1u);
  EXPECT_EQ(left.hosts[0], (HostChange{HostChange::Kind::kLeft, {"alice", 10, t0 + 1s}}));
  EXPECT_FALSE(left.live_closed);

  const std::vector<HostEntry> want{{"carol", 30, t0}, {"bob", 20, t0 + 2s}};
  EXPECT_EQ(dir.snapshot("L")->hosts, want);
  EXPECT_TRUE(dir.remove_host(10).empty());  // a session ending twice changes nothing
}

TEST(LiveDirectory, Snapshot) {
  LiveDirectory dir;
  const Timestamp t0 = FakeClock().now();
  ok(dir.add_host("L", "a", 1, t0));
  ok(dir.add_host("L", "b", 2, t0 + 1s));
  ok(dir.add_viewer("L", 101, 3, ViewerFilter::all()));
  ok(dir.add_viewer("L", 100, 1, ViewerFilter::only("b")));
  ok(dir.add_viewer("L", 102, 2, ViewerFilter::exclude("a")));

  const std::optional<LiveSnapshot> snap = dir.snapshot("L");
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->live, "L");
  EXPECT_EQ(snap->hosts, (std::vector<HostEntry>{{"a", 1, t0}, {"b", 2, t0 + 1s}}));
  EXPECT_EQ(snap->viewer_count, 3u);
  ASSERT_EQ(snap->viewers.size(), 3u);
  const std::tuple<SessionId, ViewerFilter, std::string> want[] = {
      {100, ViewerFilter::only("b"), "b"},
      {101, ViewerFilter::all(), "a,b,-"},
      {102, ViewerFilter::exclude("a"), "b,-"},
  };
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(snap->viewers[i].viewer, std::get<0>(want[i]));
    EXPECT_EQ(snap->viewers[i].filter, std::get<1>(want[i]));
    EXPECT_EQ(render(snap->viewers[i].slots), std::get<2>(want[i]));
  }
  EXPECT_FALSE(snap->speaker);
  EXPECT_FALSE(dir.snapshot("nope"));
}

TEST(LiveDirectory, LiveLivesWhileItHasAHostOrAViewer) {
  LiveDirectory dir;
  EXPECT_TRUE(dir.lives().empty());
  ok(dir.add_viewer("L", 100, 1, ViewerFilter::all()));
  ok(dir.add_host("M", "a", 1, Timestamp{}));
  EXPECT_EQ(dir.lives(), (std::vector<std::string>{"L", "M"}));
  ok(dir.add_host("L", "a", 2, Timestamp{}));

  const Changes host_left = dir.remove_host(2);
  EXPECT_FALSE(host_left.live_closed);  // the viewer waits for the next host
  EXPECT_EQ(render(host_left.slots), "100#0:a>-");
  const Changes viewer_left = dir.remove_viewer(100);
  EXPECT_TRUE(viewer_left.live_closed);
  EXPECT_EQ(viewer_left.live, "L");
  EXPECT_EQ(dir.lives(), (std::vector<std::string>{"M"}));
  EXPECT_TRUE(dir.remove_host(1).live_closed);
  EXPECT_TRUE(dir.lives().empty());

  // A refused request leaves no empty live behind.
  error(dir.add_viewer("N", 100, 1, ViewerFilter::only("a")));
  error(dir.add_host("N", "bad name", 3, Timestamp{}));
  EXPECT_TRUE(dir.lives().empty());
}

// Levels every 20 ms for `d`; returns the first speaker change.
std::optional<SpeakerChange> talk(LiveDirectory& dir, std::string_view live, std::string_view host, uint8_t level,
                                  FakeClock& clock, Duration d) {
  std::optional<SpeakerChange> first;
  for (const Timestamp end = clock.now() + d; clock.now() < end; clock.advance(20ms)) {
    auto change = dir.on_audio_level(live, host, level, clock.now());
    if (change && !first) first = change;
  }
  return first;
}

TEST(LiveDirectory, SpeakerAndSlotKinds) {
  LiveDirectory dir;
  FakeClock clock;
  ok(dir.add_host("L", "a", 1, clock.now()));
  ok(dir.add_host("L", "b", 2, clock.now()));
  ok(dir.add_viewer("L", 100, 3, ViewerFilter::all()));
  ok(dir.add_viewer("L", 101, 1, ViewerFilter::only("a")));
  using K = SlotKind;
  EXPECT_EQ(dir.slot_kinds(100), (std::vector<K>{K::kRegular, K::kRegular, K::kEmpty}));
  EXPECT_EQ(dir.slot_kinds(101), (std::vector<K>{K::kFavored}));  // pinned
  EXPECT_FALSE(dir.slot_kinds(1));                                 // a host, not a viewer

  EXPECT_FALSE(talk(dir, "L", "z", 20, clock, 2s));  // not a host of L: ignored
  EXPECT_FALSE(talk(dir, "Q", "b", 20, clock, 2s));  // no such live
  EXPECT_EQ(talk(dir, "L", "b", 20, clock, 2s), (SpeakerChange{std::nullopt, "b"}));
  EXPECT_EQ(dir.snapshot("L")->speaker, "b");
  EXPECT_EQ(dir.slot_kinds(100), (std::vector<K>{K::kRegular, K::kFavored, K::kEmpty}));

  const Changes left = dir.remove_host(2);
  EXPECT_EQ(left.speaker, (SpeakerChange{"b", std::nullopt}));
  EXPECT_FALSE(talk(dir, "L", "b", 20, clock, 2s));  // late reports of a host that left
  EXPECT_FALSE(dir.snapshot("L")->speaker);
}

TEST(LiveDirectory, TickEndsASpeakerWhoseReportsStopped) {
  LiveDirectory dir;
  FakeClock clock;
  ok(dir.add_host("L", "a", 1, clock.now()));
  ok(dir.add_host("M", "a", 2, clock.now()));
  EXPECT_TRUE(talk(dir, "L", "a", 30, clock, 2s));
  std::vector<Changes> ticks;
  for (int i = 0; i < 50 && ticks.empty(); ++i) {
    clock.advance(100ms);
    ticks = dir.on_tick(clock.now());
  }
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0].live, "L");
  EXPECT_EQ(ticks[0].speaker, (SpeakerChange{"a", std::nullopt}));
  EXPECT_TRUE(ticks[0].slots.empty());
}

}  // namespace
}  // namespace strata::room
