// split_downlink: shares by weight, nothing for empty slots, never more than the estimate.
#include "room/slot_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace strata::room {
namespace {

using K = SlotKind;

TEST(SplitDownlink, Table) {
  struct Case {
    uint64_t estimate;
    std::vector<K> slots;
    std::vector<uint64_t> want;
  };
  const Case cases[] = {
      {1'000'000, {K::kRegular, K::kRegular}, {500'000, 500'000}},
      {1'200'000, {K::kFavored, K::kRegular, K::kRegular}, {600'000, 300'000, 300'000}},
      {1'000'000, {K::kRegular, K::kEmpty, K::kFavored}, {333'333, 0, 666'667}},  // remainder to the favored
      {7, {K::kRegular, K::kRegular, K::kRegular}, {3, 2, 2}},                       // remainder to the first
      {1'000'000, {K::kEmpty, K::kRegular}, {0, 1'000'000}},
      {1'000'000, {K::kEmpty, K::kEmpty}, {0, 0}},
      {0, {K::kFavored, K::kRegular}, {0, 0}},
      {1'000'000, {}, {}},
      {UINT64_MAX, {K::kFavored, K::kRegular, K::kRegular}, {UINT64_MAX / 4 * 2 + 3, UINT64_MAX / 4, UINT64_MAX / 4}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(split_downlink(c.estimate, c.slots), c.want) << c.estimate << " over " << c.slots.size();
  }
}

TEST(SplitDownlink, CustomWeights) {
  const std::vector<K> slots{K::kFavored, K::kRegular};
  EXPECT_EQ(split_downlink(800, slots, BudgetConfig{1, 3}), (std::vector<uint64_t>{600, 200}));
  EXPECT_EQ(split_downlink(800, slots, BudgetConfig{1, 1}), (std::vector<uint64_t>{400, 400}));
}

// Every mix of up to 6 slots and many estimates: the shares add up to the estimate when a
// slot is active (zero otherwise), empty slots get 0, a favored slot never gets less than a
// regular one, and regular slots are equal up to the remainder.
TEST(SplitDownlink, PropertiesOverAllMixes) {
  for (size_t n = 1; n <= 6; ++n) {
    size_t mixes = 1;
    for (size_t i = 0; i < n; ++i) mixes *= 3;
    for (size_t mix = 0; mix < mixes; ++mix) {
      std::vector<K> slots;
      for (size_t i = 0, m = mix; i < n; ++i, m /= 3) slots.push_back(K(m % 3));
      const bool active = std::any_of(slots.begin(), slots.end(), [](K k) { return k != K::kEmpty; });
      for (uint64_t estimate : {0ull, 1ull, 5ull, 99'999ull, 2'500'000ull, 1ull << 40}) {
        const auto shares = split_downlink(estimate, slots);
        ASSERT_EQ(shares.size(), n);
        EXPECT_EQ(std::accumulate(shares.begin(), shares.end(), uint64_t{0}), active ? estimate : 0);
        uint64_t min_favored = UINT64_MAX, max_regular = 0, min_regular = UINT64_MAX;
        for (size_t i = 0; i < n; ++i) {
          if (slots[i] == K::kEmpty) {
            EXPECT_EQ(shares[i], 0u);
          } else if (slots[i] == K::kFavored) {
            min_favored = std::min(min_favored, shares[i]);
          } else {
            max_regular = std::max(max_regular, shares[i]);
            min_regular = std::min(min_regular, shares[i]);
          }
        }
        if (min_favored != UINT64_MAX) {
          EXPECT_GE(min_favored, max_regular);
        }
        if (min_regular != UINT64_MAX) {
          EXPECT_LE(max_regular - min_regular, n);
        }
      }
    }
  }
}

}  // namespace
}  // namespace strata::room
