// What a forwarded write's answer may claim (consistency_property_test max_success=100 seed=1
// findings): the position it reports is the write's own, a node that changed role before
// the answer came does not promise read-after-write it cannot keep, and a standby does not
// forward a write it cannot stamp with the lineage epoch.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "engine/replication/replica.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

// The primary's active node commits a forwarded write, more writes follow, then it crashes
// before any answer reached the secondary. The resend is answered by the next active node
// from the persisted dedupe table: with the index the write committed at (it used to say the
// WAL head at takeover, another write's position: "two writes acknowledged at e256/18").
TEST(ForwardAnswer, DedupeAnswerAfterActiveFailoverCarriesTheWritesOwnIndex) {
  Topology t(testkit::topology_options(51, 2, 2));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId secondary = t.active_id(1);
  NodeId primary = t.active_id(0);
  std::string token = t.login(secondary);
  ASSERT_FALSE(token.empty());
  for (NodeId p : t.cluster_nodes(0)) t.world().network().block(p, secondary);
  uint64_t committed = t.active(0)->counters().writes_committed;
  std::optional<proto::ClientResponse> out;
  t.send_write(secondary, token, "kv/forwarded", "v", &out);
  ASSERT_TRUE(t.run_until([&] { return t.active(0)->counters().writes_committed > committed; },
                          5 * kUsPerSec));
  const uint64_t epoch = t.node(primary)->epoch().value;
  const uint64_t index = t.node(primary)->last_wal().value;
  std::string token0 = t.login(primary);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(t.write(primary, token0, "kv/later" + std::to_string(i), "x").error(), proto::OK);
  }
  ASSERT_GT(t.node(primary)->last_wal().value, index);
  t.world().crash(primary);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) != nullptr && t.active_id(0) != primary; },
                          10 * kUsPerSec));
  for (NodeId p : t.cluster_nodes(0)) t.world().network().heal(p, secondary);
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 30 * kUsPerSec));
  ASSERT_EQ(out->error(), proto::OK) << out->error_message();
  EXPECT_EQ(out->index_state().epoch(), epoch);
  EXPECT_EQ(out->index_state().wal_index(), index);
  EXPECT_EQ(out->wal_index(), index);
  EXPECT_GE(t.active(0)->counters().writes_deduplicated, 1u);
}

// The secondary forwards a write; the answer is slow (a long link from the primary) and the
// operator promotes the secondary before it arrives, forking before the write's index. The
// answer must warn that a read here may not see the write (it answered a plain "ok").
TEST(ForwardAnswer, PromotedBeforeTheAnswerWarnsWhenTheWriteIsNotInItsLineage) {
  Topology t(testkit::topology_options(52, 2, 1));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId secondary = t.active_id(1);
  NodeId primary = t.active_id(0);
  std::string token = t.login(secondary);
  ASSERT_FALSE(token.empty());
  sim::LinkModel slow = sim::LinkModel::wan();
  slow.latency_min_us = 3 * kUsPerSec;
  t.world().network().set_link_model_one_way(primary, secondary, slow);
  uint64_t committed = t.active(0)->counters().writes_committed;
  std::optional<proto::ClientResponse> out;
  t.send_write(secondary, token, "kv/in-flight", "v", &out);
  ASSERT_TRUE(t.run_until([&] { return t.active(0)->counters().writes_committed > committed; },
                          5 * kUsPerSec));
  ASSERT_FALSE(out.has_value());
  proto::OperatorRequest promote;
  promote.mutable_promote();
  ASSERT_EQ(t.op(secondary, promote).error(), proto::OK);
  ASSERT_FALSE(out.has_value()) << "the answer came before the promotion";
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 20 * kUsPerSec));
  ASSERT_EQ(out->error(), proto::OK) << out->error_message();
  EXPECT_FALSE(out->warning().empty());
  EXPECT_EQ(t.node(secondary)->counters().raw_warnings, 1u);
  // The promoted node does not claim the old epoch's index either.
  auto r = t.read(secondary, token, "kv/in-flight");
  EXPECT_FALSE(r.found());
  proto::ClientRequest q;
  q.set_token(token);
  q.mutable_read()->set_path("kv/in-flight");
  *q.mutable_required_index_state() = out->index_state();
  EXPECT_EQ(t.call(secondary, q).error(), proto::REQUIRED_INDEX_STATE_NOT_PRESENT);
}

// The secondary has the answer to its forwarded write and holds it for read-after-write
// (the stream from the primary's active node is cut; the answer came through a standby's
// relay). Promoted during that hold, it must still answer the client, with the warning: the
// hold used to be dropped with the secondary role, leaving the client without any answer.
TEST(ForwardAnswer, PromotedDuringTheReadAfterWriteHoldStillAnswersWithAWarning) {
  Topology t(testkit::topology_options(54, 2, 2));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId secondary = t.active_id(1);
  NodeId primary = t.active_id(0);
  std::string token = t.login(secondary);
  ASSERT_FALSE(token.empty());
  t.world().network().block(primary, secondary);  // stream and direct answers lost
  uint64_t waits = t.node(secondary)->counters().raw_waits;
  std::optional<proto::ClientResponse> out;
  t.send_write(secondary, token, "kv/held", "v", &out);
  ASSERT_TRUE(
      t.run_until([&] { return t.node(secondary)->counters().raw_waits > waits; }, 4 * kUsPerSec));
  ASSERT_FALSE(out.has_value());
  proto::OperatorRequest promote;
  promote.mutable_promote();
  ASSERT_EQ(t.op(secondary, promote).error(), proto::OK);
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 1 * kUsPerSec));
  EXPECT_EQ(out->error(), proto::OK) << out->error_message();
  EXPECT_FALSE(out->warning().empty());
  EXPECT_EQ(t.node(secondary)->counters().raw_warnings, 1u);
}

// A standby forwards writes stamped with the lineage epoch from ha/lineage. When the file is
// missing (no active node wrote it, or lost) it has no epoch to stamp and must refuse: an
// unstamped write is committed by any primary, so a resend across a failover commits twice.
TEST(ForwardAnswer, StandbyRefusesToForwardAWriteWithoutALineage) {
  Topology t(testkit::topology_options(53, 2, 2));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId standby = t.standby_id(1);
  std::string token = t.login(standby);
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(t.write(standby, token, "kv/stamped", "v").error(), proto::OK);
  auto alive = std::make_shared<int>(0);
  auto fs = t.world().disk("cluster1").attach(alive);
  ASSERT_TRUE(fs->exists(replication::kLineageFile));
  ASSERT_TRUE(fs->remove(replication::kLineageFile).is_ok());
  uint64_t committed = t.active(0)->counters().writes_committed;
  auto r = t.write(standby, token, "kv/unstamped", "v");
  EXPECT_EQ(r.error(), proto::UNAVAILABLE) << r.error_message();
  EXPECT_NE(r.error_message().find("lineage unknown"), std::string::npos) << r.error_message();
  EXPECT_EQ(t.active(0)->counters().writes_committed, committed);
}

// A standby resends its forward to the secondary's active node every forward_retry_us while
// the primary is unreachable. The active node handles the first and drops the resends while
// it is in flight: one cross-cluster forward per request (it used to open one per resend, and
// merkle_sync_under_load failed the bounds checker: forwards_pending 15,850 > 15,833).
TEST(ForwardAnswer, ActiveNodeOpensOneCrossClusterForwardPerStandbyRequest) {
  Topology t(testkit::topology_options(53, 2, 2));
  ASSERT_TRUE(t.setup_replication()) << t.last_error();
  NodeId active = t.active_id(1);
  NodeId standby = t.standby_id(1);
  std::string token = t.login(active);
  ASSERT_FALSE(token.empty());
  for (NodeId p : t.cluster_nodes(0)) t.world().network().block(active, p);
  std::optional<proto::ClientResponse> out;
  t.send_write(standby, token, "kv/held", "v", &out);
  // Four standby resends (500 ms apart) inside the 5 s forwarding bound.
  t.run_until([] { return false; }, 2500 * kUsPerMs);
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(t.node(active)->queue_sizes().at("forwards_pending"), 1u);
  t.run_until([&] { return out.has_value(); }, 10 * kUsPerSec);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->error(), proto::UNAVAILABLE) << out->error_message();
  t.run_until([] { return false; }, 1 * kUsPerSec);  // the active node's own bound passes too
  EXPECT_EQ(t.node(active)->queue_sizes().at("forwards_pending"), 0u);
}

}  // namespace
}  // namespace replsim::cluster
