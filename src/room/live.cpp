#include "room/live.hpp"

#include <algorithm>

namespace strata::room {

Live::Live(std::string name, const Config& config)
    : name_(std::move(name)), config_(config), speaker_(config.speaker) {}

Result<Changes> Live::add_host(std::string_view host, SessionId session, Timestamp now) {
  if (auto error = check_new_host(host)) return *std::move(error);
  hosts_.push_back({std::string(host), session, now});
  Changes out = changes();
  out.hosts.push_back({HostChange::Kind::kJoined, hosts_.back()});
  refill_viewers(std::nullopt, out);
  return out;
}

Changes Live::remove_host(SessionId session) {
  auto it = find_host(session);
  if (it == hosts_.end()) return {};
  Changes out = changes();
  out.hosts.push_back({HostChange::Kind::kLeft, *it});
  const std::string name = it->name;
  hosts_.erase(it);
  out.speaker = speaker_.remove_host(name);
  refill_viewers(name, out);
  return out;
}

Result<Changes> Live::add_viewer(SessionId viewer, size_t slot_count, ViewerFilter filter) {
  if (auto error = check_new_viewer(slot_count, filter)) return *std::move(error);
  auto& slots = viewers_.try_emplace(viewer, std::move(filter), slot_count).first->second;
  const Slots before = slots.slots();
  slots.fill(hosts_);
  Changes out = changes();
  append_slot_changes(viewer, before, slots.slots(), out.slots);
  return out;
}

Changes Live::remove_viewer(SessionId viewer) {
  auto it = viewers_.find(viewer);
  if (it == viewers_.end()) return {};
  Changes out = changes();
  append_slot_changes(viewer, it->second.slots(), Slots(it->second.slots().size()), out.slots);
  viewers_.erase(it);
  return out;
}

std::optional<SpeakerChange> Live::on_audio_level(std::string_view host, uint8_t level, Timestamp now) {
  // A late report from a host that already left must not bring it back as the speaker.
  if (!host_is_live(host)) return std::nullopt;
  return speaker_.on_audio_level(host, level, now);
}

std::vector<SlotKind> Live::slot_kinds(SessionId viewer) const {
  auto it = viewers_.find(viewer);
  if (it == viewers_.end()) return {};
  const bool pinned = it->second.filter().kind == ViewerFilter::Kind::kOnly;
  std::vector<SlotKind> kinds;
  for (const auto& slot : it->second.slots()) {
    if (!slot) kinds.push_back(SlotKind::kEmpty);
    else if (pinned || slot == speaker_.speaker()) kinds.push_back(SlotKind::kFavored);
    else kinds.push_back(SlotKind::kRegular);
  }
  return kinds;
}

LiveSnapshot Live::snapshot() const {
  LiveSnapshot s{name_, hosts_, viewers_.size(), {}, speaker_.speaker()};
  for (const auto& [id, slots] : viewers_) s.viewers.push_back({id, slots.filter(), slots.slots()});
  return s;
}

std::vector<HostEntry>::const_iterator Live::find_host(SessionId session) const {
  return std::find_if(hosts_.begin(), hosts_.end(), [&](const HostEntry& h) { return h.session == session; });
}

std::optional<Error> Live::check_new_host(std::string_view host) const {
  if (!valid_host_name(host))
    return Error{ErrorCode::kBadHostName, "host name must be 1 to 64 of A-Z a-z 0-9 _ -"};
  if (host_is_live(host))
    return Error{ErrorCode::kHostTaken, "host '" + std::string(host) + "' is already live in '" + name_ + "'"};
  if (hosts_.size() >= config_.max_hosts)
    return Error{ErrorCode::kTooManyHosts,
                 "live '" + name_ + "' already has " + std::to_string(hosts_.size()) + " hosts, the most it takes"};
  return std::nullopt;
}

std::optional<Error> Live::check_new_viewer(size_t slot_count, const ViewerFilter& filter) const {
  if (slot_count == 0 || slot_count > config_.max_slots)
    return Error{ErrorCode::kBadSlotCount, "a viewer has 1 to " + std::to_string(config_.max_slots) +
                                               " video slots; the offer has " + std::to_string(slot_count)};
  if (filter.kind != ViewerFilter::Kind::kAll && !valid_host_name(filter.host))
    return Error{ErrorCode::kBadHostName, "host name must be 1 to 64 of A-Z a-z 0-9 _ -"};
  // Watching one host that is not there is most likely a typo; excluding one that is not
  // there yet is normal (a host's own viewer session may start before its WHIP session).
  if (filter.kind == ViewerFilter::Kind::kOnly && !host_is_live(filter.host))
    return Error{ErrorCode::kUnknownHost, "host '" + filter.host + "' is not live in '" + name_ + "'"};
  return std::nullopt;
}

bool Live::host_is_live(std::string_view host) const {
  return std::any_of(hosts_.begin(), hosts_.end(), [&](const HostEntry& h) { return h.name == host; });
}

void Live::refill_viewers(std::optional<std::string_view> leaving, Changes& changes) {
  for (auto& [id, slots] : viewers_) {
    const Slots before = slots.slots();
    if (leaving) slots.clear(*leaving);
    slots.fill(hosts_);
    append_slot_changes(id, before, slots.slots(), changes.slots);
  }
}

Changes Live::changes() const {
  Changes out;
  out.live = name_;
  return out;
}

}  // namespace strata::room
