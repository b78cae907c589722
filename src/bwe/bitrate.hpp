// Shared vocabulary of the downlink bandwidth estimator.
#pragma once
#include <cstdint>

namespace strata::bwe {

using Bitrate = int64_t;  // bits per second

// Output of the delay-based overuse detector (libwebrtc's BandwidthUsage).
enum class BandwidthUsage : uint8_t { kNormal, kOverusing, kUnderusing };

inline const char* to_string(BandwidthUsage u) {
  switch (u) {
    case BandwidthUsage::kOverusing: return "overuse";
    case BandwidthUsage::kUnderusing: return "underuse";
    case BandwidthUsage::kNormal: break;
  }
  return "normal";
}

}  // namespace strata::bwe
