// Active speaker of one live from the hosts' audio levels (RFC 6464 client-to-mixer
// audio-level: -dBov, 0 loudest, 127 silence), with hysteresis so the highlighted host does
// not flap when two hosts talk at similar levels or one coughs:
//   - each host's level is followed by an envelope (exponential average, fast `attack` when
//     louder, slow `release` when quieter), in "loudness" = 127 - level, i.e. dB above the
//     digital silence floor: a new talker is heard at once, the gaps between words are not;
//   - a host counts as speaking while its average is at least as loud as `speech_level`;
//     a host without a report for `stale_after` counts as silent (DTX, muted, packet loss);
//   - another host takes over only after being speaking and louder than the speaker by
//     `switch_margin_db` without a break for `switch_hold` (each host has its own clock, so
//     two hosts talking over each other do not keep resetting one shared clock); if several
//     have, the loudest wins. The same rule starts a speaker from nobody (loudness 0);
//   - a speaker silent for `silence_hold` with no challenger ready leaves nobody speaking.
// Sans-IO: levels and `now` in, speaker changes out; on_tick() lets silence be noticed when
// reports stop altogether (call it every 100–250 ms).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "room/changes.hpp"

namespace strata::room {

struct SpeakerConfig {
  // Time constants of the envelope. Attack: a host starting to talk reaches its level in
  // about 100 ms, so the switch hold below is what decides, not the averaging. Release:
  // long enough to bridge the gaps between syllables, short enough to follow a turn.
  Duration attack = std::chrono::milliseconds(50);
  Duration release = std::chrono::milliseconds(300);
  // Louder than -60 dBov on average: speech (typically -20 to -40 dBov) with its pauses,
  // not a quiet room behind noise suppression. In -dBov, like the reports.
  uint8_t speech_level = 60;
  // 6 dB is twice the sound pressure: clearly louder, not just a different microphone gain.
  double switch_margin_db = 6.0;
  // Longer than a cough, an interjection or "mm-hm"; shorter than a sentence.
  Duration switch_hold = std::chrono::milliseconds(750);
  // Pauses while thinking keep the highlight; a speaker who stopped loses it.
  Duration silence_hold = std::chrono::seconds(2);
  // Audio packets carry a level every 20 ms, so this is ten missed packets. Short, because
  // until then a host's last level stands: a talker whose packets stop (track removed,
  // Opus DTX sending only every 400 ms while silent) must not keep winning for long.
  Duration stale_after = std::chrono::milliseconds(200);
};

class ActiveSpeaker {
 public:
  explicit ActiveSpeaker(SpeakerConfig config = {});

  std::optional<SpeakerChange> on_audio_level(std::string_view host, uint8_t level, Timestamp now);
  std::optional<SpeakerChange> on_tick(Timestamp now);
  // The host left: forget it; if it was the speaker, nobody speaks until the next takes over.
  std::optional<SpeakerChange> remove_host(std::string_view host);

  const std::optional<std::string>& speaker() const { return speaker_; }
  // The host's averaged loudness (dB above silence) at `now`; 0 when unknown or stale.
  double loudness(std::string_view host, Timestamp now) const;

 private:
  struct HostLevel {
    double loudness = 0;  // dB above the silence floor, the envelope
    Timestamp last_report{};
    std::optional<Timestamp> leading_since;  // louder than the speaker by the margin since
  };

  std::optional<SpeakerChange> evaluate(Timestamp now);
  // Updates every host's leading_since; returns the loudest host that has led long enough.
  std::optional<std::string> ready_challenger(Timestamp now);
  bool silence_expired(Timestamp now);
  std::optional<SpeakerChange> change_to(std::optional<std::string> next);
  double speech_loudness() const;

  SpeakerConfig config_;
  std::map<std::string, HostLevel, std::less<>> hosts_;
  std::optional<std::string> speaker_;
  std::optional<Timestamp> quiet_since_;  // when the speaker last fell below speech_level
};

}  // namespace strata::room
