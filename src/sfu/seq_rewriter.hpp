// Output sequence numbers and RTP timestamps for one consumer (viewer), so the viewer sees
// a single continuous RTP stream even when the source behind it changes (a producer
// restarting with a new SSRC, a simulcast layer switch) or when the SFU filters packets
// out. Same job as mediasoup's SeqManager, plus timestamp continuity.
//
// Rules:
// * In-order input advances the output by the same distance (gaps in the input stay gaps,
//   so the viewer can NACK them).
// * Reordered input within kWindow maps to the output number reserved for it.
// * Duplicates and packets older than the window (or from before the last source switch)
//   are rejected (nullopt).
// * drop(seq) consumes an input number without output: later packets shift down by one so
//   the viewer sees no hole. Dropping an *older* (reordered) number cannot renumber
//   packets already sent, so its reserved output number stays a hole.
// * source_switch=true on the first forwarded packet of a new source: output seq continues
//   at last+1 and the timestamp at last + elapsed wall time * clock rate (at least +1).
//   drop() applies to the current source only: don't call it for packets of a new source
//   before that first switched packet.
// * retime=true (a replay of a cached group of pictures, sent faster than real time): each
//   new frame's timestamp continues from the last one by the wall time since it, as on a
//   source switch, so the viewer plays the group as fast-forward that ends at "now" and
//   its A/V sync (RTCP SR maps our timestamps to send time) stays true. Live packets after
//   the replay continue from the last replayed frame at the source's own pace.
#pragma once
#include <array>
#include <vector>
#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace strata::sfu {

class SeqRewriter {
 public:
  struct Output {
    uint16_t seq;
    uint32_t ts;
  };
  // Reorder tolerance, in input sequence numbers: a host retransmission 0.6 s late at 800
  // packets/s still finds its reserved number; 3 KB per consumer (memory per viewer).
  static constexpr uint16_t kWindow = 512;

  // `window`: the reorder tolerance, a power of two up to kWindow (an audio track at 50
  // packets/s needs far less than video).
  explicit SeqRewriter(uint32_t clock_rate, uint16_t window = kWindow);

  std::optional<Output> rewrite(uint16_t in_seq, uint32_t in_ts, Timestamp now, bool source_switch = false,
                                bool retime = false);
  void drop(uint16_t in_seq);

  bool started() const { return started_; }
  uint16_t last_output_seq() const { return highest_out_; }
  uint32_t last_output_ts() const { return last_out_ts_; }
  uint64_t rejected_duplicates() const { return duplicates_; }
  uint64_t rejected_too_old() const { return too_old_; }

 private:
  enum class SlotState : uint8_t { kEmpty, kReserved, kUsed };
  struct Slot {
    uint16_t in = 0;
    uint16_t out = 0;
    SlotState state = SlotState::kEmpty;
  };

  void start(uint16_t in_seq);
  void switch_source(uint16_t in_seq, uint32_t in_ts, Timestamp now);
  // out(in_ts) = last output timestamp + wall time since it (at least one tick).
  void continue_timestamp(uint32_t in_ts, Timestamp now);
  // Moves highest_in_ forward by `distance`, reserving outputs for skipped inputs.
  void advance_input(uint16_t in_seq, int distance);
  std::optional<Output> rewrite_older(uint16_t in_seq, uint32_t in_ts, int distance);
  void clear_window();
  Slot& slot(uint16_t seq) { return window_[seq & (window_.size() - 1)]; }
  int window() const { return int(window_.size()); }

  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t highest_in_ = 0;
  uint16_t highest_out_ = 0;
  uint32_t ts_offset_ = 0;  // out_ts = in_ts + ts_offset_ (mod 2^32)
  uint32_t last_out_ts_ = 0;
  uint32_t last_in_ts_ = 0;  // of the highest input forwarded
  Timestamp last_out_time_{};
  uint64_t duplicates_ = 0;
  uint64_t too_old_ = 0;
  std::vector<Slot> window_;
};

}  // namespace strata::sfu
