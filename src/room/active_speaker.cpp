#include "room/active_speaker.hpp"

#include <algorithm>
#include <cmath>

namespace strata::room {

namespace {
constexpr double kSilenceLevel = 127.0;  // RFC 6464: -127 dBov, digital silence
}  // namespace

ActiveSpeaker::ActiveSpeaker(SpeakerConfig config) : config_(config) {}

std::optional<SpeakerChange> ActiveSpeaker::on_audio_level(std::string_view host, uint8_t level, Timestamp now) {
  const double sample = kSilenceLevel - std::min<double>(level, kSilenceLevel);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) {
    // The first report, like one after a long gap, is the average: nothing to blend with.
    hosts_.emplace(std::string(host), HostLevel{sample, now, std::nullopt});
  } else if (now > it->second.last_report) {
    const Duration tau = sample > it->second.loudness ? config_.attack : config_.release;
    const double dt = double((now - it->second.last_report).count());
    const double weight = 1.0 - std::exp(-dt / double(tau.count()));
    it->second.loudness += weight * (sample - it->second.loudness);
    it->second.last_report = now;
  }
  return evaluate(now);
}

std::optional<SpeakerChange> ActiveSpeaker::on_tick(Timestamp now) { return evaluate(now); }

std::optional<SpeakerChange> ActiveSpeaker::remove_host(std::string_view host) {
  auto it = hosts_.find(host);
  if (it != hosts_.end()) hosts_.erase(it);
  if (speaker_ != host) return std::nullopt;
  return change_to(std::nullopt);
}

double ActiveSpeaker::loudness(std::string_view host, Timestamp now) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end() || now - it->second.last_report > config_.stale_after) return 0.0;
  return it->second.loudness;
}

double ActiveSpeaker::speech_loudness() const { return kSilenceLevel - double(config_.speech_level); }

std::optional<SpeakerChange> ActiveSpeaker::evaluate(Timestamp now) {
  // A ready challenger wins over going silent: a handover beats a gap with nobody.
  if (auto challenger = ready_challenger(now)) return change_to(std::move(challenger));
  if (silence_expired(now)) return change_to(std::nullopt);
  return std::nullopt;
}

std::optional<std::string> ActiveSpeaker::ready_challenger(Timestamp now) {
  const double speaker_loudness = speaker_ ? loudness(*speaker_, now) : 0.0;
  const double needed = std::max(speech_loudness(), speaker_loudness + config_.switch_margin_db);
  std::optional<std::string> best;
  double best_loudness = 0;
  for (auto& [name, level] : hosts_) {
    const double l = loudness(name, now);
    if (name == speaker_ || l < needed) {
      level.leading_since.reset();
      continue;
    }
    if (!level.leading_since) level.leading_since = now;
    if (now - *level.leading_since >= config_.switch_hold && (!best || l > best_loudness)) {
      best = name;
      best_loudness = l;
    }
  }
  return best;
}

bool ActiveSpeaker::silence_expired(Timestamp now) {
  if (!speaker_ || loudness(*speaker_, now) >= speech_loudness()) {
    quiet_since_.reset();
    return false;
  }
  if (!quiet_since_) quiet_since_ = now;
  return now - *quiet_since_ >= config_.silence_hold;
}

// Every host's lead was measured against the old speaker; against the new one it starts over.
std::optional<SpeakerChange> ActiveSpeaker::change_to(std::optional<std::string> next) {
  SpeakerChange change{speaker_, next};
  speaker_ = std::move(next);
  for (auto& [name, level] : hosts_) level.leading_since.reset();
  quiet_since_.reset();
  return change;
}

}  // namespace strata::room
