// Active speaker on fake time: hosts "talk" (a level every 20 ms, like audio packets) in
// scripted segments, the live ticks every 100 ms, and each scenario lists the speaker
// changes it must produce, each inside a time window.
#include "room/active_speaker.hpp"

#include <cctype>
#include <cmath>

#include <gtest/gtest.h>

namespace strata::room {
namespace {

using namespace std::chrono_literals;

struct Talk {
  const char* host;
  int from_ms, to_ms;  // [from, to)
  uint8_t level;       // -dBov
  int jitter = 0;      // level + (i * 7) % (jitter + 1): uneven speech
};

struct WantChange {
  int earliest_ms, latest_ms;
  const char* speaker;  // nullptr: nobody
};

struct Scenario {
  const char* name;
  std::vector<Talk> talks;
  int run_ms;
  std::vector<WantChange> want;
};

// The defaults: attack 50 ms, release 300 ms, speech louder than -60 dBov, margin 6 dB, switch hold
// 750 ms, silence hold 2 s, stale after 200 ms.
const Scenario kScenarios[] = {
    {"a lone talker becomes the speaker after the hold", {{"a", 0, 3000, 30}}, 3000, {{750, 770, "a"}}},
    {"a quiet room has no speaker", {{"a", 0, 5000, 75}, {"b", 0, 5000, 80}}, 5000, {}},
    {"silence (level 127) ends the speaker after the silence hold",
     {{"a", 0, 2000, 30}, {"a", 2000, 8000, 127}},
     8000,
     {{750, 770, "a"}, {4000, 4300, nullptr}}},
    {"reports that stop end the speaker after stale + silence hold",
     {{"a", 0, 2000, 30}},
     8000,
     {{750, 770, "a"}, {4100, 4400, nullptr}}},
    {"a pause shorter than the silence hold keeps the speaker",
     {{"a", 0, 2000, 30}, {"a", 2000, 3500, 127}, {"a", 3500, 6000, 30}},
     6000,
     {{750, 770, "a"}}},
    {"a turn: the next talker takes over after the hold",
     {{"a", 0, 2000, 35}, {"a", 2000, 6000, 75}, {"b", 2000, 6000, 35}},
     6000,
     {{750, 770, "a"}, {2750, 2900, "b"}}},
    {"an interjection shorter than the hold does not switch; a longer one does",
     {{"a", 0, 7000, 40}, {"b", 1500, 1900, 20}, {"b", 1900, 3000, 127}, {"b", 3000, 4000, 20},
      {"b", 4000, 7000, 127}},
     7000,
     {{750, 770, "a"}, {3750, 3900, "b"}, {4750, 5000, "a"}}},
    {"an interjection whose reports just stop does not switch either",
     {{"a", 0, 4000, 40}, {"b", 1500, 1900, 20}},
     4000,
     {{750, 770, "a"}}},
    {"two hosts of similar level talking over each other do not flap",
     {{"a", 0, 10000, 30, 4}, {"b", 100, 10000, 31, 5}},
     10000,
     {{750, 770, "a"}}},
    {"two starting together: the louder one",
     {{"a", 0, 3000, 40}, {"b", 0, 3000, 30}},
     3000,
     {{750, 770, "b"}}},
    {"louder by less than the margin is not enough",
     {{"a", 0, 6000, 34}, {"b", 1000, 6000, 30}},
     6000,
     {{750, 770, "a"}}},
};

void PrintTo(const Scenario& scenario, std::ostream* os) { *os << scenario.name; }

struct Observed {
  int at_ms;
  std::optional<std::string> speaker;
};

std::vector<Observed> play(const Scenario& scenario, ActiveSpeaker& detector) {
  const Timestamp start = FakeClock().now();
  std::vector<Observed> seen;
  auto note = [&](int ms, std::optional<SpeakerChange> change) {
    if (change) seen.push_back({ms, change->current});
  };
  for (int ms = 0; ms < scenario.run_ms; ms += 20) {
    const Timestamp now = start + std::chrono::milliseconds(ms);
    for (const Talk& t : scenario.talks) {
      if (ms < t.from_ms || ms >= t.to_ms) continue;
      const int level = t.level + (ms / 20 * 7) % (t.jitter + 1);
      note(ms, detector.on_audio_level(t.host, uint8_t(level), now));
    }
    if (ms % 100 == 0) note(ms, detector.on_tick(now));
  }
  return seen;
}

class SpeakerScenario : public testing::TestWithParam<Scenario> {};

TEST_P(SpeakerScenario, ChangesHappenInTheirWindows) {
  ActiveSpeaker detector;
  const std::vector<Observed> seen = play(GetParam(), detector);
  const auto& want = GetParam().want;
  ASSERT_EQ(seen.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_GE(seen[i].at_ms, want[i].earliest_ms) << "change " << i;
    EXPECT_LE(seen[i].at_ms, want[i].latest_ms) << "change " << i;
    EXPECT_EQ(seen[i].speaker, want[i].speaker ? std::optional<std::string>(want[i].speaker) : std::nullopt)
        << "change " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Room, SpeakerScenario, testing::ValuesIn(kScenarios), [](const auto& info) {
  std::string name;
  for (const char* p = info.param.name; *p; ++p) name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name;
});

TEST(ActiveSpeaker, SmoothedLoudness) {
  ActiveSpeaker detector;
  const Timestamp t0 = FakeClock().now();
  detector.on_audio_level("a", 30, t0);
  EXPECT_DOUBLE_EQ(detector.loudness("a", t0), 97.0);  // the first report is the average
  detector.on_audio_level("a", 127, t0 + 300ms);       // quieter: one release later
  EXPECT_NEAR(detector.loudness("a", t0 + 300ms), 97.0 / std::exp(1.0), 0.01);
  EXPECT_DOUBLE_EQ(detector.loudness("a", t0 + 300ms + 201ms), 0.0);  // stale
  detector.on_audio_level("b", 127, t0);
  detector.on_audio_level("b", 30, t0 + 50ms);  // louder: one attack later
  EXPECT_NEAR(detector.loudness("b", t0 + 50ms), 97.0 * (1 - 1 / std::exp(1.0)), 0.01);
  EXPECT_DOUBLE_EQ(detector.loudness("nobody", t0), 0.0);
}

TEST(ActiveSpeaker, RemovingTheSpeakerLeavesNobody) {
  ActiveSpeaker detector;
  Timestamp now = FakeClock().now();
  for (int i = 0; i < 50; ++i, now += 20ms) detector.on_audio_level("a", 30, now);
  ASSERT_EQ(detector.speaker(), "a");
  EXPECT_FALSE(detector.remove_host("b"));
  EXPECT_EQ(detector.remove_host("a"), (SpeakerChange{"a", std::nullopt}));
  EXPECT_FALSE(detector.speaker());
  EXPECT_FALSE(detector.on_tick(now + 10s));
}

TEST(ActiveSpeaker, ConfigurableHold) {
  SpeakerConfig config;
  config.switch_hold = 200ms;
  ActiveSpeaker detector(config);
  const Timestamp t0 = FakeClock().now();
  std::optional<SpeakerChange> change;
  Timestamp at{};
  for (Timestamp now = t0; !change && now < t0 + 1s; now += 20ms) {
    change = detector.on_audio_level("a", 30, now);
    at = now;
  }
  ASSERT_TRUE(change);
  EXPECT_EQ(at - t0, 200ms);
}

}  // namespace
}  // namespace strata::room
