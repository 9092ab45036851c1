// End-to-end runs of the scenario runner over the real engine in the simulated world.
#include "sim/harness/runner.h"

#include <gtest/gtest.h>

#include <sstream>

#include "sim/harness/checkers.h"
#include "sim/harness/history.h"
#include "sim/harness/run_context.h"

namespace replsim::harness {
namespace {

ScenarioConfig small_scenario() {
  ScenarioConfig c;
  c.name = "runner_test_small";
  c.topology.secondary_clusters = 1;
  // One node per cluster: with standbys the engine forwards client requests (plaintext
  // values) standby → active, which the security checker rightly flags (see the test below).
  c.topology.nodes_per_cluster = 1;
  c.workload.clients = 3;
  c.workload.keys = 16;
  c.phases.safety_duration_us = 3 * kUsPerSec;
  c.phases.liveness_writes_us = 500'000;
  c.phases.convergence_bound_us = 20 * kUsPerSec;
  return c;
}

std::string report(const RunResult& r) {
  std::ostringstream s;
  s << "error: " << r.error << "\n";
  for (const CheckerResult& c : r.checks) s << describe(c) << "\n";
  return s.str();
}

TEST(Runner, FaultFreeRunPassesEveryCheckerAndConverges) {
  RunResult r = run_scenario(small_scenario(), 7, nullptr);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.passed()) << report(r);
  EXPECT_EQ(r.checks.size(), all_checker_names().size());
  EXPECT_GT(r.writes, 10u);
  EXPECT_GT(r.reads, 10u);
  EXPECT_GE(r.converged_after_us, 0);
  EXPECT_FALSE(r.lag.empty());
  ASSERT_NE(r.history, nullptr);
  std::ostringstream jsonl;
  r.history->write_jsonl(jsonl);
  EXPECT_NE(jsonl.str().find("\"f\":\"write\""), std::string::npos);
}

// Lag is measured per streamed entry in global virtual time (commit on the primary to apply on
// the secondary): without faults every sample is positive and well under a second.
TEST(Runner, ReplicationLagIsMeasuredPerEntryFromCommitToApply) {
  RunResult r = run_scenario(small_scenario(), 7, nullptr);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_GT(r.lag.size(), r.writes / 2);  // one secondary: about one sample per write
  for (const LagSample& s : r.lag) {
    EXPECT_EQ(s.cluster, 1u);
    EXPECT_GT(s.lag_us, 0);
    EXPECT_LT(s.lag_us, kUsPerSec);
  }
}

// Every recovery of a crashed primary compares its merkle index with the root rebuilt from
// its storage (not only a planted synthetic record).
TEST(Runner, IndexRootIsComparedWithStorageAfterEveryRecovery) {
  ScenarioConfig c = small_scenario();
  FaultSpec crash;
  crash.kind = FaultKind::kCrash;
  crash.at_us = 1 * kUsPerSec;
  crash.target.cluster = 0;
  crash.duration_us = 200'000;
  c.faults.push_back(crash);
  c.checkers = {kCheckIndexConsistency};
  RunResult r = run_scenario(c, 7, nullptr);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_TRUE(r.passed()) << report(r);
  const std::string& m = r.checks[0].message;  // "<n> recoveries, <n> index roots compared"
  const size_t recoveries = std::stoul(m);
  EXPECT_GE(recoveries, 1u) << m;
  EXPECT_NE(m.find(", " + std::to_string(recoveries) + " index roots compared"), std::string::npos)
      << m;
}

TEST(Runner, SameSeedGivesTheSameTraceHashUnderFaults) {
  ScenarioConfig c = small_scenario();
  c.random_faults.enabled = true;
  c.random_faults.faults_per_sec = 2;
  RunResult a = run_scenario(c, 11, nullptr);
  RunResult b = run_scenario(c, 11, nullptr);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.history->size(), b.history->size());
  RunResult other = run_scenario(c, 12, nullptr);
  EXPECT_NE(a.trace_hash, other.trace_hash);
}

// Data snapshots decrypt only the values that changed since the cluster's previous one: every
// data snapshot of a run with crashes, power loss, disk faults (undecryptable values), a
// partition and a planned failover equals a full decryption of the node's data.
TEST(Runner, CachedDataSnapshotsEqualFullDecryption) {
  ScenarioConfig c = small_scenario();
  c.topology.secondary_clusters = 2;
  c.topology.nodes_per_cluster = 2;
  c.workload.keys = 64;
  c.regime = FaultRegime::kUnbounded;
  c.random_faults.enabled = true;
  c.random_faults.faults_per_sec = 1.5;
  c.phases.safety_duration_us = 6 * kUsPerSec;
  OperatorAction failover;
  failover.at_us = 3 * kUsPerSec;
  failover.kind = OperatorActionKind::kFailover;
  failover.cluster = 1;
  c.operator_actions.push_back(failover);
  c.cross_check_data = true;
  for (uint64_t seed : {4, 6}) {  // seeds whose runs acknowledge > 500 writes
    RunResult r = run_scenario(c, seed, nullptr);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_GT(r.writes, 200u);
    EXPECT_GT(r.data_snapshots_cross_checked, 300u);
    EXPECT_GT(r.data_values_reused, r.data_values_decrypted);
    EXPECT_GT(r.data_values_decrypted, 0u);
    // The cross-check only observes: the same seed without it runs the same events.
    ScenarioConfig plain = c;
    plain.cross_check_data = false;
    RunResult p = run_scenario(plain, seed, nullptr);
    EXPECT_EQ(p.trace_hash, r.trace_hash);
    EXPECT_EQ(p.data_snapshots_cross_checked, 0u);
  }
}

// Standbys forward requests to the active node; replication.proto promises node-to-node
// messages carry ciphertext only. Kept as a test so the finding stays visible until fixed.
TEST(Runner, StandbyForwardingCarriesNoPlaintext) {
  ScenarioConfig c = small_scenario();
  c.topology.nodes_per_cluster = 2;
  c.checkers = {kCheckSecurity};
  RunResult r = run_scenario(c, 7, nullptr);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.passed()) << report(r);
}

// The runner keeps only new maxima and violations of each bounded quantity (a sample per WAL
// batch was ~2,700 per virtual s): every violation is still kept, so the bounds checker fails
// on the same planted sample as over the full series.
TEST(Runner, BoundSamplesKeepEveryViolationAndEachNewMaximum) {
  const std::vector<uint64_t> series = {3, 5, 5, 4, 9, 2, 12, 7, 11, 12, 6};
  const uint64_t limit = 10;
  uint64_t max = 0;
  Observations all;
  Observations kept;
  for (size_t i = 0; i < series.size(); ++i) {
    const BoundSample b{static_cast<TimeUs>(100 * i), 1, "wal_batch_entries", series[i], limit};
    all.bounds.push_back(b);
    if (keep_bound_sample(series[i], limit, &max)) kept.bounds.push_back(b);
  }
  std::vector<uint64_t> kept_values;
  for (const BoundSample& b : kept.bounds) kept_values.push_back(b.value);
  EXPECT_EQ(kept_values, (std::vector<uint64_t>{3, 5, 9, 12, 11, 12}));
  History h;
  CheckContext c;
  const CheckerResult full = check_bounds(h, all, c);
  const CheckerResult sampled = check_bounds(h, kept, c);
  EXPECT_FALSE(full.passed);
  EXPECT_FALSE(sampled.passed);
  EXPECT_EQ(sampled.event_time_us, full.event_time_us);  // the planted 12 at t=600
  EXPECT_EQ(sampled.event_time_us, 600);
  EXPECT_EQ(sampled.message, full.message);
}

}  // namespace
}  // namespace replsim::harness
