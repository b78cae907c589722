// What a layer-selecting viewer session publishes about its layer choice, for
// /api/v1/streams. Written by the session's worker thread, read by the control plane:
// relaxed atomics, each value independent (a reader may see a mix of two updates).
#pragma once
#include <atomic>
#include <cstdint>

namespace strata::sfu {

struct ViewerLayerStats {
  std::atomic<int> current{-1};    // spatial layer being forwarded (-1: none yet)
  std::atomic<int> target{-1};     // spatial layer the selector wants
  std::atomic<int> requested{-1};  // the viewer's explicit maximum (-1: none, "auto")
  std::atomic<int> temporal{-1};   // highest temporal layer forwarded (-1: all)
  std::atomic<int64_t> estimate_bps{0};
  std::atomic<uint64_t> switches{0};
  std::atomic<uint64_t> probes{0};
};

}  // namespace strata::sfu
