// Each checker catches a violation planted on purpose in a synthetic history, and passes the
// same history without the plant (so the test shows the plant is what it caught).
#include "sim/harness/checkers.h"

#include <gtest/gtest.h>

#include "sim/harness/stored_root.h"

namespace replsim::harness {
namespace {

constexpr uint64_t kSeed = 4242;

// A small world: cluster 0 primary (nodes 1-2), cluster 1 secondary (nodes 3-4); client 10
// bound to node 3 (secondary), client 11 bound to node 1 (primary).
class Synthetic {
 public:
  Synthetic() {
    o.epochs.push_back({0, 1, 0, 0, 0, true});
    operator_ok(5, "enable_primary", 0);
    operator_ok(6, "enable_secondary", 1);
  }
  std::string value(int n) { return std::string(kPlaintextMarker) + "v" + std::to_string(n); }
  void operator_ok(TimeUs t, const char* f, uint32_t cluster) {
    HistoryEvent e;
    e.time_us = t;
    e.client = kOperatorClient;
    e.op_id = ++op;
    e.f = f;
    e.cluster = cluster;
    h.append(e);
    e.type = EventType::kOk;
    h.append(e);
  }
  // A write (value n; n < 0: delete) by `client` at node/cluster, acknowledged at (epoch, index)
  // with `served` = committing cluster. Returns the completion's index.
  int64_t write(TimeUs t, int64_t client, uint32_t node, uint32_t cluster, const std::string& key,
                int n, EventType outcome, uint64_t epoch, uint64_t index,
                std::string warning = "") {
    HistoryEvent e;
    e.time_us = t;
    e.client = client;
    e.op_id = ++op;
    e.f = n < 0 ? kOpDelete : kOpWrite;
    e.key = key;
    if (n >= 0) e.value = value(n);
    e.node = node;
    e.cluster = cluster;
    h.append(e);
    e.time_us = t + 10;
    e.type = outcome;
    e.value.reset();
    if (outcome == EventType::kOk) {
      e.epoch = epoch;
      e.wal_index = index;
      e.served_by_cluster = 0;
      e.forwarded = cluster != 0;
      e.warning = warning;
    }
    return h.append(e);
  }
  int64_t read(TimeUs t, int64_t client, uint32_t node, uint32_t cluster, const std::string& key,
               std::optional<std::string> v) {
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
    return h.append(e);
  }
  StateSnapshot snap(TimeUs t, uint32_t cluster, bool primary, uint64_t epoch, uint64_t index,
                     std::map<std::string, std::string> data, std::string root = "r") {
    StateSnapshot s;
    s.time_us = t;
    s.cluster = cluster;
    s.node = cluster == 0 ? 1 : 3;
    s.primary = primary;
    s.state = primary ? "running" : "stream-wals";
    s.epoch = epoch;
    s.index = index;
    s.data = std::move(data);
    s.merkle_root = std::move(root);
    return s;
  }
  CheckContext ctx() {
    CheckContext c;
    c.seed = kSeed;
    c.clusters = 2;
    c.quiesce_time_us = 1000;
    c.convergence_bound_us = 500;
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
  EXPECT_GE(r.event_time_us, 0);
  EXPECT_NE(r.message.find(needle), std::string::npos) << describe(r);
  EXPECT_NE(describe(r).find("seed 4242"), std::string::npos);
}

TEST(PrefixConsistency, CatchesSecondaryHoldingAValueOutsideItsPrefix) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.write(150, 11, 1, 0, "kv/b", 3, EventType::kOk, 1, 2);
  s.write(200, 11, 1, 0, "kv/a", 2, EventType::kOk, 1, 3);
  s.o.snapshots.push_back(s.snap(300, 1, false, 1, 1, {{"kv/a", s.value(1)}}));
  // After merkle-sync a secondary may hold a later prefix than it reports: still a prefix.
  s.o.snapshots.push_back(
      s.snap(350, 1, false, 1, 1, {{"kv/a", s.value(2)}, {"kv/b", s.value(3)}}));
  EXPECT_TRUE(check_prefix_consistency(s.h, s.o, s.ctx()).passed)
      << describe(check_prefix_consistency(s.h, s.o, s.ctx()));
  // Planted: index 3's value of kv/a without index 2's kv/b: no prefix has that state.
  s.o.snapshots.push_back(s.snap(400, 1, false, 1, 1, {{"kv/a", s.value(2)}}));
  CheckerResult r = check_prefix_consistency(s.h, s.o, s.ctx());
  expect_caught(r, kCheckPrefixConsistency, "not in the primary prefix");
  EXPECT_EQ(r.event_time_us, 400);
}

TEST(PrefixConsistency, CatchesStaleValueWithinPrefixAndFailedWriteAndTwoPrimaries) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.write(200, 11, 1, 0, "kv/a", 2, EventType::kOk, 1, 2);
  s.write(250, 11, 1, 0, "kv/b", 3, EventType::kFail, 0, 0);
  Synthetic stale = s;
  stale.o.snapshots.push_back(stale.snap(300, 1, false, 1, 2, {{"kv/a", stale.value(1)}}));
  expect_caught(check_prefix_consistency(stale.h, stale.o, stale.ctx()), kCheckPrefixConsistency,
                "later within the prefix");
  Synthetic failed = s;
  failed.o.snapshots.push_back(
      failed.snap(300, 0, true, 1, 2, {{"kv/a", failed.value(2)}, {"kv/b", failed.value(3)}}));
  expect_caught(check_prefix_consistency(failed.h, failed.o, failed.ctx()), kCheckPrefixConsistency,
                "failed");
  Synthetic split = s;
  split.o.positions.push_back({260, 0, 1, true, 1, 2});
  EXPECT_TRUE(check_prefix_consistency(split.h, split.o, split.ctx()).passed);
  split.o.positions.push_back({270, 1, 3, true, 1, 3});  // the secondary commits
  expect_caught(check_prefix_consistency(split.h, split.o, split.ctx()), kCheckPrefixConsistency,
                "two primaries in epoch 1");
}

TEST(PrefixConsistency, FollowsTheLineageAcrossEpochs) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.write(200, 11, 1, 0, "kv/a", 2, EventType::kOk, 1, 2);  // lost: fork at 1
  s.o.epochs.push_back({300, 2, 1, 1, 1, false});
  s.write(400, 10, 3, 1, "kv/b", 3, EventType::kOk, 2, 1);
  s.o.snapshots.push_back(s.snap(500, 1, true, 2, 1, {{"kv/a", s.value(1)}, {"kv/b", s.value(3)}}));
  EXPECT_TRUE(check_prefix_consistency(s.h, s.o, s.ctx()).passed)
      << describe(check_prefix_consistency(s.h, s.o, s.ctx()));
  // Planted: the old primary, now a secondary of epoch 2, still holds the lost write.
  s.o.snapshots.push_back(
      s.snap(600, 0, false, 2, 1, {{"kv/a", s.value(2)}, {"kv/b", s.value(3)}}));
  expect_caught(check_prefix_consistency(s.h, s.o, s.ctx()), kCheckPrefixConsistency,
                "e1/2, which is not in the primary prefix");
}

TEST(PrefixConsistency, CatchesReadOfAValueNobodyWrote) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.read(200, 11, 1, 0, "kv/a", s.value(1));
  EXPECT_TRUE(check_prefix_consistency(s.h, s.o, s.ctx()).passed);
  int64_t bad = s.read(300, 11, 1, 0, "kv/a", s.value(99));
  CheckerResult r = check_prefix_consistency(s.h, s.o, s.ctx());
  expect_caught(r, kCheckPrefixConsistency, "no write");
  EXPECT_EQ(r.event_index, bad);
}

TEST(Convergence, CatchesASecondaryThatNeverCatchesUp) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  std::map<std::string, std::string> full = {{"kv/a", s.value(1)}};
  Synthetic good = s;
  good.o.snapshots.push_back(good.snap(1200, 0, true, 1, 1, full));
  good.o.snapshots.push_back(good.snap(1200, 1, false, 1, 1, full));
  EXPECT_TRUE(check_convergence(good.h, good.o, good.ctx()).passed);
  // Planted: the secondary is still empty at the last sample inside the bound.
  s.o.snapshots.push_back(s.snap(1200, 0, true, 1, 1, full));
  s.o.snapshots.push_back(s.snap(1200, 1, false, 1, 0, {}));
  s.o.snapshots.push_back(s.snap(1400, 0, true, 1, 1, full));
  s.o.snapshots.push_back(s.snap(1400, 1, false, 1, 1, full, "other-root"));
  CheckerResult r = check_convergence(s.h, s.o, s.ctx());
  expect_caught(r, kCheckConvergence, "merkle root other-root");
  EXPECT_EQ(r.event_time_us, 1500);
  CheckContext unbounded = s.ctx();
  unbounded.bounded = false;
  EXPECT_TRUE(check_convergence(s.h, s.o, unbounded).skipped);
}

TEST(Sampling, StatusOnlySamplesAreNeitherStatesNorConvergenceRounds) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  std::map<std::string, std::string> full = {{"kv/a", s.value(1)}};
  StateSnapshot status_only = s.snap(1200, 1, false, 1, 1, {});
  status_only.has_data = false;
  s.o.snapshots.push_back(s.snap(1200, 0, true, 1, 1, full));
  s.o.snapshots.push_back(status_only);
  // An empty status-only sample is no empty state: no prefix violation, no converged round.
  EXPECT_TRUE(check_prefix_consistency(s.h, s.o, s.ctx()).passed);
  CheckerResult r = check_convergence(s.h, s.o, s.ctx());
  expect_caught(r, kCheckConvergence, "no snapshot was taken after the faults stopped");
  s.o.snapshots.push_back(s.snap(1300, 0, true, 1, 1, full));
  s.o.snapshots.push_back(s.snap(1300, 1, false, 1, 1, full));
  EXPECT_TRUE(check_convergence(s.h, s.o, s.ctx()).passed);
  // A data snapshot is still checked: planted, the secondary lost kv/a.
  s.o.snapshots.push_back(s.snap(1400, 1, false, 1, 1, {}));
  expect_caught(check_prefix_consistency(s.h, s.o, s.ctx()), kCheckPrefixConsistency,
                "kv/a is absent");
}

TEST(PrefixConsistency, ChecksARepeatedStateThatWasNotCheckedBefore) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  StateSnapshot syncing = s.snap(300, 1, false, 1, 1, {});
  syncing.state = "merkle-sync";  // not settled: not checked
  s.o.snapshots.push_back(syncing);
  s.o.snapshots.push_back(s.snap(400, 1, false, 1, 1, {{"kv/a", s.value(1)}}));
  s.o.snapshots.push_back(s.snap(500, 1, false, 1, 1, {{"kv/a", s.value(1)}}));
  EXPECT_TRUE(check_prefix_consistency(s.h, s.o, s.ctx()).passed);
  // Planted: the same empty state as the unsettled sample, now settled: missing kv/a.
  s.o.snapshots.push_back(s.snap(600, 1, false, 1, 1, {}));
  CheckerResult r = check_prefix_consistency(s.h, s.o, s.ctx());
  expect_caught(r, kCheckPrefixConsistency, "kv/a is absent");
  EXPECT_EQ(r.event_time_us, 600);
}

TEST(Durability, CatchesAcknowledgedWriteLostByPrimaryCrash) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  int64_t acked = s.write(200, 11, 1, 0, "kv/a", 2, EventType::kOk, 1, 2);
  RecoveryRecord r;
  r.time_us = 900;
  r.fault_time_us = 500;
  r.cause = "power_loss";
  r.primary = true;
  r.epoch = 1;
  r.index = 2;
  s.o.recoveries.push_back(r);
  EXPECT_TRUE(check_durability(s.h, s.o, s.ctx(), nullptr).passed);
  s.o.recoveries.back().index = 1;  // planted: index 2 acknowledged, then lost
  CheckerResult res = check_durability(s.h, s.o, s.ctx(), nullptr);
  expect_caught(res, kCheckDurability, "power_loss");
  EXPECT_EQ(res.event_index, acked);
}

TEST(Durability, MeasuresLossWindowOfUnplannedPromotionAndRefusesPlannedLoss) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.write(200, 11, 1, 0, "kv/a", 2, EventType::kOk, 1, 2);
  s.write(250, 11, 1, 0, "kv/b", 3, EventType::kOk, 1, 3);
  s.o.epochs.push_back({1000, 2, 1, 1, 1, /*planned=*/false});
  LossWindow loss;
  CheckerResult r = check_durability(s.h, s.o, s.ctx(), &loss);
  EXPECT_TRUE(r.passed) << describe(r);
  EXPECT_EQ(loss.writes_lost, 2u);
  EXPECT_EQ(loss.promotions_unplanned, 1u);
  EXPECT_EQ(loss.window_us_max, 1000 - 210);
  s.o.epochs.back().planned = true;  // planted: a planned failover may lose nothing
  expect_caught(check_durability(s.h, s.o, s.ctx(), nullptr), kCheckDurability, "planned failover");
}

TEST(ReadAfterWrite, CatchesStaleReadAfterWarningFreeForwardedWrite) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  s.write(200, 10, 3, 1, "kv/a", 2, EventType::kOk, 1, 2);
  s.read(300, 10, 3, 1, "kv/a", s.value(2));
  EXPECT_TRUE(check_read_after_write(s.h, s.o, s.ctx()).passed);
  Synthetic warned = s;
  warned.write(400, 10, 3, 1, "kv/a", 3, EventType::kOk, 1, 3, "not applied within 2s");
  warned.read(500, 10, 3, 1, "kv/a", warned.value(2));
  EXPECT_TRUE(check_read_after_write(warned.h, warned.o, warned.ctx()).passed);
  s.write(400, 10, 3, 1, "kv/a", 3, EventType::kOk, 1, 3);
  int64_t bad = s.read(500, 10, 3, 1, "kv/a", s.value(2));  // planted: old value
  CheckerResult r = check_read_after_write(s.h, s.o, s.ctx());
  expect_caught(r, kCheckReadAfterWrite, "next read there returned");
  EXPECT_EQ(r.event_index, bad);
}

// An open-loop client's read invoked before its write was acknowledged is concurrent with the
// write: it may return the old value (clock_skew_leases seed 1 was failed for that). The
// next read invoked after the acknowledgement is still checked.
TEST(ReadAfterWrite, ReadInvokedBeforeTheAcknowledgementIsConcurrent) {
  Synthetic s;
  s.write(100, 10, 3, 1, "kv/a", 1, EventType::kOk, 1, 1);
  HistoryEvent r;  // invoked at 150, before the write below is acknowledged (at 210)
  r.time_us = 150;
  r.client = 10;
  r.op_id = 777;
  r.f = kOpRead;
  r.key = "kv/a";
  r.node = 3;
  r.cluster = 1;
  s.h.append(r);
  s.write(200, 10, 3, 1, "kv/a", 2, EventType::kOk, 1, 2);
  r.time_us = 260;
  r.type = EventType::kOk;
  r.value = s.value(1);
  s.h.append(r);
  EXPECT_TRUE(check_read_after_write(s.h, s.o, s.ctx()).passed);
  int64_t bad = s.read(300, 10, 3, 1, "kv/a", s.value(1));  // planted: invoked after the ack
  CheckerResult result = check_read_after_write(s.h, s.o, s.ctx());
  expect_caught(result, kCheckReadAfterWrite, "next read there returned");
  EXPECT_EQ(result.event_index, bad);
}

// A paused former active node resumes and reports applies it made before the pause: no
// position of the cluster, whose lock holder is further on. A holder going back is caught.
TEST(MonotonicPositions, LateReportOfADeposedNodeIsNoPosition) {
  Synthetic s;
  s.o.positions.push_back({100, 1, 3, false, 1, 9});
  s.o.positions.push_back({200, 1, 4, false, 1, 12});         // node 4 took the lock
  s.o.positions.push_back({300, 1, 3, false, 1, 10, false});  // node 3 resumed: late report
  EXPECT_TRUE(check_monotonic_positions(s.h, s.o, s.ctx()).passed);
  s.o.positions.push_back({400, 1, 4, false, 1, 11});  // planted: the holder goes back
  expect_caught(check_monotonic_positions(s.h, s.o, s.ctx()), kCheckMonotonicPositions, "from 12");
}

TEST(MonotonicPositions, CatchesSecondaryGoingBackWithinAnEpoch) {
  Synthetic s;
  s.o.positions.push_back({100, 1, 3, false, 1, 5});
  s.o.positions.push_back({200, 1, 3, false, 1, 6});
  s.o.positions.push_back({300, 1, 3, false, 2, 1});  // new epoch: may restart
  EXPECT_TRUE(check_monotonic_positions(s.h, s.o, s.ctx()).passed);
  s.o.snapshots.push_back(s.snap(400, 1, false, 2, 0, {}));  // planted: back to 0
  CheckerResult r = check_monotonic_positions(s.h, s.o, s.ctx());
  expect_caught(r, kCheckMonotonicPositions, "went back within epoch 2");
  EXPECT_EQ(r.event_time_us, 400);
}

TEST(LocalStaysLocal, CatchesForeignTokenAndLocalPathsLeaving) {
  Synthetic s;
  HistoryEvent login;
  login.time_us = 100;
  login.client = 11;
  login.op_id = 900;
  login.f = kOpLogin;
  login.node = 1;
  login.cluster = 0;
  s.h.append(login);
  login.type = EventType::kOk;
  login.token = "tok-0123456789abcdef";
  s.h.append(login);
  ReplicationMessage batch{200, 1, 3, 1, "wal_batch", true, {"kv/a"}, "ciphertext"};
  s.o.replication_messages.push_back(batch);
  EXPECT_TRUE(check_local_stays_local(s.h, s.o, s.ctx()).passed);

  Synthetic leak = s;
  leak.o.replication_messages.push_back({300, 1, 3, 1, "wal_batch", true, {"local/c0/x"}, ""});
  expect_caught(check_local_stays_local(leak.h, leak.o, leak.ctx()), kCheckLocalStaysLocal,
                "local path local/c0/x shipped");
  Synthetic token_leak = s;
  token_leak.o.replication_messages.push_back(
      {300, 1, 3, 1, "merkle", true, {}, "xx tok-0123456789abcdef xx"});
  expect_caught(check_local_stays_local(token_leak.h, token_leak.o, token_leak.ctx()),
                kCheckLocalStaysLocal, "token minted on cluster 0");
  Synthetic stored = s;
  StateSnapshot snap = stored.snap(300, 1, false, 1, 0, {});
  snap.local_paths = {"local/c1/k1", "local/c0/k1"};
  stored.o.snapshots.push_back(snap);
  expect_caught(check_local_stays_local(stored.h, stored.o, stored.ctx()), kCheckLocalStaysLocal,
                "a local path of cluster 0");
  HistoryEvent use;
  use.time_us = 400;
  use.client = 10;
  use.op_id = 901;
  use.f = kOpTokenUse;
  use.token = "tok-0123456789abcdef";
  use.node = 3;
  use.cluster = 1;
  s.h.append(use);
  use.type = EventType::kOk;  // planted: cluster 1 accepted cluster 0's token
  int64_t bad = s.h.append(use);
  CheckerResult r = check_local_stays_local(s.h, s.o, s.ctx());
  expect_caught(r, kCheckLocalStaysLocal, "accepted by cluster 1");
  EXPECT_EQ(r.event_index, bad);
}

TEST(IndexConsistency, CatchesIndexRootMismatchPartialTransactionAndMissingAck) {
  Synthetic s;
  s.write(100, 11, 1, 0, "kv/a", 1, EventType::kOk, 1, 1);
  RecoveryRecord r;
  r.time_us = 900;
  r.fault_time_us = 500;
  r.cause = "crash";
  r.primary = true;
  r.epoch = 1;
  r.index = 1;
  r.index_root = r.rebuilt_root = "abc";
  r.data = {{"kv/a", s.value(1)}};
  s.o.recoveries.push_back(r);
  EXPECT_TRUE(check_index_consistency(s.h, s.o, s.ctx()).passed);
  Synthetic root = s;
  root.o.recoveries.back().rebuilt_root = "abd";
  expect_caught(check_index_consistency(root.h, root.o, root.ctx()), kCheckIndexConsistency,
                "differs from the root rebuilt");
  Synthetic partial = s;
  partial.o.recoveries.back().storage_whole = false;
  partial.o.recoveries.back().storage_detail = "txn 7: 1 of 2 keys";
  expect_caught(check_index_consistency(partial.h, partial.o, partial.ctx()),
                kCheckIndexConsistency, "partial transaction");
  Synthetic missing = s;
  missing.o.recoveries.back().data.clear();
  expect_caught(check_index_consistency(missing.h, missing.o, missing.ctx()),
                kCheckIndexConsistency, "is absent");
}

// The recovered index is compared with a root the harness rebuilds from the replicated data
// as stored (path -> ciphertext): an index that lost an update, or kept a stale one, differs.
TEST(IndexConsistency, CatchesAnIndexThatDivergesFromTheStoredData) {
  const merkle::MerkleShape shape{4, 4};
  const std::map<std::string, std::string> stored = {
      {"kv/a", "ciphertext-a2"}, {"kv/b", "ciphertext-b1"}, {"kv/c", "ciphertext-c1"}};
  // An index that saw the same writes in another order (and a key put then erased) agrees.
  merkle::MerkleIndex same(shape);
  same.put("kv/c", "ciphertext-c1");
  same.put("kv/x", "ciphertext-x1");
  same.put("kv/a", "ciphertext-a1");
  same.put("kv/b", "ciphertext-b1");
  same.put("kv/a", "ciphertext-a2");
  same.erase("kv/x");
  // Planted: the index missed the last update of kv/a (it still hashes the old ciphertext).
  merkle::MerkleIndex stale(shape);
  for (const auto& [path, ciphertext] : stored) stale.put(path, ciphertext);
  stale.put("kv/a", "ciphertext-a1");
  // Planted: the index still holds a key storage deleted.
  merkle::MerkleIndex extra(shape);
  for (const auto& [path, ciphertext] : stored) extra.put(path, ciphertext);
  extra.put("kv/x", "ciphertext-x1");

  Synthetic s;
  RecoveryRecord r;
  r.time_us = 900;
  r.fault_time_us = 500;
  r.cause = "power_loss";
  r.cluster = 1;
  r.node = 3;
  r.epoch = 1;
  r.rebuilt_root = merkle_root_from_storage(stored, shape);
  r.index_root = same.root_hex();
  s.o.recoveries.push_back(r);
  EXPECT_TRUE(check_index_consistency(s.h, s.o, s.ctx()).passed);
  for (merkle::MerkleIndex* divergent : {&stale, &extra}) {
    Synthetic bad = s;
    bad.o.recoveries.back().index_root = divergent->root_hex();
    CheckerResult caught = check_index_consistency(bad.h, bad.o, bad.ctx());
    expect_caught(caught, kCheckIndexConsistency, "differs from the root rebuilt from storage");
    EXPECT_EQ(caught.event_time_us, 900);
  }
}

TEST(Bounds, CatchesEngineQueuesOverTheirLimits) {
  Synthetic s;
  s.o.bounds.push_back({100, 1, "wal_buffer_entries (cluster 0)", 16384, 16384});
  s.o.bounds.push_back({100, 1, "inflight_batches/dc1 (cluster 0)", 32, 32});
  s.o.bounds.push_back({100, 3, "waiters (cluster 1)", 4, 4});
  EXPECT_TRUE(check_bounds(s.h, s.o, s.ctx()).passed);
  Synthetic wal = s;
  wal.o.bounds.push_back({300, 1, "wal_buffer_entries (cluster 0)", 16385, 16384});
  expect_caught(check_bounds(wal.h, wal.o, wal.ctx()), kCheckBounds,
                "wal_buffer_entries (cluster 0) = 16385 exceeds its limit 16384");
  Synthetic send = s;
  send.o.bounds.push_back({250, 1, "inflight_batches/dc1 (cluster 0)", 33, 32});
  send.o.bounds.push_back({400, 3, "waiters (cluster 1)", 9, 4});
  CheckerResult first = check_bounds(send.h, send.o, send.ctx());
  expect_caught(first, kCheckBounds, "inflight_batches/dc1 (cluster 0) = 33");
  EXPECT_EQ(first.event_time_us, 250);  // the earliest violation is named
  Synthetic waiters = s;
  waiters.o.bounds.push_back({400, 3, "waiters (cluster 1)", 9, 4});
  expect_caught(check_bounds(waiters.h, waiters.o, waiters.ctx()), kCheckBounds,
                "waiters (cluster 1) = 9 exceeds its limit 4 at node 3");
}

TEST(Bounds, CatchesABatchOverItsLimit) {
  Synthetic s;
  s.o.bounds.push_back({100, 1, "wal_batch_entries", 63, 63});
  EXPECT_TRUE(check_bounds(s.h, s.o, s.ctx()).passed);
  s.o.bounds.push_back({200, 1, "wal_batch_entries", 64, 63});
  expect_caught(check_bounds(s.h, s.o, s.ctx()), kCheckBounds, "wal_batch_entries = 64");
}

TEST(Security, CatchesPlaintextOnTheWireAndReplicationWithoutActivation) {
  Synthetic s;
  scan_plaintext("random ciphertext bytes", 100, "wire 1->3", &s.o);
  s.o.replication_messages.push_back({200, 1, 3, 1, "wal_batch", true, {}, ""});
  EXPECT_TRUE(check_security(s.h, s.o, s.ctx()).passed);
  Synthetic wire = s;
  scan_plaintext("xx" + s.value(7) + "yy", 150, "wire 1->3", &wire.o);
  expect_caught(check_security(wire.h, wire.o, wire.ctx()), kCheckSecurity, "wire 1->3");
  // Planted: cluster 2 was never activated but receives a batch.
  s.o.replication_messages.push_back({300, 1, 5, 2, "wal_batch", true, {}, ""});
  expect_caught(check_security(s.h, s.o, s.ctx()), kCheckSecurity,
                "without a valid activation token");
}

// Appends an operator call on `cluster` that ends with `outcome`.
void operator_call(History& h, TimeUs t, uint64_t op, const char* f, uint32_t cluster,
                   EventType outcome) {
  HistoryEvent e;
  e.time_us = t;
  e.client = kOperatorClient;
  e.op_id = op;
  e.f = f;
  e.cluster = cluster;
  h.append(e);
  e.type = outcome;
  h.append(e);
}

TEST(Security, CatchesARogueJoinThatWasAccepted) {
  Synthetic s;
  operator_call(s.h, 400, 90, "rogue_join:forged", 3, EventType::kFail);
  operator_call(s.h, 410, 91, "rogue_join:replayed", 3, EventType::kFail);
  CheckerResult refused = check_security(s.h, s.o, s.ctx());
  EXPECT_TRUE(refused.passed);
  EXPECT_NE(refused.message.find("2 bad-token joins refused"), std::string::npos)
      << refused.message;
  // Planted: the engine accepts a replayed token; nothing replicated has reached cluster 3 yet,
  // so only the accepted join itself can reveal it.
  operator_call(s.h, 420, 92, "rogue_join:rebound", 3, EventType::kOk);
  expect_caught(check_security(s.h, s.o, s.ctx()), kCheckSecurity,
                "cluster 3 joined with a bad token (rebound)");
}

TEST(Checkers, RunAllNamesEveryCheckerAndRefusesUnknownNames) {
  Synthetic s;
  std::vector<CheckerResult> all = run_checkers({}, s.h, s.o, s.ctx(), nullptr);
  ASSERT_EQ(all.size(), all_checker_names().size());
  std::vector<CheckerResult> bad = run_checkers({"nope"}, s.h, s.o, s.ctx(), nullptr);
  EXPECT_FALSE(bad[0].passed);
}

}  // namespace
}  // namespace replsim::harness
