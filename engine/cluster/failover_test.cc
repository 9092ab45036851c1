// Unplanned failover behaviours (issue 5). Forwarded writes: "a write is never applied twice
// by a retry inside the engine" — a standby of a secondary resends a forwarded write until it
// gets an answer; when the primary changed meanwhile, the resend must not commit it again.
// Promotion: a new epoch starts from a prefix of the old primary's history, never from the
// mixed state a merkle-sync leaves until streaming caught up.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

bool promote(Topology& t, int cluster) {
  proto::OperatorRequest req;
  req.mutable_promote();
  return t.op(t.active_id(cluster), req).error() == proto::OK;
}

// The primary commits the forwarded write, then loses power before anything it sends reaches
// the secondary: the write exists only on the old primary's branch. The standby's resend
// reaches the promoted secondary, which must not commit it (a second copy in another epoch).
TEST(Forwarding, ResendAfterUnplannedFailoverDoesNotCommitOnTheAbandonedBranchsSuccessor) {
  Topology t(testkit::topology_options(41, 2, 3));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId standby = t.standby_id(1);
  std::string token = t.login(standby);
  ASSERT_FALSE(token.empty());
  for (NodeId p : t.cluster_nodes(0)) {
    for (NodeId s : t.cluster_nodes(1)) t.world().network().block(p, s);
  }
  uint64_t committed = t.active(0)->counters().writes_committed;
  std::optional<proto::ClientResponse> out;
  t.send_write(standby, token, "kv/abandoned", "once", &out);
  ASSERT_TRUE(t.run_until([&] { return t.active(0)->counters().writes_committed > committed; },
                          5 * kUsPerSec));
  t.world().power_loss("cluster0");
  NodeId promoted = t.active_id(1);
  ASSERT_TRUE(promote(t, 1));
  uint64_t committed_new = t.node(promoted)->counters().writes_committed;
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 20 * kUsPerSec));
  EXPECT_EQ(out->error(), proto::UNAVAILABLE) << out->error_message();
  EXPECT_NE(out->error_message().find("outcome is unknown"), std::string::npos)
      << out->error_message();
  EXPECT_EQ(t.node(promoted)->counters().writes_committed, committed_new);
  EXPECT_GE(t.node(promoted)->counters().forwards_refused_epoch_changed, 1u);
  EXPECT_EQ(t.active(1)->replicated_snapshot()->count("kv/abandoned"), 0u);
  // A fresh write through the same standby is stamped with the new epoch and commits.
  auto r = t.write(standby, t.login(standby), "kv/after", "v");
  EXPECT_EQ(r.error(), proto::OK) << r.error_message();
}

// The write reaches the secondary through the stream (it is in the promoted secondary's
// prefix) but every answer to the standby is lost. After the promotion the standby's resend
// must not apply it a second time on top of the writes that followed it.
TEST(Forwarding, ResendAfterUnplannedFailoverDoesNotReapplyAWriteThePromotedSecondaryHas) {
  Topology t(testkit::topology_options(42, 2, 3));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId standby = t.standby_id(1);
  NodeId secondary = t.active_id(1);
  std::string token = t.login(standby);
  ASSERT_FALSE(token.empty());
  t.world().network().block(secondary, standby);  // answers to the standby are lost
  std::optional<proto::ClientResponse> out;
  t.send_write(standby, token, "kv/w", "once", &out);
  ASSERT_TRUE(t.run_until(
      [&] {
        auto snap = t.active(1)->replicated_snapshot();
        return snap && snap->count("kv/w") == 1;
      },
      5 * kUsPerSec));
  // A later write of the same key, applied on the secondary too.
  std::string token0 = t.login(t.active_id(0));
  ASSERT_EQ(t.write(t.active_id(0), token0, "kv/w", "later").error(), proto::OK);
  ASSERT_TRUE(
      t.run_until([&] { return t.node(secondary)->replicated_snapshot()->at("kv/w") == "later"; },
                  5 * kUsPerSec));
  for (NodeId p : t.cluster_nodes(0)) t.world().crash(p);
  ASSERT_TRUE(promote(t, 1));
  uint64_t last_wal = t.node(secondary)->last_wal().value;
  t.world().network().heal(secondary, standby);
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 20 * kUsPerSec));
  EXPECT_EQ(out->error(), proto::UNAVAILABLE) << out->error_message();
  EXPECT_EQ(t.node(secondary)->last_wal().value, last_wal);  // nothing committed again
  EXPECT_EQ(t.node(secondary)->replicated_snapshot()->at("kv/w"), "later");
}

// Keeps one write in flight to the primary's active node while *on is true (closed loop).
void keep_writing(Topology& t, const std::string& token, std::shared_ptr<bool> on, int i) {
  if (!*on || t.active(0) == nullptr) return;
  proto::ClientRequest w;
  w.set_token(token);
  w.mutable_write()->set_path("kv/" + std::to_string(i % 40));
  w.mutable_write()->set_value("v" + std::to_string(i));
  t.client().send(t.active_id(0), w, [&t, token, on, i](const proto::ClientResponse&) {
    keep_writing(t, token, on, i + 1);
  });
}

// Two clusters of `nodes` nodes whose WAL buffer holds 32 entries: a secondary cut off for a
// while comes back through the merkle path.
TopologyOptions small_buffer(uint64_t seed, int nodes) {
  TopologyOptions o = testkit::topology_options(seed, 2, nodes);
  o.node.wal_buffer_entries_max = 32;
  return o;
}

// Cuts the secondary cluster off from the primary and the client; the client still reaches
// the primary.
void cut_off_secondary(Topology& t) {
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1), {Topology::kClient}});
  for (NodeId p : t.cluster_nodes(0)) t.world().network().heal(Topology::kClient, p);
}

TEST(Failover, PromotionRefusedWhileCatchingUpAfterMerkleSync) {
  Topology t(small_buffer(43, 2));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  std::string token = t.login(t.active_id(0));
  cut_off_secondary(t);
  auto on = std::make_shared<bool>(true);
  keep_writing(t, token, on, 0);
  t.world().run_for(3 * kUsPerSec);  // far more than the 32-entry buffer: merkle path
  uint64_t syncs = t.active(1)->counters().merkle_syncs;
  t.world().network().heal_all();
  // Writes go on during the diff and sync rounds, so the fetched values are newer than the
  // guard. Cut the stream the moment the sync is applied, then lose the primary.
  ASSERT_TRUE(
      t.run_until([&] { return t.active(1)->counters().merkle_syncs > syncs; }, 30 * kUsPerSec));
  for (NodeId p : t.cluster_nodes(0)) {
    for (NodeId s : t.cluster_nodes(1)) t.world().network().block(p, s);
  }
  *on = false;
  for (NodeId p : t.cluster_nodes(0)) t.world().crash(p);
  NodeId secondary = t.active_id(1);
  auto refused = t.op(secondary, [] {
    proto::OperatorRequest r;
    r.mutable_promote();
    return r;
  }());
  EXPECT_EQ(refused.error(), proto::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find("catching up after merkle-sync"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(t.active(1)->status().mode(), "secondary");
  // The primary comes back; once streaming applied what the sync fetched, promotion works
  // and the new epoch starts from the old primary's state (a prefix: here all of it).
  for (NodeId p : t.cluster_nodes(0)) t.world().restart(p);
  t.world().network().heal_all();
  ASSERT_TRUE(t.run_until(
      [&] {
        Node* p = t.active(0);
        Node* s = t.active(1);
        return p && s && s->last_remote_wal() == p->last_wal() &&
               s->replicated_snapshot() == p->replicated_snapshot();
      },
      30 * kUsPerSec));
  auto old_state = *t.active(0)->replicated_snapshot();
  for (NodeId p : t.cluster_nodes(0)) t.world().crash(p);
  ASSERT_TRUE(promote(t, 1));
  EXPECT_EQ(t.active(1)->status().mode(), "primary");
  EXPECT_EQ(*t.active(1)->replicated_snapshot(), old_state);
}

// Merkle-sync writes keys without WAL entries, so ARIES restart cannot roll them forward: a
// crash before the index rebuilt for them is durable must still recover an index equal to
// storage (it recovered the previous, stale generation and kept it).
TEST(Failover, SecondaryCrashRightAfterMerkleSyncRecoversIndexEqualToStorage) {
  Topology t(small_buffer(45, 1));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  std::string token = t.login(t.active_id(0));
  cut_off_secondary(t);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(t.write(t.active_id(0), token, "kv/" + std::to_string(i), "v").error(), proto::OK);
  }
  uint64_t syncs = t.active(1)->counters().merkle_syncs;
  t.world().network().heal_all();
  ASSERT_TRUE(
      t.run_until([&] { return t.active(1)->counters().merkle_syncs > syncs; }, 30 * kUsPerSec));
  NodeId secondary = t.active_id(1);
  t.world().crash(secondary);
  t.world().restart(secondary);
  ASSERT_TRUE(t.run_until([&] { return t.active(1) != nullptr; }, 30 * kUsPerSec));
  // Same data on both sides; the recovered index must say so (a stale index never did:
  // streaming only touches keys written later, and no reconciliation is triggered).
  ASSERT_TRUE(t.run_until(
      [&] { return t.active(1)->replicated_snapshot() == t.active(0)->replicated_snapshot(); },
      20 * kUsPerSec));
  EXPECT_TRUE(
      t.run_until([&] { return t.active(1)->merkle_root_hex() == t.active(0)->merkle_root_hex(); },
                  20 * kUsPerSec))
      << t.active(1)->merkle_root_hex() << " vs " << t.active(0)->merkle_root_hex();
}

// Update-primary (a re-activation) while batches are being applied: an apply of the old
// session that completes after the restart of streaming must not leave the secondary
// believing a gap follows every batch (it reconnected forever, applying nothing).
class UpdatePrimaryWhileApplying : public ::testing::TestWithParam<int> {};
TEST_P(UpdatePrimaryWhileApplying, KeepsStreamingAndConverges) {
  TopologyOptions o = testkit::topology_options(GetParam(), 2, 2);
  o.disk.fsync_latency_us = 20 * kUsPerMs;  // applies stay in flight across the activation
  Topology t(o);
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  std::string token = t.login(t.active_id(0));
  auto on = std::make_shared<bool>(true);
  keep_writing(t, token, on, 0);
  t.world().run_for(1 * kUsPerSec);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(t.activate(1, 0, /*update_primary=*/true)) << t.last_error();
    t.world().run_for((50 + 37 * i) * kUsPerMs);
  }
  *on = false;
  ASSERT_TRUE(t.run_until(
      [&] {
        Node* p = t.active(0);
        Node* s = t.active(1);
        return p && s && s->last_remote_wal() == p->last_wal() &&
               s->replicated_snapshot() == p->replicated_snapshot();
      },
      20 * kUsPerSec))
      << "secondary at " << t.active(1)->last_remote_wal().value << ", primary at "
      << t.active(0)->last_wal().value << ", state " << t.state(1);
  EXPECT_EQ(t.state(1), "stream-wals");
}
// Without the fix 2 of these 8 seeds stayed behind, reconnecting forever (this build).
INSTANTIATE_TEST_SUITE_P(Seeds, UpdatePrimaryWhileApplying, ::testing::Range(1, 9));

}  // namespace
}  // namespace replsim::cluster
