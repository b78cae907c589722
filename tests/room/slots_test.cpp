// Slot filling: join order, stability (a shown host never moves), hand-over when a host
// leaves, the lowest empty slot when one joins, the only/exclude filters and slot counts.
#include <cctype>

#include <gtest/gtest.h>

#include "room/live_directory.hpp"
#include "room_test_util.hpp"

namespace strata::room {
namespace {

using namespace test;
using namespace std::chrono_literals;

struct Scenario {
  const char* name;
  std::vector<Step> steps;
};

// Host sessions are 1..9 (the host's letter a..i), viewer sessions 100+.
const ViewerFilter kAll = ViewerFilter::all();

const Scenario kScenarios[] = {
    {"viewer fills its slots in join order",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3),
      add_viewer("L", 100, 2, kAll, "100#0:->a 100#1:->b")}},
    {"a one-slot viewer gets the first host, then the next when it leaves",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_viewer("L", 100, 1, kAll, "100#0:->a"),
      remove_host(2, ""), add_host("L", "c", 3, ""), remove_host(1, "100#0:a>c")}},
    {"a host leaving hands its slot to the next unshown host; no other slot moves",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3), add_host("L", "d", 4),
      add_viewer("L", 100, 3, kAll, "100#0:->a 100#1:->b 100#2:->c"), remove_host(2, "100#1:b>d"),
      remove_host(1, "100#0:a>-"), remove_host(4, "100#1:d>-")}},
    {"a host joining takes the lowest empty slot",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3),
      add_viewer("L", 100, 3, kAll, "100#0:->a 100#1:->b 100#2:->c"), remove_host(1, "100#0:a>-"),
      remove_host(3, "100#2:c>-"), add_host("L", "d", 4, "100#0:->d"), add_host("L", "e", 5, "100#2:->e"),
      add_host("L", "f", 6, "")}},
    {"a viewer waits in a live before its hosts join",
     {add_viewer("L", 100, 2, kAll, ""), add_host("L", "a", 1, "100#0:->a"), add_host("L", "b", 2, "100#1:->b"),
      add_host("L", "c", 3, "")}},
    {"every viewer is refilled, in viewer id order",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3),
      add_viewer("L", 101, 1, kAll, "101#0:->a"), add_viewer("L", 100, 3, kAll, "100#0:->a 100#1:->b 100#2:->c"),
      remove_host(1, "100#0:a>- 101#0:a>b")}},
    {"a rejoining host is the last in join order",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3), remove_host(1), add_host("L", "a", 4),
      add_viewer("L", 100, 2, kAll, "100#0:->b 100#1:->c")}},
    {"only(): one host; its slot stays empty while it is away",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_viewer("L", 100, 1, ViewerFilter::only("b"), "100#0:->b"),
      add_host("L", "c", 3, ""), remove_host(2, "100#0:b>-"), remove_host(1, ""),
      add_host("L", "b", 4, "100#0:->b")}},
    {"only() of a host that is not live is an unknown host",
     {add_host("L", "a", 1), fails(add_viewer("L", 100, 1, ViewerFilter::only("z")), ErrorCode::kUnknownHost),
      fails(add_viewer("M", 101, 1, ViewerFilter::only("a")), ErrorCode::kUnknownHost),
      fails(add_viewer("L", 102, 1, ViewerFilter::only("no such")), ErrorCode::kBadHostName)}},
    {"exclude(): every host but one (a host watching its co-hosts)",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_host("L", "c", 3),
      add_viewer("L", 100, 2, ViewerFilter::exclude("b"), "100#0:->a 100#1:->c"), remove_host(1, "100#0:a>-"),
      add_host("L", "d", 4, "100#0:->d")}},
    {"exclude() of a host not live yet, which joins later",
     {add_viewer("L", 100, 2, ViewerFilter::exclude("a"), ""), add_host("L", "a", 1, ""),
      add_host("L", "b", 2, "100#0:->b"),
      fails(add_viewer("L", 101, 1, ViewerFilter::exclude("")), ErrorCode::kBadHostName)}},
    {"slot counts from 1 to max_slots",
     {add_host("L", "a", 1), fails(add_viewer("L", 100, 0, kAll), ErrorCode::kBadSlotCount),
      fails(add_viewer("L", 101, 10, kAll), ErrorCode::kBadSlotCount), add_viewer("L", 102, 9, kAll, "102#0:->a")}},
    {"a removed viewer's slots empty and it gets no more changes",
     {add_host("L", "a", 1), add_host("L", "b", 2), add_viewer("L", 100, 3, kAll, "100#0:->a 100#1:->b"),
      remove_viewer(100, "100#0:a>- 100#1:b>-"), add_host("L", "c", 3, ""), remove_viewer(100, "")}},
    {"lives are separate",
     {add_host("L", "a", 1), add_host("M", "b", 2), add_viewer("M", 100, 2, kAll, "100#0:->b"),
      add_host("L", "c", 3, ""), add_host("M", "a", 4, "100#1:->a")}},
    {"a session id is a host or a viewer, once",
     {add_host("L", "a", 1), fails(add_viewer("L", 1, 1, kAll), ErrorCode::kSessionInUse),
      add_viewer("L", 100, 1, kAll, "100#0:->a"), fails(add_host("L", "b", 100), ErrorCode::kSessionInUse),
      fails(add_viewer("M", 100, 1, kAll), ErrorCode::kSessionInUse)}},
};

void PrintTo(const Scenario& scenario, std::ostream* os) { *os << scenario.name; }

class SlotScenario : public testing::TestWithParam<Scenario> {};

TEST_P(SlotScenario, EachStepChangesExactlyTheseSlots) {
  LiveDirectory dir;
  FakeClock clock;
  int i = 0;
  for (const Step& step : GetParam().steps) {
    clock.advance(1s);
    auto [error, changes] = run(dir, step, clock.now());
    EXPECT_EQ(error, step.want_error) << "step " << i;
    EXPECT_EQ(render(changes.slots), step.want_slots) << "step " << i;
    ++i;
  }
}

INSTANTIATE_TEST_SUITE_P(Room, SlotScenario, testing::ValuesIn(kScenarios), [](const auto& info) {
  std::string name;
  for (const char* p = info.param.name; *p; ++p) name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name;
});

TEST(ViewerSlots, ChangesListEveryDifferingSlot) {
  const Slots before{"a", std::nullopt, "c"};
  const Slots after{"a", "b", std::nullopt};
  std::vector<SlotChange> out;
  append_slot_changes(7, before, after, out);
  EXPECT_EQ(render(out), "7#1:->b 7#2:c>-");
}

// Many joins and leaves in a pseudo-random order: the invariants the policy promises hold
// after every step, and a shown host never changes slot.
TEST(ViewerSlots, InvariantsHoldUnderChurn) {
  Config config;
  LiveDirectory dir(config);
  FakeClock clock;
  ASSERT_TRUE(std::holds_alternative<Changes>(dir.add_viewer("L", 100, 3, ViewerFilter::all())));
  ASSERT_TRUE(std::holds_alternative<Changes>(dir.add_viewer("L", 101, 2, ViewerFilter::exclude("h3"))));
  std::vector<SessionId> live_hosts;
  uint32_t seed = 12345;
  for (SessionId session = 1; session < 400; ++session) {
    seed = seed * 1103515245 + 12345;
    clock.advance(10ms);
    const Slots before100 = dir.snapshot("L")->viewers[0].slots;
    Changes changes;
    if (live_hosts.size() < config.max_hosts && (seed >> 16) % 3 != 0) {
      const std::string name = "h" + std::to_string(session % 12);
      auto result = dir.add_host("L", name, session, clock.now());
      if (!std::holds_alternative<Changes>(result)) continue;  // name taken: fine
      changes = std::get<Changes>(result);
      live_hosts.push_back(session);
    } else if (!live_hosts.empty()) {
      const size_t pick = (seed >> 8) % live_hosts.size();
      changes = dir.remove_host(live_hosts[pick]);
      live_hosts.erase(live_hosts.begin() + long(pick));
    }
    const LiveSnapshot snap = *dir.snapshot("L");
    for (const auto& viewer : snap.viewers) {
      size_t admitted = 0;
      for (const auto& host : snap.hosts) admitted += viewer.filter.admits(host.name) ? 1 : 0;
      size_t shown = 0;
      for (const auto& slot : viewer.slots) shown += slot ? 1 : 0;
      EXPECT_EQ(shown, std::min(admitted, viewer.slots.size())) << "session " << session;
    }
    // Stability: every slot of viewer 100 that still shows a host shows the same one, or
    // was empty before, or its host left in this very step.
    for (size_t s = 0; s < before100.size(); ++s) {
      const auto& now_slot = snap.viewers[0].slots[s];
      if (!before100[s] || !now_slot || *before100[s] == *now_slot) continue;
      const bool left = !changes.hosts.empty() && changes.hosts[0].kind == HostChange::Kind::kLeft &&
                        changes.hosts[0].host.name == *before100[s];
      EXPECT_TRUE(left) << "slot " << s << " moved from " << *before100[s] << " to " << *now_slot;
    }
  }
}

}  // namespace
}  // namespace strata::room
