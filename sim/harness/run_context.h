// Internal to the runner: the state of one run shared by the deployment, the clients, the
// fault injector and the operator. Not part of the public API (runner.h is).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/cluster/client.h"
#include "engine/cluster/node.h"
#include "sim/harness/checkers.h"
#include "sim/harness/epoch_log.h"
#include "sim/harness/history.h"
#include "sim/harness/observations.h"
#include "sim/harness/runner.h"
#include "sim/harness/snapshot_cache.h"
#include "sim/world.h"

namespace replsim::harness {

// Node ids: cluster c, node j → kClusterNodeBase + c * kNodesPerClusterMax + j; clients from
// kClientNodeBase; the operator is kOperatorNode.
inline constexpr uint32_t kClusterNodeBase = 1;
inline constexpr uint32_t kNodesPerClusterMax = 100;
inline constexpr uint32_t kOperatorNode = 9000;
inline constexpr uint32_t kClientNodeBase = 10000;
inline constexpr uint32_t kClustersMax = 32;
inline constexpr size_t kStoredPayloadBytesMax = 32 << 20;  // replication payloads kept
// A cluster's data snapshot is taken at least every sample_interval_us * keys / this (the
// keys of its previous one), but never less often than every kDataSampleIntervalMaxUs: about
// this many values decrypted per cluster per sample interval.
inline constexpr size_t kDataSampleKeysPerInterval = 1000;
inline constexpr TimeUs kDataSampleIntervalMaxUs = 1'000'000;
// Replication lag (docs/reports.md): commit times are kept for the newest kCommitTimesMax
// primary entries (an entry applied later than that has fallen out of every WAL buffer and
// is reconciled, not streamed); at most kLagSamplesMax per-entry lags are kept (every
// lag_stride-th applied entry, the stride doubling each time the samples fill up).
inline constexpr size_t kCommitTimesMax = size_t{1} << 17;
inline constexpr size_t kLagSamplesMax = size_t{1} << 16;
// Engine queues (waiters, pending forwards, in-flight writes) hold requests of clients or the
// operator: each entry belongs to a request still open or answered within this long (an
// engine holds a request at most forward_timeout_us + raw_wait_us of its own clock; the rest
// is slack for pauses, clock jumps and duplicated messages).
inline constexpr TimeUs kRequestHeldMaxUs = 20 * kUsPerSec;
// engine/cluster/node_impl.h kDedupeEntriesMax (the dedupe table's bound).
inline constexpr uint64_t kDedupeEntriesLimit = 50000;

// Whether a bounded quantity's sample is kept for the bounds checker: every value over its
// limit (so the checker's earliest violation is the same as over every sample), and each new
// maximum below it (evidence of how close the run came); `max` is that quantity's maximum.
inline bool keep_bound_sample(uint64_t value, uint64_t limit, uint64_t* max) {
  const bool keep = value > limit || value > *max;
  if (value > *max) *max = value;
  return keep;
}

struct NodeProcess : sim::Process {
  NodeProcess(Env& env, cluster::NodeConfig config) : node(env, std::move(config)) {}
  cluster::Node node;
};

struct ClientProcess : sim::Process {
  explicit ClientProcess(Env& env) : api(env) {}
  cluster::ApiClient api;
};

struct RunContext : cluster::NodeObserver {
  RunContext(const ScenarioConfig& config, uint64_t seed, RunObserver* observer);

  const ScenarioConfig& cfg;
  uint64_t seed;
  RunObserver* observer;
  sim::SimWorld world;
  std::shared_ptr<History> history = std::make_shared<History>();
  Observations obs;
  RunResult result;

  uint32_t clusters = 0;        // the replication topology: primary + secondaries
  uint32_t rogue = UINT32_MAX;  // the rogue cluster's index (== clusters) if any
  std::string setup_token;      // an activation token already used at setup
  std::vector<std::vector<NodeId>> cluster_nodes;
  std::map<NodeId, uint32_t> cluster_of;  // cluster nodes only
  uint64_t next_op_id = 1;
  uint64_t max_epoch = 0;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> applied;  // cluster → (epoch, index)
  std::map<uint32_t, bool> planned_promotion;                 // cluster → planned
  EpochLog epoch_log;  // what each cluster holds; records epoch starts (recording.cc)
  // cluster → (epoch, primary's committed head when its merkle-sync finished): until the
  // cluster has applied that index its state is a mix of synced and older values.
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> catching_up;
  std::map<uint32_t, std::pair<std::string, TimeUs>> last_fault;  // cluster → (cause, time)
  // cluster → (disk-full faults in force, capacity before the first of them)
  std::map<uint32_t, std::pair<uint32_t, uint64_t>> disk_full_in_force;
  std::map<uint32_t, std::string> mode;       // cluster → last sampled mode
  std::map<uint32_t, std::string> state_now;  // cluster → replication state
  std::map<uint32_t, TimeUs> state_since;
  size_t stored_payload_bytes = 0;
  bool writes_stopped = false;
  // Data snapshots (replicated values, local paths) decrypt every value, so a cluster's is
  // taken only when data_due(): see docs/checkers.md "Sampling".
  bool every_sample_data = false;                            // set at quiesce
  std::map<uint32_t, std::string> sampled_status;            // cluster → node/mode/state/epoch
  std::map<uint32_t, std::pair<TimeUs, size_t>> data_taken;  // cluster → (time, keys)
  SnapshotCache snapshot_cache;
  uint64_t data_cross_checked = 0;  // data snapshots compared with a full decryption
  // Replication lag: (epoch, index) → virtual time its primary committed it; newest head.
  std::map<std::pair<uint64_t, uint64_t>, TimeUs> commit_time;
  std::pair<uint64_t, uint64_t> commit_head{0, 0};
  uint64_t lag_entries_applied = 0;  // first applies of committed entries, all secondaries
  uint64_t lag_stride = 1;
  // Bounds of engine queues: requests open (op ids) and completion times of the last
  // kRequestHeldMaxUs; the largest value seen per (node, quantity) (only new maxima and
  // violations become BoundSamples).
  std::set<uint64_t> open_requests;
  std::deque<TimeUs> recent_completions;
  std::map<std::pair<uint32_t, std::string>, uint64_t> bound_max;
  // Undo actions of faults still in force (run once each when the liveness phase starts).
  std::map<uint64_t, std::function<void()>> undo;
  uint64_t next_undo = 1;

  // ---- topology ----
  bool is_cluster_node(NodeId id) const { return cluster_of.count(id) != 0; }
  cluster::Node* node(NodeId id);
  cluster::Node* active_node(uint32_t cluster);
  NodeId route_node(uint32_t cluster);  // the active node, else the first node that is up
  ClientProcess* client(NodeId id);

  // ---- recording ----
  int64_t record(HistoryEvent e);
  void record_fault(const std::string& kind, const std::string& target, const std::string& detail,
                    uint32_t node, uint32_t cluster);
  void take_samples();  // snapshots, lag, state intervals, epoch starts
  // True when this sample of cluster `c` (status filled in `s`) must also take the data: its
  // node, mode, state or epoch changed since the cluster's previous sample, or
  // the data interval (docs/checkers.md "Sampling") passed since its last data snapshot, or
  // every_sample_data is set.
  bool data_due(uint32_t c, const StateSnapshot& s);
  // Fills snap's data and local_paths from active node `n` of cluster `c` (SnapshotCache),
  // comparing them with a full decryption when cfg.cross_check_data is set.
  void take_data(uint32_t c, const cluster::Node& n, StateSnapshot* snap);
  void note_state(uint32_t cluster, const std::string& state, TimeUs t);

  // measures.cc: harness-measured replication lag and engine queue bounds.
  void note_commit_time(Epoch epoch, WalIndex index);
  // Before applied[cluster] moves: records the lag of a first apply of a committed entry.
  void note_apply_lag(uint32_t cluster, Epoch epoch, WalIndex index);
  void note_request(const HistoryEvent& e);  // open requests / recent completions
  void sample_queue_bounds(uint32_t cluster, const cluster::Node& n);
  // Root rebuilt from the node's replicated data as stored ("" when it has none).
  std::string stored_root(const cluster::Node& n) const;

  // NodeObserver (engine callbacks; never call back into a node from here).
  void on_wal_committed(NodeId node, Epoch epoch, WalIndex index) override;
  void on_wal_applied(NodeId node, Epoch epoch, WalIndex index) override;
  void on_state(NodeId node, const std::string& state) override;
  void on_reconciled(NodeId node, Epoch epoch, WalIndex guard) override;
  void on_active(NodeId node, LockGeneration generation) override;

  // Wire observer: replication messages, bounds, plaintext scan.
  void observe_wire(NodeId from, NodeId to, const std::string& payload);
};

// deployment.cc
void build_deployment(RunContext& ctx);
// Runs the world until the setup (enable primary, users, secondaries) is done; false on error.
bool setup_replication(RunContext& ctx, std::string* error);

// operator.cc: runs an operator action asynchronously (events recorded in the History).
void start_operator_action(RunContext& ctx, const OperatorAction& action);
// rogue.cc: the rogue cluster's join attempts against `primary` (kRogueJoin).
void start_rogue_join(RunContext& ctx, uint32_t primary, uint64_t attempt);
// Sends one operator request to `cluster` and records invoke/completion; `done` gets the reply.
void operator_call(RunContext& ctx, const char* f, uint32_t cluster, proto::OperatorRequest request,
                   std::function<void(const proto::OperatorResponse&)> done);

// Liveness phase: demotes stale primaries and repoints clusters that do not follow the newest
// epoch's primary (what an operator does once the faults are gone).
void repair_topology(RunContext& ctx);

// workload.cc
void start_clients(RunContext& ctx);

// faults.cc
// Timed faults are at start_us + at_us; random ones in [now, safety_end_us).
void schedule_faults(RunContext& ctx, TimeUs start_us, TimeUs safety_end_us);
void heal_everything(RunContext& ctx);
// The fault kinds a regime allows (bounded: network, process, clock, disk full; unbounded:
// also fsync failure, sector errors, bit rot, misdirected writes).
std::vector<FaultKind> regime_fault_kinds(FaultRegime regime);
FaultSpec random_fault(sim::Prng& r, const std::vector<FaultKind>& kinds, uint32_t clusters,
                       uint32_t nodes_per_cluster, TimeUs at_us, TimeUs duration_mean_us);

}  // namespace replsim::harness
