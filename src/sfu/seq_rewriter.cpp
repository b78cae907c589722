#include "sfu/seq_rewriter.hpp"

#include <algorithm>
#include <bit>

#include "sfu/seq_math.hpp"

namespace strata::sfu {

SeqRewriter::SeqRewriter(uint32_t clock_rate, uint16_t window)
    : clock_rate_(clock_rate), window_(std::bit_ceil(std::clamp<uint16_t>(window, 16, kWindow))) {}

std::optional<SeqRewriter::Output> SeqRewriter::rewrite(uint16_t in_seq, uint32_t in_ts, Timestamp now,
                                                        bool source_switch, bool retime) {
  if (!started_) {
    start(in_seq);
  } else if (source_switch) {
    switch_source(in_seq, in_ts, now);
  }
  const int distance = seq_diff(in_seq, highest_in_);
  if (distance <= 0) return rewrite_older(in_seq, in_ts, distance);
  if (retime && !source_switch && in_ts != last_in_ts_ && last_out_time_ != Timestamp{}) continue_timestamp(in_ts, now);

  advance_input(in_seq, distance);
  highest_out_ = uint16_t(highest_out_ + 1);
  slot(in_seq) = Slot{in_seq, highest_out_, SlotState::kUsed};
  last_out_ts_ = in_ts + ts_offset_;
  last_in_ts_ = in_ts;
  last_out_time_ = now;
  return Output{highest_out_, last_out_ts_};
}

void SeqRewriter::drop(uint16_t in_seq) {
  if (!started_) return;  // nothing sent yet: the first forwarded packet sets the base
  const int distance = seq_diff(in_seq, highest_in_);
  if (distance > 0) {
    advance_input(in_seq, distance);
    slot(in_seq) = Slot{in_seq, 0, SlotState::kUsed};  // consumed, no output number
    return;
  }
  Slot& s = slot(in_seq);
  if (-distance < window() && s.in == in_seq && s.state == SlotState::kReserved) s.state = SlotState::kUsed;
}

void SeqRewriter::start(uint16_t in_seq) {
  // The first packet passes through unchanged; everything after is relative to it.
  started_ = true;
  highest_in_ = uint16_t(in_seq - 1);
  highest_out_ = uint16_t(in_seq - 1);
  ts_offset_ = 0;
  clear_window();
}

void SeqRewriter::continue_timestamp(uint32_t in_ts, Timestamp now) {
  // The wall time since the last output packet, so the viewer's jitter buffer and A/V sync
  // see real elapsed time; never repeat the last timestamp, which would merge two frames.
  const int64_t elapsed_us = std::max<int64_t>(0, (now - last_out_time_).count());
  const int64_t ticks = std::max<int64_t>(1, elapsed_us * clock_rate_ / 1'000'000);
  ts_offset_ = uint32_t(last_out_ts_ + uint32_t(ticks) - in_ts);
}

void SeqRewriter::switch_source(uint16_t in_seq, uint32_t in_ts, Timestamp now) {
  continue_timestamp(in_ts, now);
  highest_in_ = uint16_t(in_seq - 1);  // the new source's numbers start right after our last
  clear_window();
}

void SeqRewriter::advance_input(uint16_t in_seq, int distance) {
  if (distance >= window()) {
    clear_window();  // everything reserved so far is now outside the reorder window
  } else {
    for (int k = 1; k < distance; ++k) {
      const uint16_t skipped = uint16_t(highest_in_ + k);
      slot(skipped) = Slot{skipped, uint16_t(highest_out_ + k), SlotState::kReserved};
    }
  }
  // Skipped inputs keep their output numbers (a gap the viewer can NACK).
  highest_out_ = uint16_t(highest_out_ + distance - 1);
  highest_in_ = in_seq;
}

std::optional<SeqRewriter::Output> SeqRewriter::rewrite_older(uint16_t in_seq, uint32_t in_ts, int distance) {
  Slot& s = slot(in_seq);
  if (-distance >= window() || s.in != in_seq || s.state == SlotState::kEmpty) {
    ++too_old_;
    return std::nullopt;
  }
  if (s.state == SlotState::kUsed) {
    ++duplicates_;
    return std::nullopt;
  }
  s.state = SlotState::kUsed;
  return Output{s.out, in_ts + ts_offset_};
}

void SeqRewriter::clear_window() { std::fill(window_.begin(), window_.end(), Slot{}); }

}  // namespace strata::sfu
