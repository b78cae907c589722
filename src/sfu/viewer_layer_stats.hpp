// What a layer-selecting viewer session publishes about its layer choice, per slot, for
// /api/v1/streams and /api/v1/lives. Written by the session's worker thread, read by the
// control plane: relaxed atomics, each value independent (a reader may see a mix of two
// updates). The slot count is fixed when the session is created (one per video m-line).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace strata::sfu {

struct SlotLayerStats {
  std::atomic<int> current{-1};    // spatial layer being forwarded (-1: none yet)
  std::atomic<int> target{-1};     // spatial layer the selector wants
  std::atomic<int> requested{-1};  // the viewer's explicit maximum (-1: none, "auto")
  std::atomic<int> temporal{-1};   // highest temporal layer forwarded (-1: all)
  std::atomic<uint64_t> switches{0};
  std::atomic<int64_t> share_bps{0};  // the slot's share of the estimate (for video)
  std::atomic<int64_t> layer_bps{0};  // measured rate of the layer forwarded now
};

struct ViewerLayerStats {
  explicit ViewerLayerStats(size_t slot_count = 1) : slots(slot_count) {}

  // Slot `i`, or nullptr past the end (a reader must not assume the sizes agree).
  SlotLayerStats* slot(size_t i) { return i < slots.size() ? &slots[i] : nullptr; }
  const SlotLayerStats* slot(size_t i) const { return i < slots.size() ? &slots[i] : nullptr; }

  std::vector<SlotLayerStats> slots;  // sized once: never reallocated while shared
  std::atomic<int64_t> estimate_bps{0};
  std::atomic<uint64_t> probes{0};
};

}  // namespace strata::sfu
