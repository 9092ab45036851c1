// The scenario runner: one plain ScenarioConfig in, one RunResult out.
//
// A run builds the topology (1 primary + N secondary clusters of K nodes each; LAN inside a
// cluster, WAN between clusters; one SimDisk per cluster; a clock per node) in a SimWorld,
// boots an engine node per simulated process, starts the simulated clients, and then runs
//   1. the *safety phase* (safety_duration_us): workload + fault schedule + operator actions;
//   2. the *liveness phase*: every fault is healed and no new fault is injected; writes stop
//      after liveness_writes_us, and in the bounded regime every cluster must converge
//      (replicated state and merkle root equal the primary's) within convergence_bound_us.
// Then the checkers (docs/design.md §4) run over the History and the recorded observations.
//
// The same (config, seed) on the same build gives the same RunResult, trace hash included.
//
// Stability: the CLI and the reports code against this file. Additive changes only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/types.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/trace.h"

namespace replsim::harness {

class History;
struct HistoryEvent;

// ---- topology ----

struct ClockModel {
  bool enabled = true;            // per-node offset and drift are on by default (DESIGN §3)
  TimeUs offset_max_us = 50'000;  // each node: offset uniform in [-max, +max]
  double drift_ppm_max = 100.0;   // each node: drift uniform in [-max, +max] ppm
};

struct TopologyConfig {
  uint32_t secondary_clusters = 2;  // N; cluster 0 is the first primary, 1..N secondaries
  uint32_t nodes_per_cluster = 3;   // K; node 0 of each cluster starts active
  sim::LinkModel lan = sim::LinkModel::lan();  // links inside a cluster (and client → node)
  sim::LinkModel wan = sim::LinkModel::wan();  // links between clusters
  sim::DiskOptions disk;                       // one disk per cluster (the shared storage backend)
  ClockModel clock;
  // One more cluster (index N + 1, same size, own disk) that is never activated: it is no
  // part of the replication topology (no clients, faults, samples or convergence) and only
  // tries to join with bad credentials (kRogueJoin). It must receive nothing replicated.
  bool rogue_cluster = false;
};

// ---- workload ----

enum class LoadMode { kClosedLoop, kOpenLoop };

// Where client sessions are bound. Each client talks to one node for the whole run.
enum class ClientPlacement { kSpreadAllNodes, kPrimaryOnly, kSecondariesOnly };

struct OperationMix {  // relative weights; they need not sum to 1
  double write = 0.5;
  double read = 0.35;
  double del = 0.05;
  double list = 0.04;
  double login = 0.03;
  double token_use = 0.03;
};

struct WorkloadConfig {
  uint32_t clients = 4;
  ClientPlacement placement = ClientPlacement::kSpreadAllNodes;
  LoadMode mode = LoadMode::kClosedLoop;
  TimeUs think_time_us = 2'000;             // closed loop: pause between ops of one client
  double open_loop_ops_per_sec = 200.0;     // open loop: Poisson arrivals per client
  uint32_t open_loop_outstanding_max = 64;  // open loop: per-client bound on pending ops
  uint64_t keys = 64;                       // key space "kv/k<rank>"
  double zipf_exponent = 0.99;              // key choice by rank
  uint32_t value_bytes = 32;                // plaintext values carry a marker (see checkers)
  OperationMix mix;
  // Fraction of reads that require the client's last seen index state (read-your-writes).
  double require_index_state_fraction = 0.2;
  TimeUs request_timeout_us = 5 * kUsPerSec;  // a client gives up (records "info") after this
  // Every 8th key rank a long path of unusual bytes, a tenth of the values binary and up to
  // 64 KiB (proto/scenario.proto Workload.hostile_data).
  bool hostile_data = false;
};

// ---- faults ----

enum class FaultKind {
  // network
  kPartition,        // symmetric partition between two nodes
  kPartitionOneWay,  // one direction only
  kIsolateNode,      // a node from every other node
  kSplitClusters,    // clusters into two groups (WAN split)
  kFlappingLink,     // partition/heal alternating with period `period_us`
  kLinkDegrade,      // drop/duplicate/reorder rates and latency on the WAN for a while
  // processes
  kCrash,      // crash a node; restarted after duration_us (0: the next restart fault)
  kPause,      // stop-the-world stall of duration_us
  kPowerLoss,  // a whole cluster: every node crashes and its disk loses unsynced data
  // clocks
  kClockJump,   // a node's clock offset bumps by `magnitude` us
  kClockDrift,  // a node's drift is set to `magnitude` ppm
  // disks
  kFsyncFailure,      // the next `count` syncs of a cluster's disk fail
  kSectorError,       // a latent sector error in a cluster's storage file
  kBitRot,            // a flipped bit at rest in a cluster's storage file
  kMisdirectedWrite,  // raise the disk's misdirected-write probability for duration_us
  kDiskFull,          // cap the disk at its current size for duration_us
  kHealAll,           // heal every partition now
};

const char* fault_kind_name(FaultKind kind);

// Which cluster or node a fault hits. node < 0 = the cluster's active node (resolved at
// injection time); for pair faults, (cluster2, node2) is the other end.
struct FaultTarget {
  int32_t cluster = 0;
  int32_t node = -1;
  int32_t cluster2 = 1;
  int32_t node2 = -1;
};

struct FaultSpec {
  TimeUs at_us = 0;
  FaultKind kind = FaultKind::kPartition;
  FaultTarget target;
  TimeUs duration_us = 1 * kUsPerSec;  // healed/restarted/undone after this
  TimeUs period_us = 200'000;          // flapping
  double magnitude = 0.0;              // clock jump us, drift ppm, degrade probability
  int32_t count = 1;                   // fsync failures
};

enum class FaultRegime {
  kBounded,    // faults the system claims to tolerate: safety + liveness checked
  kUnbounded,  // anything goes: safety only
};

struct RandomFaults {
  bool enabled = false;
  double faults_per_sec = 0.5;   // Poisson, during the safety phase only
  std::vector<FaultKind> kinds;  // empty = every kind allowed in the regime
  TimeUs duration_mean_us = 1 * kUsPerSec;
};

// ---- operator actions ----

enum class OperatorActionKind {
  kPromote,            // promote `cluster` (a secondary) to primary
  kDemote,             // demote `cluster` (the primary) to secondary
  kUpdatePrimary,      // point `cluster` (a secondary) at `primary_cluster` with a fresh token
  kFailover,           // planned: demote the primary, promote `cluster`, update-primary the rest
  kUnplannedFailover,  // promote `cluster` while the old primary is crashed/partitioned
  kStatus,
  // The rogue cluster (TopologyConfig::rogue_cluster) tries to join the current primary with
  // a forged token, a replay of a token already used, an expired token and a genuine token
  // re-bound to another secondary id. Each must be refused (the security checker fails on
  // an accepted one and on any replicated data that reaches the rogue cluster).
  kRogueJoin,
};

const char* operator_action_name(OperatorActionKind kind);

struct OperatorAction {
  TimeUs at_us = 0;
  OperatorActionKind kind = OperatorActionKind::kStatus;
  uint32_t cluster = 1;
  uint32_t primary_cluster = 0;  // kUpdatePrimary
};

// ---- phases, checkers, the whole scenario ----

struct PhaseConfig {
  TimeUs safety_duration_us = 10 * kUsPerSec;
  TimeUs liveness_writes_us = 1 * kUsPerSec;     // writes continue this long into liveness
  TimeUs convergence_bound_us = 30 * kUsPerSec;  // bounded regime: converge within this
  TimeUs sample_interval_us = 100'000;           // status/state/bounds sampling period
};

// Checker names (docs/design.md §4). ScenarioConfig::checkers empty = all of them.
inline constexpr const char* kCheckPrefixConsistency = "prefix_consistency";
inline constexpr const char* kCheckConvergence = "convergence";
inline constexpr const char* kCheckDurability = "durability";
inline constexpr const char* kCheckReadAfterWrite = "read_after_write";
inline constexpr const char* kCheckMonotonicPositions = "monotonic_positions";
inline constexpr const char* kCheckLocalStaysLocal = "local_stays_local";
inline constexpr const char* kCheckIndexConsistency = "index_consistency";
inline constexpr const char* kCheckBounds = "bounds";
inline constexpr const char* kCheckSecurity = "security";

struct ScenarioConfig {
  std::string name = "unnamed";
  TopologyConfig topology;
  WorkloadConfig workload;
  FaultRegime regime = FaultRegime::kBounded;
  std::vector<FaultSpec> faults;  // timed faults (at_us within the safety phase)
  RandomFaults random_faults;
  std::vector<OperatorAction> operator_actions;
  PhaseConfig phases;
  bool buggify = true;                // switch BUGGIFY sites on from the seed
  std::vector<std::string> checkers;  // empty = all
  uint64_t events_max = 200'000'000;  // livelock bound
  bool keep_trace_events = false;     // keep TraceEvents (for first-divergence reports)
  // Also take every data snapshot by decrypting every value and assert it equals the one
  // taken through the runner's snapshot cache (slow; for tests).
  bool cross_check_data = false;
};

// ---- results ----

// Replication lag of one entry, measured by the harness in global virtual time: a secondary
// cluster applied primary entry (epoch, index) at time_us, lag_us after the primary committed
// it; lag_entries = the primary's committed head minus index at that moment. One sample per
// streamed entry (first apply only), decimated evenly to at most kLagSamplesMax per run.
struct LagSample {
  TimeUs time_us = 0;
  uint32_t cluster = 0;
  uint64_t lag_entries = 0;
  TimeUs lag_us = 0;
};

struct ThroughputSample {  // one per sample_interval_us bucket
  TimeUs time_us = 0;      // bucket start
  uint64_t writes_ok = 0;
  uint64_t reads_ok = 0;
  uint64_t ops_failed = 0;
};

struct StateInterval {  // a secondary's replication state ("stream-wals", ...) over time
  uint32_t cluster = 0;
  std::string state;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};

struct LatencySample {
  TimeUs time_us = 0;  // completion time
  std::string op;      // "write", "read", ...
  TimeUs latency_us = 0;
  bool ok = false;
  bool warning = false;
  bool forwarded = false;
};

struct CheckerResult {
  std::string name;  // one of kCheck*
  bool passed = true;
  bool skipped = false;       // not applicable (e.g. convergence in the unbounded regime)
  int64_t event_index = -1;   // first offending History event, -1 when none / not one
  TimeUs event_time_us = -1;  // virtual time of the first offending event or observation
  std::string event;          // that event, described
  std::string message;        // what property broke and how
  uint64_t seed = 0;
};

// Measured across unplanned promotions (docs/design.md §4.3).
struct LossWindow {
  uint64_t promotions_unplanned = 0;
  uint64_t writes_lost = 0;  // acknowledged, then lost by a promotion
  TimeUs window_us_max = 0;  // oldest lost ack → promotion time, worst case
};

struct RunResult {
  uint64_t seed = 0;
  std::string scenario_name;
  TimeUs simulated_time_us = 0;
  uint64_t events = 0;      // event-loop events run
  uint64_t writes = 0;      // acknowledged writes + deletes
  uint64_t reads = 0;       // successful reads
  uint64_t operations = 0;  // every client invocation
  uint64_t warnings = 0;    // read-after-write warnings
  std::vector<LagSample> lag;
  std::vector<ThroughputSample> throughput;
  std::vector<StateInterval> states;
  std::vector<sim::FaultRecord> faults;
  std::vector<LatencySample> latencies;
  std::vector<CheckerResult> checks;
  LossWindow loss;
  TimeUs converged_after_us = -1;  // liveness phase start → convergence; -1 = did not
  uint64_t trace_hash = 0;
  // Data snapshots: replicated values decrypted and reused from the previous snapshot of the
  // cluster (SnapshotCache), and snapshots compared with a full decryption
  // (ScenarioConfig::cross_check_data).
  uint64_t data_values_decrypted = 0;
  uint64_t data_values_reused = 0;
  uint64_t data_snapshots_cross_checked = 0;
  std::vector<sim::TraceEvent> trace_events;  // when keep_trace_events
  std::string error;                          // set when the run could not be built or aborted
  std::shared_ptr<const History> history;

  bool passed() const;
  const CheckerResult* first_failure() const;
};

// Called from the run loop (virtual time); must not mutate the world.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_history_event(const HistoryEvent& event) {}
  virtual void on_fault(const sim::FaultRecord& fault) {}
  virtual void on_phase(const std::string& phase, TimeUs time_us) {}  // "safety", "liveness"
};

// Runs one scenario to completion. `obs` may be null.
RunResult run_scenario(const ScenarioConfig& config, uint64_t seed, RunObserver* obs);

// "replsim run <scenario> --seed <seed>" style one-line reproduction hint.
std::string repro_command(const std::string& scenario_path, uint64_t seed);

}  // namespace replsim::harness
