// One viewer's slots and the policy that fills them. The policy is chosen for stability:
// a browser has bound each slot (m-line) to a video element, so a host already shown never
// moves to another slot; only empty slots are filled, lowest index first, with the admitted
// hosts not shown yet, in join order. Filling eagerly keeps an invariant the rest relies on:
// while a slot is empty, every admitted host is shown. Hence a host joining lands in the
// lowest empty slot, and a host leaving hands its slot to the next unshown host.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "room/changes.hpp"
#include "room/room_types.hpp"

namespace strata::room {

using Slots = std::vector<std::optional<std::string>>;

class ViewerSlots {
 public:
  ViewerSlots(ViewerFilter filter, size_t slot_count);

  // Fills the empty slots from `hosts` (join order) as described above.
  void fill(const std::vector<HostEntry>& hosts);
  // Empties the slot showing `name` (that host left); fill() afterwards hands it on.
  void clear(std::string_view name);

  bool shows(std::string_view name) const;
  const Slots& slots() const { return slots_; }
  const ViewerFilter& filter() const { return filter_; }

 private:
  const HostEntry* next_unshown(const std::vector<HostEntry>& hosts) const;

  ViewerFilter filter_;
  Slots slots_;
};

// The slot changes from `before` to `after` of one viewer, in slot order.
void append_slot_changes(SessionId viewer, const Slots& before, const Slots& after, std::vector<SlotChange>& out);

}  // namespace strata::room
