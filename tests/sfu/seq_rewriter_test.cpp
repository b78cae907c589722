#include "sfu/seq_rewriter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

struct Step {
  enum Kind { kRewrite, kDrop } kind;
  uint16_t in_seq;
  uint32_t in_ts = 0;
  Duration advance{0};  // applied to the clock before the step
  bool source_switch = false;
  std::optional<uint16_t> want_seq = std::nullopt;  // nullopt: rejected
  std::optional<uint32_t> want_ts = std::nullopt;   // checked when set
};

Step rw(uint16_t seq, uint32_t ts, std::optional<uint16_t> want, std::optional<uint32_t> want_ts = std::nullopt,
        Duration advance = 0ms, bool sw = false) {
  return Step{Step::kRewrite, seq, ts, advance, sw, want, want_ts};
}
Step drop(uint16_t seq) { return Step{Step::kDrop, seq}; }

void run(const char* name, uint32_t clock_rate, const std::vector<Step>& steps) {
  SeqRewriter r(clock_rate);
  FakeClock clock;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    clock.advance(s.advance);
    if (s.kind == Step::kDrop) {
      r.drop(s.in_seq);
      continue;
    }
    auto out = r.rewrite(s.in_seq, s.in_ts, clock.now(), s.source_switch);
    ASSERT_EQ(out.has_value(), s.want_seq.has_value()) << name << " step " << i << " in " << s.in_seq;
    if (!out) continue;
    EXPECT_EQ(out->seq, *s.want_seq) << name << " step " << i;
    if (s.want_ts) {
      EXPECT_EQ(out->ts, *s.want_ts) << name << " step " << i;
    }
  }
}

TEST(SeqRewriter, WrapReorderDuplicatesAndDrops) {
  run("wrap", 90000,
      {
          rw(65533, 1000, 65533, 1000),
          rw(65534, 1000, 65534),
          rw(65535, 4000, 65535, 4000),
          rw(0, 4000, 0),
          rw(2, 7000, 2),         // 1 is missing: its output number stays reserved
          rw(1, 4000, 1, 4000),   // late packet gets the reserved number
          rw(1, 4000, std::nullopt),  // duplicate
          rw(2, 7000, std::nullopt),  // duplicate of the highest
          drop(3),
          rw(4, 7000, 3),         // no hole after the filtered packet
          rw(65000, 1, std::nullopt),  // far too old
          drop(5),
          drop(6),
          rw(7, 10000, 4),
      });
}

TEST(SeqRewriter, DropsAcrossWrap) {
  run("drops", 48000,
      {
          rw(65534, 0, 65534),
          drop(65535),
          rw(0, 960, 65535),
          drop(1),
          drop(2),
          rw(3, 1920, 0),
          rw(5, 2880, 2),  // 4 missing: gap kept for NACK
          drop(4),         // late and filtered: hole at 1 cannot be closed
          rw(4, 2880, std::nullopt),
          rw(6, 3840, 3),
      });
}

TEST(SeqRewriter, SourceSwitchContinuesSeqAndTimestamp) {
  run("switch", 90000,
      {
          rw(100, 5000, 100, 5000),
          rw(101, 8000, 101, 8000),
          // New source 100 ms later: ts = 8000 + 0.1 s * 90000.
          rw(40000, 123456789, 102, 17000, 100ms, true),
          rw(40001, 123459789, 103, 20000, 33ms),
          rw(39999, 123453789, std::nullopt),  // from before the switch point
          rw(40003, 123462789, 105, 23000),
          rw(40002, 123459789, 104, 20000),
          // Switch with no time elapsed still advances the timestamp by one tick.
          rw(7, 50, 106, 23001, 0ms, true),
          // Switch back to an input number the old source had used: window was cleared.
          rw(40004, 0, 107, 23001 + 9000, 100ms, true),
      });
}

TEST(SeqRewriter, TimestampWrapsOnSwitch) {
  run("tswrap", 90000,
      {
          rw(10, 0xFFFFFF00u, 10, 0xFFFFFF00u),
          rw(500, 42, 11, 0xFFFFFF00u + 900u, 10ms, true),  // wraps to 0x284
          rw(501, 42 + 3000, 12, 0x284u + 3000u, 33ms),
      });
}

TEST(SeqRewriter, LargeForwardJumpKeepsDistanceAndClearsWindow) {
  run("jump", 90000,
      {
          rw(10, 0, 10),
          rw(5000, 0, 5000),
          rw(11, 0, std::nullopt),  // 4989 behind: outside the reorder window
          rw(5001, 0, 5001),
      });
}

TEST(SeqRewriter, FirstCallWithSwitchFlagJustStarts) {
  run("first", 90000, {rw(1234, 99, 1234, 99, 0ms, true), rw(1235, 99, 1235, 99)});
}

TEST(SeqRewriter, DropBeforeStartIsIgnored) {
  run("early drop", 90000, {drop(5), rw(6, 0, 6), rw(7, 0, 7)});
}

TEST(SeqRewriter, ShuffledDeliveryAcrossWrapMapsIdentically) {
  std::vector<uint16_t> order;
  for (uint32_t i = 0; i < 4000; ++i) order.push_back(uint16_t(63000 + i));
  std::mt19937 rng(7);
  for (size_t i = 1; i + 8 <= order.size(); i += 8) std::shuffle(order.begin() + i, order.begin() + i + 8, rng);
  SeqRewriter r(90000);
  FakeClock clock;
  for (uint16_t seq : order) {
    auto out = r.rewrite(seq, seq * 10u, clock.now(), false);
    ASSERT_TRUE(out) << seq;
    EXPECT_EQ(out->seq, seq);
    EXPECT_EQ(out->ts, uint32_t(seq * 10u));
  }
  EXPECT_EQ(r.rejected_duplicates(), 0u);
  EXPECT_EQ(r.rejected_too_old(), 0u);
}

}  // namespace
}  // namespace strata::sfu
