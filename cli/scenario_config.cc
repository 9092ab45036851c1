#include "cli/scenario_config.h"

#include <cmath>
#include <cstdint>
#include <map>

#include "sim/harness/checkers.h"

namespace replsim::cli {
namespace {

TimeUs us_from_s(double s) { return static_cast<TimeUs>(std::llround(s * 1e6)); }
TimeUs us_from_ms(double ms) { return static_cast<TimeUs>(std::llround(ms * 1e3)); }

sim::LinkModel map_link(const proto::LinkClass& link, sim::LinkModel model) {
  if (link.has_latency()) {
    model.latency_min_us = us_from_ms(link.latency().min_ms());
    model.latency_tail_mean_us = us_from_ms(link.latency().tail_mean_ms());
    model.jitter_stddev_us = us_from_ms(link.latency().jitter_ms());
  }
  model.drop_probability = link.drop_probability();
  model.duplicate_probability = link.duplicate_probability();
  model.reorder_probability = link.reorder_probability();
  if (link.reorder_delay_ms_max() > 0) {
    model.reorder_delay_max_us = us_from_ms(link.reorder_delay_ms_max());
  }
  if (link.queue_messages_max() > 0) model.queue_messages_max = link.queue_messages_max();
  return model;
}

sim::DiskOptions map_disk(const proto::DiskModel& disk) {
  sim::DiskOptions options;
  if (disk.fsync_latency_ms() > 0) options.fsync_latency_us = us_from_ms(disk.fsync_latency_ms());
  if (disk.write_latency_us() > 0) {
    options.write_latency_us = static_cast<TimeUs>(std::llround(disk.write_latency_us()));
  }
  options.latency_jitter_us = static_cast<TimeUs>(std::llround(disk.latency_jitter_us()));
  options.capacity_bytes = disk.capacity_bytes() == 0 ? UINT64_MAX : disk.capacity_bytes();
  options.fsync_failure_probability = disk.fsync_failure_probability();
  options.read_sector_error_probability = disk.sector_error_probability();
  options.bit_rot_probability = disk.bit_rot_probability();
  options.misdirected_write_probability = disk.misdirected_write_probability();
  return options;
}

harness::WorkloadConfig map_workload(const proto::Workload& w) {
  harness::WorkloadConfig out;
  out.mix = {w.writes_per_sec(), w.reads_per_sec(),  w.deletes_per_sec(),
             w.lists_per_sec(),  w.logins_per_sec(), w.token_uses_per_sec()};
  const double total = w.writes_per_sec() + w.reads_per_sec() + w.deletes_per_sec() +
                       w.lists_per_sec() + w.logins_per_sec() + w.token_uses_per_sec();
  out.clients = total > 0 ? w.clients() : 0;
  if (w.closed_loop()) {
    out.mode = harness::LoadMode::kClosedLoop;
    out.think_time_us = us_from_ms(w.think_time_ms());
  } else {
    out.mode = harness::LoadMode::kOpenLoop;
    out.open_loop_ops_per_sec = out.clients > 0 ? total / out.clients : 0;
  }
  out.open_loop_outstanding_max = w.outstanding_max();
  switch (w.placement()) {
    case proto::PRIMARY_ONLY:
      out.placement = harness::ClientPlacement::kPrimaryOnly;
      break;
    case proto::SECONDARIES_ONLY:
      out.placement = harness::ClientPlacement::kSecondariesOnly;
      break;
    default:
      out.placement = harness::ClientPlacement::kSpreadAllNodes;
  }
  out.keys = w.keys() == 0 ? 1 : w.keys();
  out.zipf_exponent = w.zipf_exponent();
  out.value_bytes = w.value_bytes();
  out.require_index_state_fraction = w.require_index_state_fraction();
  out.hostile_data = w.hostile_data();
  out.request_timeout_us = us_from_ms(w.request_timeout_ms());
  return out;
}

harness::FaultKind map_fault_kind(proto::FaultKind kind) {
  using K = harness::FaultKind;
  switch (kind) {
    case proto::SPLIT_CLUSTERS:
      return K::kSplitClusters;
    case proto::PARTITION:
      return K::kPartition;
    case proto::PARTITION_ONE_WAY:
      return K::kPartitionOneWay;
    case proto::ISOLATE_NODE:
      return K::kIsolateNode;
    case proto::FLAPPING_LINK:
      return K::kFlappingLink;
    case proto::LINK_DEGRADE:
      return K::kLinkDegrade;
    case proto::CRASH:
      return K::kCrash;
    case proto::PAUSE:
      return K::kPause;
    case proto::POWER_LOSS:
      return K::kPowerLoss;
    case proto::CLOCK_JUMP:
      return K::kClockJump;
    case proto::CLOCK_DRIFT:
      return K::kClockDrift;
    case proto::FSYNC_FAILURE:
      return K::kFsyncFailure;
    case proto::SECTOR_ERROR:
      return K::kSectorError;
    case proto::BIT_ROT:
      return K::kBitRot;
    case proto::MISDIRECTED_WRITE:
      return K::kMisdirectedWrite;
    case proto::DISK_FULL:
      return K::kDiskFull;
    case proto::HEAL_ALL:
      return K::kHealAll;
    default:
      break;
  }
  REPLSIM_ASSERT_MSG(false, "validated scenarios name a fault kind");
  return K::kHealAll;
}

const char* map_checker(proto::Checker checker) {
  switch (checker) {
    case proto::PREFIX_CONSISTENCY:
      return harness::kCheckPrefixConsistency;
    case proto::CONVERGENCE:
      return harness::kCheckConvergence;
    case proto::DURABILITY:
      return harness::kCheckDurability;
    case proto::READ_AFTER_WRITE:
      return harness::kCheckReadAfterWrite;
    case proto::MONOTONIC_POSITIONS:
      return harness::kCheckMonotonicPositions;
    case proto::LOCAL_STAYS_LOCAL:
      return harness::kCheckLocalStaysLocal;
    case proto::INDEX_CONSISTENCY:
      return harness::kCheckIndexConsistency;
    case proto::BOUNDS:
      return harness::kCheckBounds;
    case proto::SECURITY:
      return harness::kCheckSecurity;
    case proto::INDEX_STATE:
      return harness::kCheckIndexState;
    case proto::MERKLE_LOOP:
      return harness::kCheckMerkleLoop;
    case proto::LEADER_STABILITY:
      return harness::kCheckLeaderStability;
    default:
      break;
  }
  REPLSIM_ASSERT_MSG(false, "validated scenarios name real checkers");
  return "";
}

harness::OperatorActionKind map_action(proto::ActionKind kind) {
  using K = harness::OperatorActionKind;
  switch (kind) {
    case proto::PROMOTE:
      return K::kPromote;
    case proto::DEMOTE:
      return K::kDemote;
    case proto::UPDATE_PRIMARY:
      return K::kUpdatePrimary;
    case proto::FAILOVER:
      return K::kFailover;
    case proto::UNPLANNED_FAILOVER:
      return K::kUnplannedFailover;
    case proto::ROGUE_JOIN:
      return K::kRogueJoin;
    default:
      return K::kStatus;
  }
}

}  // namespace

MappedScenario map_scenario(const proto::Scenario& s) {
  MappedScenario out;
  std::map<std::string, int32_t> id_of;
  std::string rogue;  // deployed after the replication topology (index N + 1)
  for (const proto::Cluster& c : s.topology().clusters()) {
    if (c.role() == proto::PRIMARY)
      out.cluster_names.insert(out.cluster_names.begin(), c.name());
    else if (c.role() == proto::ROGUE)
      rogue = c.name();
    else
      out.cluster_names.push_back(c.name());
  }
  const uint32_t replicating = static_cast<uint32_t>(out.cluster_names.size());
  if (!rogue.empty()) out.cluster_names.push_back(rogue);
  for (size_t i = 0; i < out.cluster_names.size(); ++i) {
    id_of[out.cluster_names[i]] = static_cast<int32_t>(i);
  }
  auto cluster = [&](const std::string& name) { return id_of.count(name) ? id_of[name] : 0; };
  harness::ScenarioConfig& c = out.config;
  c.name = s.name();
  c.topology.secondary_clusters = replicating - 1;
  c.topology.rogue_cluster = !rogue.empty();
  c.topology.nodes_per_cluster = s.topology().nodes_per_cluster();
  c.topology.lan = map_link(s.lan(), sim::LinkModel::lan());
  c.topology.wan = map_link(s.wan(), sim::LinkModel::wan());
  c.topology.disk = map_disk(s.disk());
  c.topology.clock.enabled = !s.clock().disabled();
  c.topology.clock.offset_max_us = us_from_ms(s.clock().offset_ms_max());
  c.topology.clock.drift_ppm_max = s.clock().drift_ppm_max();
  c.workload = map_workload(s.workload());
  c.regime = s.faults().regime() == proto::UNBOUNDED ? harness::FaultRegime::kUnbounded
                                                     : harness::FaultRegime::kBounded;
  for (const proto::TimedFault& f : s.faults().timed()) {
    harness::FaultSpec spec;
    spec.at_us = us_from_s(f.at_s());
    spec.kind = map_fault_kind(f.kind());
    spec.target.cluster = cluster(f.target().cluster());
    spec.target.node =
        f.target().node() == proto::Target::INDEX ? static_cast<int32_t>(f.target().index()) : -1;
    spec.target.cluster2 = cluster(f.other().cluster());
    spec.target.node2 =
        f.other().node() == proto::Target::INDEX ? static_cast<int32_t>(f.other().index()) : -1;
    spec.duration_us = us_from_s(f.duration_s());
    spec.period_us = us_from_ms(f.period_ms());
    spec.magnitude = f.kind() == proto::CLOCK_JUMP ? f.magnitude() * 1000 : f.magnitude();
    spec.count = f.count();
    c.faults.push_back(spec);
  }
  const proto::RandomFaults& r = s.faults().random();
  c.random_faults.enabled = r.faults_per_sec() > 0;
  c.random_faults.faults_per_sec = r.faults_per_sec();
  c.random_faults.duration_mean_us = us_from_s(r.mean_duration_s());
  for (int k : r.kinds()) {
    c.random_faults.kinds.push_back(map_fault_kind(static_cast<proto::FaultKind>(k)));
  }
  for (const proto::OperatorAction& a : s.operator_actions()) {
    harness::OperatorAction action;
    action.at_us = us_from_s(a.at_s());
    action.kind = map_action(a.kind());
    action.cluster = static_cast<uint32_t>(cluster(a.cluster()));
    action.primary_cluster = static_cast<uint32_t>(cluster(a.primary()));
    c.operator_actions.push_back(action);
  }
  c.phases.safety_duration_us = us_from_s(s.phases().safety_s());
  c.phases.liveness_writes_us = us_from_s(s.phases().liveness_writes_s());
  c.phases.convergence_bound_us = us_from_s(s.phases().convergence_bound_s());
  c.phases.sample_interval_us = us_from_ms(s.phases().sample_interval_ms());
  c.buggify = !s.buggify_off();
  for (int k : s.checkers()) c.checkers.push_back(map_checker(static_cast<proto::Checker>(k)));
  c.events_max = s.events_max();
  return out;
}

}  // namespace replsim::cli
