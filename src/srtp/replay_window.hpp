// Sliding replay window over packet indices (RFC 3711 §3.3.2) and the SRTP packet index
// estimate (§3.3.1). The window's highest index doubles as the receiver's ROC || s_l.
#pragma once
#include <cstdint>

namespace strata::srtp {

enum class ReplayCheck { kNew, kReplayed, kTooOld };

class ReplayWindow {
 public:
  // 128 packets, like libsrtp's default; RFC 3711 asks for at least 64.
  static constexpr uint64_t kSize = 128;

  bool empty() const { return !any_; }
  uint64_t highest() const { return highest_; }

  ReplayCheck check(uint64_t index) const {
    if (!any_ || index > highest_) return ReplayCheck::kNew;
    const uint64_t behind = highest_ - index;
    if (behind >= kSize) return ReplayCheck::kTooOld;
    return (mask_ >> behind) & 1 ? ReplayCheck::kReplayed : ReplayCheck::kNew;
  }

  // Records an index that authenticated (receiver) or was sent (sender).
  void add(uint64_t index) {
    if (!any_) {
      any_ = true;
      highest_ = index;
      mask_ = 1;
    } else if (index > highest_) {
      const uint64_t ahead = index - highest_;
      mask_ = ahead >= kSize ? 0 : mask_ << ahead;
      mask_ |= 1;
      highest_ = index;
    } else if (highest_ - index < kSize) {
      mask_ |= Mask(1) << (highest_ - index);
    }
  }

  // §3.3.1: the 48-bit index i = 2^16 * v + SEQ, where v is ROC-1, ROC or ROC+1 chosen
  // so that i is closest to the highest index seen (ROC || s_l). Before any packet the
  // ROC is 0. A guess of ROC-1 while ROC is 0 is taken as ROC 0, as libsrtp does.
  uint64_t estimate_rtp_index(uint16_t seq) const {
    if (!any_) return seq;
    const uint64_t roc = highest_ >> 16;
    const uint32_t s_l = uint32_t(highest_ & 0xffff);
    uint64_t v = roc;
    if (s_l < 0x8000) {
      if (seq > s_l && seq - s_l > 0x8000 && roc > 0) v = roc - 1;
    } else if (s_l - 0x8000 > seq) {
      v = roc + 1;
    }
    return (v << 16) | seq;
  }

 private:
  using Mask = unsigned __int128;
  uint64_t highest_ = 0;
  Mask mask_ = 0;
  bool any_ = false;
};

}  // namespace strata::srtp
