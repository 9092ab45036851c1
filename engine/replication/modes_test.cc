#include "engine/replication/modes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace replsim::replication {
namespace {

TEST(Modes, EveryModeAndStateHasItsOwnVaultName) {
  EXPECT_EQ(mode_name(proto::MODE_PRIMARY), "primary");
  EXPECT_EQ(mode_name(proto::MODE_SECONDARY), "secondary");
  EXPECT_EQ(mode_name(proto::MODE_DISABLED), "disabled");
  EXPECT_EQ(state_name(proto::STATE_STREAM_WALS), "stream-wals");
  EXPECT_EQ(state_name(proto::STATE_MERKLE_DIFF), "merkle-diff");
  EXPECT_EQ(state_name(proto::STATE_MERKLE_SYNC), "merkle-sync");
  EXPECT_EQ(state_name(proto::STATE_RUNNING), "running");
  std::set<std::string> modes, states;
  for (int m = proto::ReplicationMode_MIN; m <= proto::ReplicationMode_MAX; ++m) {
    modes.insert(std::string(mode_name(static_cast<proto::ReplicationMode>(m))));
  }
  for (int s = proto::ReplicationState_MIN; s <= proto::ReplicationState_MAX; ++s) {
    states.insert(std::string(state_name(static_cast<proto::ReplicationState>(s))));
  }
  EXPECT_EQ(modes.size(), static_cast<size_t>(proto::ReplicationMode_MAX + 1));
  EXPECT_EQ(states.size(), static_cast<size_t>(proto::ReplicationState_MAX + 1));
}

TEST(ModesDeathTest, AValueWithoutANameIsABrokenInvariant) {
  EXPECT_DEATH(mode_name(static_cast<proto::ReplicationMode>(99)), "unnamed replication mode");
}

}  // namespace
}  // namespace replsim::replication
