// Requests exactly at the documented limits (engine/storage/limits.h) work end to end in a
// simulated two-cluster deployment — written, replicated, merkle-synced after an outage,
// recovered after a crash and a power loss — and one byte more is refused with
// INVALID_ARGUMENT before anything is written.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "engine/storage/limits.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

bool converged(Topology& t) {
  Node* a = t.active(0);
  Node* b = t.active(1);
  return a && b && a->replicated_snapshot() == b->replicated_snapshot() &&
         a->merkle_root_hex() == b->merkle_root_hex();
}

TEST(LimitsEndToEnd, RequestsExactlyAtTheLimitsAreWrittenReplicatedSyncedAndRecovered) {
  TopologyOptions o;
  o.seed = 3;
  o.clusters = 2;
  o.node.wal_buffer_entries_max = 8;  // the outage below outruns the WAL: merkle-sync
  Topology t(o);
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  const std::string token = t.login(t.node_id(0, 0));
  const std::string path = "kv/" + std::string(limits::kPathBytesMax - 3, 'p');
  const std::string value(limits::kValueBytesMax, '\xfe');
  ASSERT_EQ(t.write(t.active_id(0), token, path, value).error(), proto::OK);
  // One byte over either limit: refused, nothing written.
  auto too_long = t.write(t.active_id(0), token, path + "x", "v");
  EXPECT_EQ(too_long.error(), proto::INVALID_ARGUMENT);
  EXPECT_NE(too_long.error_message().find("limit"), std::string::npos);
  EXPECT_EQ(t.write(t.active_id(0), token, "kv/big", value + "v").error(), proto::INVALID_ARGUMENT);
  EXPECT_FALSE(t.read(t.active_id(0), token, "kv/big").found());
  ASSERT_TRUE(t.run_until([&] { return converged(t); }, 30 * kUsPerSec));

  // An outage longer than the WAL buffer: the update at the limit arrives by merkle-sync.
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1)});
  const std::string value2(limits::kValueBytesMax, '\x01');
  ASSERT_EQ(t.write(t.active_id(0), token, path, value2).error(), proto::OK);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(t.write(t.active_id(0), token, "kv/" + std::to_string(i), "v").error(), proto::OK);
  }
  t.world().network().heal_all();
  const uint64_t syncs_before = t.active(1)->counters().merkle_syncs;
  ASSERT_TRUE(
      t.run_until([&] { return converged(t) && t.state(1) == "stream-wals"; }, 60 * kUsPerSec));
  EXPECT_GT(t.active(1)->counters().merkle_syncs, syncs_before);

  // Recovery: every node of the secondary loses power; the value at the limit survives.
  for (NodeId id : t.cluster_nodes(1)) t.world().crash(id);
  t.world().power_loss("cluster1");
  for (NodeId id : t.cluster_nodes(1)) t.world().restart(id);
  ASSERT_TRUE(
      t.run_until([&] { return converged(t) && t.state(1) == "stream-wals"; }, 60 * kUsPerSec));
  const std::string token1 = t.login(t.active_id(1));
  auto read = t.read(t.active_id(1), token1, path);
  ASSERT_EQ(read.error(), proto::OK) << read.error_message();
  EXPECT_EQ(read.value(), value2);
}

}  // namespace
}  // namespace replsim::cluster
