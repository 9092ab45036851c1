// Issue 12 item 8: read_after_write around promotions, and epochs recorded whatever their
// number. Each test plants the violation the checker must catch next to the history it must
// accept.
#include <gtest/gtest.h>

#include "sim/harness/checkers.h"
#include "sim/harness/epoch_log.h"

namespace replsim::harness {
namespace {

constexpr uint64_t kSeed = 77;

// Clusters 0 (primary of epoch 1, node 1), 1 (secondary, node 3), 2 (secondary, node 5).
// Client 10 is bound to node 3, client 11 to node 1.
struct World {
  World() { o.epochs.push_back({0, 1, 0, 0, 0, true}); }
  static std::string value(int n) {
    return std::string(kPlaintextMarker) + "v" + std::to_string(n);
  }
  // A write of value n, invoked at `t`, acknowledged at `ack_us` at (epoch, index) by
  // `served` (forwarded when the session's cluster is another one).
  int64_t write(TimeUs t, TimeUs ack_us, int64_t client, uint32_t node, uint32_t cluster,
                const std::string& key, int n, uint32_t served, uint64_t epoch, uint64_t index) {
    HistoryEvent e;
    e.time_us = t;
    e.client = client;
    e.op_id = ++op;
    e.f = kOpWrite;
    e.key = key;
    e.value = value(n);
    e.node = node;
    e.cluster = cluster;
    h.append(e);
    e.time_us = ack_us;
    e.type = EventType::kOk;
    e.value.reset();
    e.epoch = epoch;
    e.wal_index = index;
    e.served_by_cluster = served;
    e.forwarded = served != cluster;
    return h.append(e);
  }
  int64_t read(TimeUs t, int64_t client, uint32_t node, uint32_t cluster, const std::string& key,
               std::optional<std::string> v, uint64_t epoch, uint64_t index) {
    HistoryEvent e;
    e.time_us = t;
    e.client = client;
    e.op_id = ++op;
    e.f = kOpRead;
    e.key = key;
    e.node = node;
    e.cluster = cluster;
    h.append(e);
    e.time_us = t + 10;
    e.type = EventType::kOk;
    e.value = std::move(v);
    e.epoch = epoch;
    e.wal_index = index;
    return h.append(e);
  }
  void applied(TimeUs t, uint32_t cluster, uint64_t epoch, uint64_t index) {
    o.positions.push_back({t, cluster, cluster * 2 + 1, false, epoch, index});
  }
  StateSnapshot snap(TimeUs t, uint32_t cluster, bool primary, uint64_t epoch, uint64_t index,
                     std::map<std::string, std::string> data) {
    StateSnapshot s;
    s.time_us = t;
    s.cluster = cluster;
    s.node = cluster * 2 + 1;
    s.primary = primary;
    s.state = primary ? "running" : "stream-wals";
    s.epoch = epoch;
    s.index = index;
    s.data = std::move(data);
    return s;
  }
  CheckContext ctx() const {
    CheckContext c;
    c.seed = kSeed;
    c.clusters = 3;
    return c;
  }
  History h;
  Observations o;
  uint64_t op = 0;
};

void expect_caught(const CheckerResult& r, const char* name, const std::string& needle) {
  EXPECT_EQ(r.name, name);
  EXPECT_FALSE(r.passed) << describe(r);
  EXPECT_EQ(r.seed, kSeed);
  EXPECT_NE(r.message.find(needle), std::string::npos) << describe(r);
}

// Cluster 2 is promoted (epoch 2, forked at e1/`fork`, unplanned) at t=2,200 while client 10's
// write through secondary cluster 1 is in flight; the old primary acknowledges it at e1/5 at
// t=3,700 (1.5 ms later) after cluster 1 applied it, and cluster 1 then follows epoch 2.
World write_across_a_promotion(uint64_t fork) {
  World w;
  w.write(100, 200, 11, 1, 0, "kv/a", 1, 0, 1, 1);
  w.applied(300, 1, 1, 1);
  w.write(1000, 3700, 10, 3, 1, "kv/a", 2, 0, 1, 5);
  w.o.epochs.push_back({2200, 2, 2, 1, fork, false});
  w.applied(3600, 1, 1, 5);
  w.o.reconciliations.push_back({5000, 1, 3, false, 2, fork});
  return w;
}

TEST(ReadAfterWrite, AWriteAcknowledgedJustAfterAnotherClustersPromotionMayBeLostOnItsBranch) {
  World w = write_across_a_promotion(3);
  // Epoch 2 forked at e1/3: the write (e1/5) is the unplanned promotion's declared loss, so a
  // read on cluster 1 after it followed epoch 2 may miss it.
  w.read(6000, 10, 3, 1, "kv/a", World::value(1), 2, 3);
  CheckerResult r = check_read_after_write(w.h, w.o, w.ctx());
  EXPECT_TRUE(r.passed) << describe(r);
}

TEST(ReadAfterWrite, AnEpochThatHoldsTheWriteExemptsNothing) {
  World w = write_across_a_promotion(5);
  // Planted: epoch 2 forked at e1/5, so it holds the write; the read must see it.
  int64_t bad = w.read(6000, 10, 3, 1, "kv/a", World::value(1), 2, 5);
  CheckerResult r = check_read_after_write(w.h, w.o, w.ctx());
  expect_caught(r, kCheckReadAfterWrite, "next read there returned");
  EXPECT_EQ(r.event_index, bad);
}

// Secondary.has_state compared epoch numbers: a secondary on epoch 2 (forked at e1/3) took
// e1/5 as contained and acknowledged it without a warning, though no state of its lineage can
// ever hold it.
TEST(ReadAfterWrite, CatchesAWarningFreeAckFromASecondaryWhoseLineageCannotHoldTheWrite) {
  World ok;
  ok.write(1000, 3700, 10, 3, 1, "kv/a", 2, 0, 1, 5);
  ok.o.epochs.push_back({2200, 2, 2, 1, 3, false});
  ok.applied(3600, 1, 1, 5);  // cluster 1 still follows epoch 1 and applied the write
  CheckerResult passed = check_read_after_write(ok.h, ok.o, ok.ctx());
  EXPECT_TRUE(passed.passed) << describe(passed);

  World bad;
  bad.o.epochs.push_back({2200, 2, 2, 1, 3, false});
  bad.o.reconciliations.push_back({3000, 1, 3, false, 2, 3});  // planted: on epoch 2 already
  int64_t ack = bad.write(1000, 3700, 10, 3, 1, "kv/a", 2, 0, 1, 5);
  CheckerResult r = check_read_after_write(bad.h, bad.o, bad.ctx());
  expect_caught(r, kCheckReadAfterWrite, "at epoch 2, whose lineage cannot contain it");
  EXPECT_EQ(r.event_index, ack);

  // A sibling branch (epoch 3, also forked from epoch 1 at 3) cannot hold epoch 2's writes.
  World sibling;
  sibling.o.epochs.push_back({2200, 3, 2, 1, 3, false});
  sibling.o.epochs.push_back({2203, 2, 0, 1, 4, false});
  sibling.o.snapshots.push_back(sibling.snap(3000, 1, false, 3, 3, {}));
  sibling.write(2500, 3700, 10, 3, 1, "kv/a", 2, 0, 2, 5);
  expect_caught(check_read_after_write(sibling.h, sibling.o, sibling.ctx()), kCheckReadAfterWrite,
                "at epoch 3, whose lineage cannot contain it");
}

// Two promotions 3 ms apart from epoch 256: cluster 1 gets 513 first, cluster 2 gets 512
// (a lower number) 3 ms later. Both are recorded, each with the parent and fork its cluster
// held, and prefix_consistency follows 512's own lineage.
TEST(EpochLog, RecordsAnEpochThatStartsAfterAHigherNumberedOne) {
  World w;
  w.o.epochs = {{0, 256, 0, 0, 0, true}};
  EpochLog log;
  for (uint64_t i = 1; i <= 10; ++i) log.on_commit(0, 256, i);
  log.on_apply(1, 256, 7, &w.o.epochs);
  log.on_apply(2, 256, 9, &w.o.epochs);
  EXPECT_TRUE(log.on_primary(1000, 1, 513, 7, false, &w.o.epochs));
  EXPECT_TRUE(log.on_primary(1003, 2, 512, 9, false, &w.o.epochs));
  EXPECT_FALSE(log.on_primary(1100, 2, 512, 9, false, &w.o.epochs));  // once
  ASSERT_EQ(w.o.epochs.size(), 3u);
  EXPECT_EQ(w.o.epochs[2].epoch, 512u);
  EXPECT_EQ(w.o.epochs[2].parent_epoch, 256u);
  EXPECT_EQ(w.o.epochs[2].fork_index, 9u);
  EXPECT_EQ(w.o.epochs[1].parent_epoch, 256u);
  EXPECT_EQ(w.o.epochs[1].fork_index, 7u);
  // A parent apply landing after the promotion, before the first commit, is in the fork.
  log.on_apply(2, 256, 10, &w.o.epochs);
  EXPECT_EQ(w.o.epochs[2].fork_index, 10u);
  log.on_commit(2, 512, 11);
  log.on_apply(2, 256, 12, &w.o.epochs);  // after a commit of its own: no longer
  EXPECT_EQ(w.o.epochs[2].fork_index, 10u);

  // Histories: kv/a at e256/8 (client 11 on the old primary), kv/b at e512/11 on cluster 2.
  w.write(100, 110, 11, 1, 0, "kv/a", 1, 0, 256, 8);
  w.write(1200, 1210, 12, 5, 2, "kv/b", 2, 2, 512, 11);
  w.o.snapshots.push_back(
      w.snap(1300, 2, true, 512, 11, {{"kv/a", World::value(1)}, {"kv/b", World::value(2)}}));
  CheckerResult r = check_prefix_consistency(w.h, w.o, w.ctx());
  EXPECT_TRUE(r.passed) << describe(r);
  // Without 512's record (the old rule: only an epoch above the highest seen is recorded) the
  // same correct state is misattributed: its e256/8 value looks outside its prefix.
  Observations unrecorded = w.o;
  unrecorded.epochs.pop_back();
  EXPECT_FALSE(check_prefix_consistency(w.h, unrecorded, w.ctx()).passed);
  // Planted: cluster 1, on the sibling branch 513 (forked at e256/7), holds 512's write.
  w.o.snapshots.push_back(w.snap(1400, 1, true, 513, 7, {{"kv/b", World::value(2)}}));
  expect_caught(check_prefix_consistency(w.h, w.o, w.ctx()), kCheckPrefixConsistency,
                "e512/11, which is not in the primary prefix");
}

// A secondary moved from sibling branch 513 to 514 (the operator pointed it there) has not gone
// back, whatever the numbers; back to 256, an ancestor of the epoch it held, it has.
TEST(MonotonicPositions, ASiblingBranchIsNoStepBackAnAncestorIs) {
  World w;
  w.o.epochs = {
      {0, 256, 0, 0, 0, true}, {1000, 514, 2, 256, 9, false}, {1003, 513, 0, 256, 7, false}};
  w.applied(1100, 1, 514, 10);
  w.applied(1200, 1, 513, 8);
  CheckerResult r = check_monotonic_positions(w.h, w.o, w.ctx());
  EXPECT_TRUE(r.passed) << describe(r);
  w.applied(1300, 1, 256, 12);  // planted
  expect_caught(check_monotonic_positions(w.h, w.o, w.ctx()), kCheckMonotonicPositions,
                "went back from epoch 513 to its ancestor 256");
}

// A write acknowledged on a branch the final lineage abandoned (513, for its sibling 514 promoted
// 3 ms later) is the declared loss of the unplanned promotion that made 514, found by walking
// the write's lineage up to where the final one diverges; if that promotion was planned the
// loss is a failure. The final lineage is the last sampled primary's, not the highest number.
TEST(Durability, AWriteOnAnAbandonedSiblingBranchIsTheDeclaredLossOfTheOtherPromotion) {
  World w;
  w.o.epochs = {
      {0, 256, 0, 0, 0, true}, {1000, 514, 2, 256, 9, false}, {1003, 513, 1, 256, 7, false}};
  w.write(100, 110, 11, 1, 0, "kv/a", 1, 0, 256, 8);    // in 514's lineage (fork 9)
  w.write(1100, 1110, 12, 3, 1, "kv/b", 2, 1, 513, 8);  // on the abandoned branch
  w.o.snapshots.push_back(w.snap(2000, 1, false, 514, 12, {}));
  w.o.snapshots.push_back(w.snap(2000, 2, true, 514, 12, {}));
  LossWindow loss;
  CheckerResult r = check_durability(w.h, w.o, w.ctx(), &loss);
  EXPECT_TRUE(r.passed) << describe(r);
  EXPECT_EQ(loss.writes_lost, 1u);
  // The same history ending on branch 513 (its primary sampled last) loses the other way.
  World other = w;
  other.o.snapshots.push_back(other.snap(2100, 1, true, 513, 12, {}));
  EXPECT_TRUE(check_durability(other.h, other.o, other.ctx(), nullptr).passed);
  // Planted: 514 was a planned promotion, so nothing acknowledged may be lost.
  w.o.epochs[1].planned = true;
  expect_caught(check_durability(w.h, w.o, w.ctx(), nullptr), kCheckDurability,
                "lost across the planned failover to epoch 514");
}

}  // namespace
}  // namespace replsim::harness
