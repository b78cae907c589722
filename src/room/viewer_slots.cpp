#include "room/viewer_slots.hpp"

#include <algorithm>

namespace strata::room {

ViewerSlots::ViewerSlots(ViewerFilter filter, size_t slot_count)
    : filter_(std::move(filter)), slots_(slot_count) {}

void ViewerSlots::fill(const std::vector<HostEntry>& hosts) {
  for (auto& slot : slots_) {
    if (slot) continue;
    const HostEntry* next = next_unshown(hosts);
    if (!next) return;  // every admitted host is shown
    slot = next->name;
  }
}

void ViewerSlots::clear(std::string_view name) {
  for (auto& slot : slots_) {
    if (slot && *slot == name) slot.reset();
  }
}

bool ViewerSlots::shows(std::string_view name) const {
  return std::any_of(slots_.begin(), slots_.end(), [&](const auto& slot) { return slot && *slot == name; });
}

const HostEntry* ViewerSlots::next_unshown(const std::vector<HostEntry>& hosts) const {
  for (const auto& host : hosts) {
    if (filter_.admits(host.name) && !shows(host.name)) return &host;
  }
  return nullptr;
}

void append_slot_changes(SessionId viewer, const Slots& before, const Slots& after, std::vector<SlotChange>& out) {
  for (size_t i = 0; i < after.size(); ++i) {
    const std::optional<std::string> previous = i < before.size() ? before[i] : std::nullopt;
    if (previous != after[i]) out.push_back({viewer, i, previous, after[i]});
  }
  for (size_t i = after.size(); i < before.size(); ++i) {
    if (before[i]) out.push_back({viewer, i, before[i], std::nullopt});
  }
}

}  // namespace strata::room
