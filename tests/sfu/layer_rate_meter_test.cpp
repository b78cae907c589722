// LayerRateMeter on fake time: a constant source reads at its rate whether the meter has
// seen it for 300 ms or for many windows, and again after a silence restarted it. (A young
// meter that divided by the whole window read layers several times cheaper than they are,
// so a new viewer's slot started on the top layer behind a 1 Mbit/s link.)
#include "sfu/layer_rate_meter.hpp"

#include <gtest/gtest.h>

#include "common/time.hpp"

namespace strata::sfu {
namespace {

using namespace std::chrono_literals;

// Feeds `bps` on spatial layer `layer` in 1000-byte packets for `d`, from `clock`'s now.
void feed(LayerRateMeter& m, FakeClock& clock, int layer, int64_t bps, Duration d) {
  const Duration gap = std::chrono::microseconds(int64_t{1000} * 8 * 1'000'000 / bps);
  const Timestamp end = clock.now() + d;
  while (clock.now() < end) {
    m.on_packet(layer, -1, 1000, clock.now());
    clock.advance(gap);
  }
}

TEST(LayerRateMeter, ReadsTheRateAtAnyAge) {
  struct Case {
    const char* name;
    Duration fed;
  };
  const Case cases[] = {{"120 ms", 120ms}, {"300 ms", 300ms}, {"1 s", 1s}, {"1.9 s", 1900ms}, {"10 s", 10s}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    LayerRateMeter m;
    feed(m, clock, 1, 500'000, c.fed);
    const auto r = m.rates(clock.now());
    EXPECT_NEAR(double(r[1][2]), 500'000.0, 500'000.0 * 0.15);
    EXPECT_EQ(r[0][2], 0);
  }
}

TEST(LayerRateMeter, StartsOverAfterASilence) {
  FakeClock clock;
  LayerRateMeter m;
  feed(m, clock, 2, 1'500'000, 5s);
  clock.advance(3s);  // the source paused (a host left, a layer stopped)
  feed(m, clock, 2, 200'000, 400ms);
  EXPECT_NEAR(double(m.rates(clock.now())[2][2]), 200'000.0, 200'000.0 * 0.2);
}

}  // namespace
}  // namespace strata::sfu
