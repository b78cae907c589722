#include "room/live_directory.hpp"

namespace strata::room {

namespace {

Error session_in_use_error(SessionId session) {
  return Error{ErrorCode::kSessionInUse, "session " + std::to_string(session) + " is already a host or a viewer"};
}

}  // namespace

LiveDirectory::LiveDirectory(Config config) : config_(std::move(config)) {}

Result<Changes> LiveDirectory::add_host(std::string_view live, std::string_view host, SessionId session,
                                        Timestamp now) {
  if (session_in_use(session)) return session_in_use_error(session);
  Result<Changes> result = live_for(live).add_host(host, session, now);
  if (std::holds_alternative<Changes>(result)) host_lives_.emplace(session, std::string(live));
  else close_if_empty(std::string(live), nullptr);
  return result;
}

Changes LiveDirectory::remove_host(SessionId session) {
  auto it = host_lives_.find(session);
  if (it == host_lives_.end()) return {};
  const std::string live = std::move(it->second);
  host_lives_.erase(it);
  Changes changes = lives_.find(live)->second.remove_host(session);
  close_if_empty(live, &changes);
  return changes;
}

Result<Changes> LiveDirectory::add_viewer(std::string_view live, SessionId viewer, size_t slot_count,
                                          ViewerFilter filter) {
  if (session_in_use(viewer)) return session_in_use_error(viewer);
  Result<Changes> result = live_for(live).add_viewer(viewer, slot_count, std::move(filter));
  if (std::holds_alternative<Changes>(result)) viewer_lives_.emplace(viewer, std::string(live));
  else close_if_empty(std::string(live), nullptr);
  return result;
}

Changes LiveDirectory::remove_viewer(SessionId viewer) {
  auto it = viewer_lives_.find(viewer);
  if (it == viewer_lives_.end()) return {};
  const std::string live = std::move(it->second);
  viewer_lives_.erase(it);
  Changes changes = lives_.find(live)->second.remove_viewer(viewer);
  close_if_empty(live, &changes);
  return changes;
}

std::optional<SpeakerChange> LiveDirectory::on_audio_level(std::string_view live, std::string_view host,
                                                           uint8_t level, Timestamp now) {
  auto it = lives_.find(live);
  if (it == lives_.end()) return std::nullopt;
  return it->second.on_audio_level(host, level, now);
}

std::vector<Changes> LiveDirectory::on_tick(Timestamp now) {
  std::vector<Changes> out;
  for (auto& [name, live] : lives_) {
    if (auto speaker = live.on_tick(now)) {
      Changes changes;
      changes.live = name;
      changes.speaker = std::move(speaker);
      out.push_back(std::move(changes));
    }
  }
  return out;
}

std::optional<LiveSnapshot> LiveDirectory::snapshot(std::string_view live) const {
  auto it = lives_.find(live);
  if (it == lives_.end()) return std::nullopt;
  return it->second.snapshot();
}

size_t LiveDirectory::viewer_count(std::string_view live) const {
  auto it = lives_.find(live);
  return it == lives_.end() ? 0 : it->second.viewer_count();
}

std::vector<std::string> LiveDirectory::lives() const {
  std::vector<std::string> names;
  for (const auto& [name, live] : lives_) names.push_back(name);
  return names;
}

std::optional<std::vector<SlotKind>> LiveDirectory::slot_kinds(SessionId viewer) const {
  auto it = viewer_lives_.find(viewer);
  if (it == viewer_lives_.end()) return std::nullopt;
  return lives_.find(it->second)->second.slot_kinds(viewer);
}

bool LiveDirectory::session_in_use(SessionId session) const {
  return host_lives_.contains(session) || viewer_lives_.contains(session);
}

Live& LiveDirectory::live_for(std::string_view live) {
  auto it = lives_.find(live);
  if (it == lives_.end()) it = lives_.emplace(std::string(live), Live(std::string(live), config_)).first;
  return it->second;
}

void LiveDirectory::close_if_empty(const std::string& live, Changes* changes) {
  auto it = lives_.find(live);
  if (it == lives_.end() || !it->second.empty()) return;
  lives_.erase(it);
  if (changes) changes->live_closed = true;
}

}  // namespace strata::room
