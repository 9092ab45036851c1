// Ancestry decides containment, never epoch numbers (docs/epochs.md).
#include "engine/replication/epoch.h"

#include <gtest/gtest.h>

#include "engine/replication/messenger.h"

namespace replsim::replication {
namespace {

// 256 (cluster 0) → 513 (cluster 1, forked at 256/7) and 514 (cluster 2, forked at 256/9),
// promoted a few ms apart; 770 (cluster 2 again) forked from 514 at 20.
TEST(Epoch, SiblingBranchesNeverContainEachOtherWhateverTheirNumbers) {
  const Ancestry root;
  const Ancestry a513 = child_ancestry(256, 7, root);
  const Ancestry a514 = child_ancestry(256, 9, root);
  EXPECT_TRUE(lineage_contains(513, 3, a513, 256, 7));
  EXPECT_FALSE(lineage_contains(513, 3, a513, 256, 8));  // past the fork
  EXPECT_TRUE(lineage_contains(513, 3, a513, 513, 3));
  EXPECT_FALSE(lineage_contains(513, 3, a513, 513, 4));  // not applied yet
  // 514 > 513 and 513 > 512-style numbers mean nothing across branches.
  EXPECT_FALSE(lineage_contains(514, UINT64_MAX, a514, 513, 1));
  EXPECT_FALSE(lineage_contains(513, UINT64_MAX, a513, 514, 1));
  EXPECT_TRUE(is_ancestor(a513, 256));
  EXPECT_FALSE(is_ancestor(a513, 514));
  EXPECT_FALSE(is_ancestor(a513, 513));  // strict
  const Ancestry a770 = child_ancestry(514, 20, a514);
  ASSERT_EQ(a770.size(), 2);
  EXPECT_TRUE(lineage_contains(770, 0, a770, 256, 9));
  EXPECT_FALSE(lineage_contains(770, 0, a770, 256, 10));
  EXPECT_TRUE(lineage_contains(770, 0, a770, 514, 20));
  EXPECT_FALSE(lineage_contains(770, 0, a770, 513, 1));
  EXPECT_TRUE(is_ancestor(a770, 256));
}

TEST(Epoch, AncestryIsBoundedAndAPromotionNumbersPastItsLineage) {
  Ancestry a;
  uint64_t epoch = 256;
  for (int i = 0; i < 3 * kAncestryStepsMax; ++i) {
    const uint64_t child = next_epoch(epoch, static_cast<uint32_t>(i % 3));
    EXPECT_GT(child, epoch);
    a = child_ancestry(epoch, static_cast<uint64_t>(i), a);
    epoch = child;
    EXPECT_LE(a.size(), kAncestryStepsMax);
  }
  // The oldest steps were dropped: their positions are "not known to be contained".
  EXPECT_FALSE(lineage_contains(epoch, 0, a, 256, 0));
  // Two clusters promoted from the same parent at once never share an epoch.
  EXPECT_NE(next_epoch(256, 1), next_epoch(256, 2));
}

}  // namespace
}  // namespace replsim::replication
