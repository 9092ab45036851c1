// Cluster behaviours in simulation: HA lock, fencing, forwarding, auth.
#include <gtest/gtest.h>

#include "engine/cluster/fenced_fs.h"
#include "engine/cluster/ha_lock.h"
#include "engine/cluster/testing/topology.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

TEST(Cluster, OneActiveNodePerCluster) {
  TopologyOptions o;
  o.clusters = 2;
  o.nodes_per_cluster = 3;
  Topology t(o);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) && t.active(1); }, 10 * kUsPerSec));
  t.world().run_for(5 * kUsPerSec);
  for (int c = 0; c < 2; ++c) {
    int actives = 0;
    for (NodeId id : t.cluster_nodes(c)) actives += t.node(id)->is_active() ? 1 : 0;
    EXPECT_EQ(actives, 1);
  }
}

}  // namespace
}  // namespace replsim::cluster

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

TopologyOptions two_clusters(uint64_t seed, int nodes = 2) {
  TopologyOptions o;
  o.seed = seed;
  o.clusters = 2;
  o.nodes_per_cluster = nodes;
  return o;
}

TEST(Cluster, FencedFileSystemRefusesStaleGeneration) {
  TopologyOptions o = two_clusters(11);
  o.clusters = 1;
  Topology t(o);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) != nullptr; }, 10 * kUsPerSec));
  NodeId a = t.active_id(0);
  Env& env = *t.world().env(a);
  LockGeneration gen = t.active(0)->lock_generation();
  uint64_t refused = 0;
  FencedEnv fenced(
      env,
      [&] {
        LockRecord r = read_lock_record(env.fs());
        return r.holder == a && r.generation == gen;
      },
      &refused);
  auto file = fenced.fs().open("fence-probe", true);
  ASSERT_TRUE(file.is_ok());
  std::optional<Status> first;
  (*file)->append("before", [&](Status s) { first = s; });
  ASSERT_TRUE(t.run_until([&] { return first.has_value(); }, kUsPerSec));
  EXPECT_TRUE(first->is_ok());
  // The other node takes the lock while `a` is paused.
  t.world().pause(a);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) && t.active_id(0) != a; }, 10 * kUsPerSec));
  std::optional<Status> second;
  (*file)->append("after", [&](Status s) { second = s; });
  EXPECT_EQ((*file)->truncate(0).code(), StatusCode::kFenced);
  EXPECT_EQ(fenced.fs().rename("fence-probe", "x").code(), StatusCode::kFenced);
  t.world().resume(a);
  ASSERT_TRUE(t.run_until([&] { return second.has_value(); }, kUsPerSec));
  EXPECT_EQ(second->code(), StatusCode::kFenced);
  EXPECT_EQ(t.world().disk("cluster0").cached_contents("fence-probe"), "before");
  EXPECT_EQ(refused, 3u);
}

TEST(Cluster, PausedFormerActiveWritesRefusedAfterFailover) {
  TopologyOptions o = two_clusters(12);
  o.clusters = 1;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  NodeId a = t.active_id(0);
  ASSERT_EQ(t.write(a, token, "kv/x", "1").error(), proto::OK);
  uint64_t committed_before_pause = t.node(a)->counters().writes_committed;
  // A write reaches `a`, which stalls (stop-the-world) before handling it.
  t.world().pause(a);
  std::optional<proto::ClientResponse> held;
  proto::ClientRequest w;
  w.set_token(token);
  w.mutable_write()->set_path("kv/x");
  w.mutable_write()->set_value("from-paused");
  t.client().send(a, w, [&](const proto::ClientResponse& r) { held = r; });
  ASSERT_TRUE(t.run_until([&] { return t.active(0) && t.active_id(0) != a; }, 10 * kUsPerSec));
  NodeId b = t.active_id(0);
  std::string token_b = t.login(b);  // tokens live in the shared storage: still valid anyway
  ASSERT_EQ(t.write(b, token, "kv/x", "2").error(), proto::OK);
  uint64_t b_wal = t.node(b)->last_wal().value;
  t.world().resume(a);
  ASSERT_TRUE(t.run_until([&] { return held.has_value(); }, 10 * kUsPerSec));
  t.world().run_for(2 * kUsPerSec);
  EXPECT_FALSE(t.node(a)->is_active());
  // `a` did not commit: the request went to b (forwarded) or was refused.
  if (held->error() == proto::OK) {
    EXPECT_TRUE(held->forwarded());
  }
  EXPECT_EQ(t.node(a)->counters().writes_committed, committed_before_pause);
  Node* nb = t.node(b);
  ASSERT_TRUE(nb->is_active());
  EXPECT_GE(nb->last_wal().value, b_wal);
  auto snap = *nb->replicated_snapshot();
  EXPECT_EQ(snap.at("kv/x"), held->error() == proto::OK ? "from-paused" : "2");
  // The storage still opens cleanly after a restart of everyone (no torn writes by `a`).
  t.world().crash(a);
  t.world().crash(b);
  t.world().restart(a);
  t.world().restart(b);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) != nullptr; }, 10 * kUsPerSec));
  EXPECT_EQ(t.active(0)->replicated_snapshot()->at("kv/x"), snap.at("kv/x"));
}

TEST(Cluster, FailoverRecoversStoreThenMerkleIndexThroughAries) {
  TopologyOptions o = two_clusters(18);
  o.node.merkle_flush_interval_us = 50 * kUsPerMs;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(t.write(t.active_id(0), token, "kv/" + std::to_string(i), "v").error(), proto::OK);
  }
  t.world().run_for(1 * kUsPerSec);  // some pages flushed, some not
  std::string root = t.active(0)->merkle_root_hex();
  auto snap = *t.active(0)->replicated_snapshot();
  NodeId a = t.active_id(0);
  t.world().crash(a);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) != nullptr; }, 10 * kUsPerSec));
  Node* b = t.active(0);
  EXPECT_NE(b->id(), a);
  EXPECT_EQ(b->merkle_root_hex(), root);
  EXPECT_EQ(*b->replicated_snapshot(), snap);
  EXPECT_EQ(b->counters().index_rebuilds, 0u);  // ARIES restart + roll forward, no rebuild
  EXPECT_EQ(b->status().mode(), "primary");
  // Writes go on, and the secondary follows the new active node.
  ASSERT_EQ(t.write(b->id(), token, "kv/after", "v").error(), proto::OK);
  ASSERT_TRUE(
      t.run_until([&] { return t.active(1)->merkle_root_hex() == t.active(0)->merkle_root_hex(); },
                  20 * kUsPerSec));
}

TEST(Cluster, FsyncFailureMakesTheActiveStepDownAndTheClusterRecovers) {
  TopologyOptions o = two_clusters(19);
  o.clusters = 1;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  ASSERT_EQ(t.write(t.active_id(0), token, "kv/a", "1").error(), proto::OK);
  t.world().disk("cluster0").fail_next_syncs(1);
  auto failed = t.write(t.active_id(0), token, "kv/b", "2");
  EXPECT_EQ(failed.error(), proto::INTERNAL);  // not acknowledged: the fsync failed
  ASSERT_TRUE(t.run_until(
      [&] {
        if (!t.active(0)) return false;
        return t.write(t.active_id(0), token, "kv/c", "3").error() == proto::OK;
      },
      20 * kUsPerSec));
  uint64_t step_downs = 0;
  for (NodeId id : t.cluster_nodes(0)) step_downs += t.node(id)->counters().step_downs;
  EXPECT_EQ(step_downs, 1u);
  auto snap = *t.active(0)->replicated_snapshot();
  EXPECT_EQ(snap.at("kv/a"), "1");
  EXPECT_EQ(snap.at("kv/c"), "3");
}

TEST(Cluster, ForwardingFromStandbyOfSecondary) {
  TopologyOptions o = two_clusters(13, 3);
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  NodeId standby = t.standby_id(1);
  ASSERT_NE(standby.value, 0u);
  std::string token = t.login(standby);
  ASSERT_FALSE(token.empty());
  auto r = t.write(standby, token, "kv/hop", "v");
  ASSERT_EQ(r.error(), proto::OK) << r.error_message();
  EXPECT_TRUE(r.forwarded());
  EXPECT_EQ(r.served_by_cluster(), 1u);  // committed by the primary cluster
  EXPECT_TRUE(r.warning().empty());
  EXPECT_GT(r.wal_index(), 0u);
  EXPECT_GE(t.node(standby)->counters().requests_forwarded, 1u);
  EXPECT_GE(t.active(1)->counters().requests_forwarded, 1u);
  EXPECT_EQ(t.active(0)->replicated_snapshot()->at("kv/hop"), "v");
  // Read-after-write through the same standby sees it at once.
  auto rd = t.read(standby, token, "kv/hop");
  ASSERT_EQ(rd.error(), proto::OK);
  EXPECT_TRUE(rd.found());
  EXPECT_EQ(rd.value(), "v");
  EXPECT_EQ(rd.served_by_cluster(), 2u);  // served from the secondary's local copy
  // A retry with the same request id is not applied twice.
  uint64_t committed = t.active(0)->counters().writes_committed;
  proto::ClientRequest again;
  again.set_request_id(0x77);
  again.set_token(token);
  again.mutable_write()->set_path("kv/once");
  again.mutable_write()->set_value("1");
  ASSERT_EQ(t.call(standby, again).error(), proto::OK);
  ASSERT_EQ(t.call(t.active_id(1), again).error(), proto::OK);
  EXPECT_EQ(t.active(0)->counters().writes_committed, committed + 1);
  EXPECT_GE(t.active(0)->counters().writes_deduplicated, 1u);
}

TEST(Cluster, ForwardingFailsClearlyWhenPrimaryUnreachable) {
  Topology t(two_clusters(14));
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(1, 0));
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1), {Topology::kClient}});
  t.world().network().heal(Topology::kClient, t.active_id(1));
  TimeUs start = t.world().now();
  auto r = t.write(t.active_id(1), token, "kv/x", "v");
  EXPECT_EQ(r.error(), proto::UNAVAILABLE);
  EXPECT_LE(t.world().now() - start, 7 * kUsPerSec);
}

TEST(Cluster, ReadAfterWriteStallWithoutWarningNormallyWithWarningWhenPathBackCut) {
  Topology t(two_clusters(15));
  ASSERT_TRUE(t.setup_replication());
  NodeId sec = t.active_id(1);
  std::string token = t.login(sec);
  for (int i = 0; i < 20; ++i) {
    auto r = t.write(sec, token, "kv/raw" + std::to_string(i), "v");
    ASSERT_EQ(r.error(), proto::OK);
    EXPECT_TRUE(r.warning().empty()) << r.warning();
    auto rd = t.read(sec, token, "kv/raw" + std::to_string(i));
    EXPECT_TRUE(rd.found());
  }
  EXPECT_EQ(t.active(1)->counters().raw_warnings, 0u);
  // Cut the primary → secondary direction the moment the forwarded answer arrived: the
  // entry itself never does, so the answer waits 2 s and carries a warning.
  uint64_t waits = t.active(1)->counters().raw_waits;
  std::optional<proto::ClientResponse> out;
  proto::ClientRequest w;
  w.set_token(token);
  w.mutable_write()->set_path("kv/cut");
  w.mutable_write()->set_value("v");
  t.client().send(sec, w, [&](const proto::ClientResponse& r) { out = r; });
  ASSERT_TRUE(
      t.run_until([&] { return t.active(1)->counters().raw_waits > waits; }, 5 * kUsPerSec));
  TimeUs held_at = t.world().now();
  for (NodeId p : t.cluster_nodes(0)) {
    for (NodeId s : t.cluster_nodes(1)) t.world().network().block(p, s);
  }
  ASSERT_TRUE(t.run_until([&] { return out.has_value(); }, 5 * kUsPerSec));
  EXPECT_EQ(out->error(), proto::OK);
  EXPECT_FALSE(out->warning().empty());
  EXPECT_GE(t.world().now() - held_at, 19 * kUsPerSec / 10);  // ~2 s on the node's clock
  EXPECT_EQ(t.active(1)->counters().raw_warnings, 1u);
  // Required index state: the secondary lacks it; FAIL policy answers clearly...
  proto::ClientRequest rd;
  rd.set_token(token);
  rd.mutable_read()->set_path("kv/cut");
  *rd.mutable_required_index_state() = out->index_state();
  rd.set_stale_policy(proto::FAIL);
  auto fail = t.call(sec, rd);
  EXPECT_EQ(fail.error(), proto::REQUIRED_INDEX_STATE_NOT_PRESENT);
  // ...and once the path is back, the state arrives and the read succeeds.
  t.world().network().heal_all();
  rd.set_request_id(0);
  rd.set_stale_policy(proto::FORWARD);
  auto ok = t.call(sec, rd);
  ASSERT_EQ(ok.error(), proto::OK) << ok.error_message();
  EXPECT_TRUE(ok.found());
  EXPECT_EQ(ok.value(), "v");
}

TEST(Cluster, ForeignTokenRefusedAndClientReauthenticates) {
  Topology t(two_clusters(16));
  ASSERT_TRUE(t.setup_replication());
  std::string primary_token = t.login(t.node_id(0, 0));
  ASSERT_EQ(t.write(t.node_id(0, 0), primary_token, "kv/a", "1").error(), proto::OK);
  auto foreign = t.read(t.node_id(1, 0), primary_token, "kv/a");
  EXPECT_EQ(foreign.error(), proto::PERMISSION_DENIED);
  EXPECT_EQ(foreign.error_message(), "permission denied");
  auto foreign_write = t.write(t.node_id(1, 1), primary_token, "kv/b", "1");
  EXPECT_EQ(foreign_write.error(), proto::PERMISSION_DENIED);
  EXPECT_GE(t.active(1)->counters().foreign_tokens_refused, 2u);
  // Users are replicated, so the client logs in on the secondary and carries on.
  std::string secondary_token = t.login(t.node_id(1, 0));
  ASSERT_FALSE(secondary_token.empty());
  EXPECT_NE(secondary_token, primary_token);
  ASSERT_TRUE(t.run_until([&] { return t.read(t.node_id(1, 0), secondary_token, "kv/a").found(); },
                          5 * kUsPerSec));
  // And the secondary's token is unknown to the primary.
  EXPECT_EQ(t.read(t.node_id(0, 0), secondary_token, "kv/a").error(), proto::PERMISSION_DENIED);
}

TEST(Cluster, TokensExpireByTheClustersClock) {
  TopologyOptions o = two_clusters(17);
  o.clusters = 1;
  o.node.token_ttl_us = 5 * kUsPerSec;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  proto::ClientRequest lookup;
  lookup.set_token(token);
  lookup.mutable_token_lookup();
  auto r = t.call(t.node_id(0, 0), lookup);
  ASSERT_EQ(r.error(), proto::OK);
  EXPECT_GT(r.token_ttl_us(), 0);
  EXPECT_LE(r.token_ttl_us(), 5 * kUsPerSec);
  t.world().run_for(6 * kUsPerSec);
  lookup.set_request_id(0);
  EXPECT_EQ(t.call(t.node_id(0, 0), lookup).error(), proto::PERMISSION_DENIED);
}

// Standbys relay a request once, however often it is resent to them or bounced back: while
// the active node is unreachable, each standby holds at most one pending forward per client
// request (resends of one forward used to start a new relay each, bounces a relay back).
TEST(Cluster, StandbysHoldOneForwardPerRequestWhileTheActiveNodeIsUnreachable) {
  TopologyOptions o = two_clusters(19, 3);
  o.clusters = 1;
  o.node.lock_lease_us = 60 * kUsPerSec;  // nobody takes over during the test
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  NodeId active = t.active_id(0);
  std::vector<NodeId> standbys;
  for (NodeId n : t.cluster_nodes(0)) {
    if (n != active) standbys.push_back(n);
  }
  ASSERT_EQ(standbys.size(), 2u);
  std::string token = t.login(standbys[0]);
  ASSERT_FALSE(token.empty());
  uint64_t before[2] = {t.node(standbys[0])->counters().requests_forwarded,
                        t.node(standbys[1])->counters().requests_forwarded};
  t.world().pause(active);
  constexpr int kRequests = 5;
  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    proto::ClientRequest w;
    w.set_token(token);
    w.mutable_write()->set_path("kv/r" + std::to_string(i));
    w.mutable_write()->set_value("v");
    t.client().send(standbys[0], w, [&](const proto::ClientResponse&) { ++answered; });
  }
  // Within the 5 s forwarding bound: the first standby resends each forward ~9 times (every
  // 4th to the other standby, which sends every 4th of its own back).
  t.world().run_for(4800 * kUsPerMs);
  EXPECT_EQ(t.node(standbys[0])->counters().requests_forwarded - before[0], kRequests);
  EXPECT_EQ(t.node(standbys[1])->counters().requests_forwarded - before[1], kRequests);
  EXPECT_EQ(answered, 0);
  t.world().run_for(1 * kUsPerSec);  // past the bound: each answered UNAVAILABLE
  EXPECT_EQ(answered, kRequests);
}

// Status lag_us on the secondary's own clock: 0 when it applied the newest primary index it
// knows of; while it knows of entries it cannot apply, the time since it first learned of
// the oldest of them (so it grows with the outage); 0 again once it caught up.
TEST(Cluster, SecondaryLagIsZeroWhenCaughtUpAndGrowsWhileEntriesAreKnownButNotApplied) {
  TopologyOptions o = two_clusters(18);
  o.node.inflight_batches_max = 1;  // one unacknowledged batch of one entry at a time
  o.node.batch_entries_max = 1;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.active_id(0));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(t.write(t.active_id(0), token, "kv/l" + std::to_string(i), "v").error(), proto::OK);
  }
  ASSERT_TRUE(t.run_until([&] { return t.active(1)->last_remote_wal() == t.active(0)->last_wal(); },
                          5 * kUsPerSec));
  t.world().run_for(1 * kUsPerSec);  // heartbeats keep reporting the same head
  EXPECT_EQ(t.active(1)->status().lag_us(), 0);
  EXPECT_EQ(t.active(1)->status().lag_entries(), 0u);
  // Acks stop reaching the primary: at most one more entry is shipped, while heartbeats go
  // on telling the secondary how far the primary got.
  for (NodeId a : t.cluster_nodes(1)) {
    for (NodeId b : t.cluster_nodes(0)) t.world().network().block(a, b);
  }
  TimeUs written_at = t.world().now();
  for (int i = 5; i < 10; ++i) {
    ASSERT_EQ(t.write(t.active_id(0), token, "kv/l" + std::to_string(i), "v").error(), proto::OK);
  }
  t.world().run_for(1 * kUsPerSec);
  auto s1 = t.active(1)->status();
  EXPECT_GT(s1.lag_entries(), 0u);
  EXPECT_GT(s1.lag_us(), 500 * kUsPerMs);  // learned within a heartbeat of the writes
  EXPECT_LE(s1.lag_us(), t.world().now() - written_at + 100 * kUsPerMs);  // clock drift
  t.world().run_for(2 * kUsPerSec);
  auto s2 = t.active(1)->status();
  EXPECT_GE(s2.lag_us(), s1.lag_us() + 1900 * kUsPerMs);  // grows with the outage
  t.world().network().heal_all();
  ASSERT_TRUE(t.run_until([&] { return t.active(1)->last_remote_wal() == t.active(0)->last_wal(); },
                          20 * kUsPerSec));
  EXPECT_EQ(t.active(1)->status().lag_us(), 0);
}

}  // namespace
}  // namespace replsim::cluster
