// All-or-nothing role changes (issue 12 item 1): a transition whose commit fails leaves the
// node what its storage says (mode, keyring), answers the operator with the error, and the
// operator can retry once the disk is back.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "engine/storage/barrier.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;

enum class DiskFault { kFull, kFsyncFailure };

// Cluster 0 enabled as a primary; cluster 1 (one node) still disabled. Returns a fresh
// activation token for "secondary-1" ("" on failure).
std::string primary_and_token(Topology& t) {
  if (!t.run_until([&] { return t.active(0) && t.active(1); }, 30 * kUsPerSec)) return "";
  proto::OperatorRequest ep;
  ep.mutable_enable_primary();
  if (t.op(t.node_id(0, 0), ep).error() != proto::OK) return "";
  proto::OperatorRequest tok;
  tok.mutable_secondary_token()->set_id("secondary-1");
  auto r = t.op(t.node_id(0, 0), tok);
  return r.error() == proto::OK ? r.token() : "";
}

void enable_secondary_that_cannot_persist(DiskFault fault) {
  Topology t(testkit::topology_options(71, 2, 1));
  std::string token = primary_and_token(t);
  ASSERT_FALSE(token.empty());
  Node* node = t.active(1);
  ASSERT_NE(node, nullptr);
  ASSERT_EQ(node->status().mode(), "disabled");
  const Keyring keyring_before = node->barrier()->keyring();
  sim::SimDisk& disk = t.world().disk("cluster1");
  if (fault == DiskFault::kFull) {
    disk.set_capacity(disk.used_bytes());
  } else {
    disk.fail_next_syncs(3);  // the lineage file, the keyring file, the commit
  }
  proto::OperatorRequest en;
  en.mutable_enable_secondary()->set_token(token);
  auto r = t.op(node->id(), en);
  EXPECT_NE(r.error(), proto::OK);
  // The answer's status is the node as it is after the failure: still what storage says.
  EXPECT_EQ(r.status().mode(), "disabled") << r.error_message();
  EXPECT_EQ(r.status().replication_mode(), proto::MODE_DISABLED);
  if (t.active(1) == node) {
    EXPECT_EQ(node->status().mode(), "disabled");
    EXPECT_TRUE(node->barrier()->keyring() == keyring_before);  // the primary's not kept
  }
  // The disk comes back (a failed fsync made the store refuse everything until the node
  // stepped down and reopened it: wait for that first). A new token activates the cluster.
  disk.set_capacity(UINT64_MAX);
  if (fault == DiskFault::kFsyncFailure) {
    const LockGeneration failed_generation = node->lock_generation();
    ASSERT_TRUE(t.run_until(
        [&] { return t.active(1) && t.active(1)->lock_generation() > failed_generation; },
        60 * kUsPerSec));
  }
  ASSERT_TRUE(t.activate(1, 0, false)) << t.last_error();
  EXPECT_EQ(t.active(1)->status().mode(), "secondary");
}

TEST(AllOrNothing, EnableSecondaryOnAFullDiskLeavesTheNodeDisabledWithItsKeyring) {
  enable_secondary_that_cannot_persist(DiskFault::kFull);
}

TEST(AllOrNothing, EnableSecondaryWhoseFsyncFailsLeavesTheNodeDisabledWithItsKeyring) {
  enable_secondary_that_cannot_persist(DiskFault::kFsyncFailure);
}

TEST(AllOrNothing, PromoteOnAFullDiskLeavesTheSecondaryFollowingItsPrimary) {
  Topology t(testkit::topology_options(72, 2, 1));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  Node* node = t.active(1);
  const Epoch epoch = node->epoch();
  sim::SimDisk& disk = t.world().disk("cluster1");
  disk.set_capacity(disk.used_bytes());
  proto::OperatorRequest pr;
  pr.mutable_promote();
  auto r = t.op(node->id(), pr);
  EXPECT_NE(r.error(), proto::OK);
  EXPECT_EQ(r.status().mode(), "secondary") << r.error_message();
  EXPECT_EQ(node->epoch(), epoch);
  disk.set_capacity(UINT64_MAX);
  std::string token = t.login(t.node_id(0, 0));
  ASSERT_EQ(t.write(t.node_id(0, 0), token, "kv/after", "v").error(), proto::OK);
  EXPECT_TRUE(t.run_until(
      [&] {
        return t.active(1) && t.active(1)->merkle_root_hex() == t.active(0)->merkle_root_hex();
      },
      30 * kUsPerSec));
  EXPECT_EQ(t.active(1)->status().mode(), "secondary");
}

TEST(AllOrNothing, DemoteOnAFullDiskLeavesThePrimaryAcceptingWrites) {
  Topology t(testkit::topology_options(73, 2, 1));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  Node* node = t.active(0);
  std::string token = t.login(node->id());
  sim::SimDisk& disk = t.world().disk("cluster0");
  disk.set_capacity(disk.used_bytes());
  proto::OperatorRequest de;
  de.mutable_demote();
  auto r = t.op(node->id(), de);
  EXPECT_NE(r.error(), proto::OK);
  EXPECT_EQ(r.status().mode(), "primary") << r.error_message();
  EXPECT_EQ(r.status().state(), "running");
  disk.set_capacity(UINT64_MAX);
  EXPECT_EQ(t.write(node->id(), token, "kv/still-primary", "v").error(), proto::OK);
}

}  // namespace
}  // namespace replsim::cluster
