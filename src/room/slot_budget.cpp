#include "room/slot_budget.hpp"

namespace strata::room {

namespace {

uint64_t weight_of(SlotKind kind, const BudgetConfig& config) {
  switch (kind) {
    case SlotKind::kEmpty: return 0;
    case SlotKind::kRegular: return config.regular_weight;
    case SlotKind::kFavored: return config.favored_weight;
  }
  return 0;
}

// floor(estimate * weight / total) without overflowing for any 64-bit estimate.
uint64_t share_of(uint64_t estimate, uint64_t weight, uint64_t total) {
  return estimate / total * weight + estimate % total * weight / total;
}

}  // namespace

std::vector<uint64_t> split_downlink(uint64_t estimate_bps, std::span<const SlotKind> slots,
                                     const BudgetConfig& config) {
  std::vector<uint64_t> shares(slots.size(), 0);
  uint64_t total = 0;
  size_t heaviest = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const uint64_t weight = weight_of(slots[i], config);
    total += weight;
    if (weight > weight_of(slots[heaviest], config)) heaviest = i;
  }
  if (total == 0) return shares;
  uint64_t given = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    shares[i] = share_of(estimate_bps, weight_of(slots[i], config), total);
    given += shares[i];
  }
  shares[heaviest] += estimate_bps - given;
  return shares;
}

}  // namespace strata::room
