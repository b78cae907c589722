// Splits a viewer's downlink estimate (bits/s, from bwe::DownlinkEstimator) across its
// slots, so each slot's LayerSelector picks a layer that fits its share. A favored slot
// (pinned by the viewer, or showing the active speaker) is usually drawn larger, so it gets
// weight 2 against 1: with simulcast layers about 2–3× apart in bitrate, that is roughly
// one layer higher than the others at the same estimate. Empty slots carry no media and get
// nothing. Shares are rounded down and the rounding remainder goes to the first slot of the
// highest weight, so the shares add up to exactly the estimate (never more).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace strata::room {

enum class SlotKind { kEmpty, kRegular, kFavored };

struct BudgetConfig {
  uint32_t regular_weight = 1;
  uint32_t favored_weight = 2;
};

// One share per slot, in slot order; all zero when every slot is empty.
std::vector<uint64_t> split_downlink(uint64_t estimate_bps, std::span<const SlotKind> slots,
                                     const BudgetConfig& config = {});

}  // namespace strata::room
