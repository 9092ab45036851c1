#include "property_tests/scenario_dump.h"

#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace replsim::props {

using harness::FaultKind;
using harness::OperatorActionKind;

static proto::FaultKind fault_kind(FaultKind k) {
  switch (k) {
    case FaultKind::kPartition:
      return proto::PARTITION;
    case FaultKind::kPartitionOneWay:
      return proto::PARTITION_ONE_WAY;
    case FaultKind::kIsolateNode:
      return proto::ISOLATE_NODE;
    case FaultKind::kSplitClusters:
      return proto::SPLIT_CLUSTERS;
    case FaultKind::kFlappingLink:
      return proto::FLAPPING_LINK;
    case FaultKind::kLinkDegrade:
      return proto::LINK_DEGRADE;
    case FaultKind::kCrash:
      return proto::CRASH;
    case FaultKind::kPause:
      return proto::PAUSE;
    case FaultKind::kPowerLoss:
      return proto::POWER_LOSS;
    case FaultKind::kClockJump:
      return proto::CLOCK_JUMP;
    case FaultKind::kClockDrift:
      return proto::CLOCK_DRIFT;
    case FaultKind::kFsyncFailure:
      return proto::FSYNC_FAILURE;
    case FaultKind::kSectorError:
      return proto::SECTOR_ERROR;
    case FaultKind::kBitRot:
      return proto::BIT_ROT;
    case FaultKind::kMisdirectedWrite:
      return proto::MISDIRECTED_WRITE;
    case FaultKind::kDiskFull:
      return proto::DISK_FULL;
    case FaultKind::kHealAll:
      return proto::HEAL_ALL;
  }
  return proto::FAULT_UNSPECIFIED;
}

static proto::ActionKind action_kind(OperatorActionKind k) {
  switch (k) {
    case OperatorActionKind::kPromote:
      return proto::PROMOTE;
    case OperatorActionKind::kDemote:
      return proto::DEMOTE;
    case OperatorActionKind::kUpdatePrimary:
      return proto::UPDATE_PRIMARY;
    case OperatorActionKind::kFailover:
      return proto::FAILOVER;
    case OperatorActionKind::kUnplannedFailover:
      return proto::UNPLANNED_FAILOVER;
    case OperatorActionKind::kStatus:
      return proto::STATUS;
    case OperatorActionKind::kRogueJoin:
      return proto::ROGUE_JOIN;
  }
  return proto::ACTION_UNSPECIFIED;
}

static void set_target(uint32_t clusters, int32_t cluster, int32_t node, proto::Target* t) {
  t->set_cluster("c" + std::to_string(static_cast<uint32_t>(std::max(cluster, 0)) % clusters));
  if (node >= 0) {
    t->set_node(proto::Target::INDEX);
    t->set_index(static_cast<uint32_t>(node));
  }
}

proto::Scenario to_scenario_proto(const harness::ScenarioConfig& c, uint64_t seed) {
  proto::Scenario s;
  s.set_name(c.name);
  s.set_seed(seed);
  const uint32_t clusters = c.topology.secondary_clusters + 1;
  s.mutable_topology()->set_nodes_per_cluster(c.topology.nodes_per_cluster);
  for (uint32_t i = 0; i < clusters; ++i) {
    proto::Cluster* cl = s.mutable_topology()->add_clusters();
    cl->set_name("c" + std::to_string(i));
    cl->set_role(i == 0 ? proto::PRIMARY : proto::SECONDARY);
  }
  if (c.topology.rogue_cluster) {
    proto::Cluster* cl = s.mutable_topology()->add_clusters();
    cl->set_name("rogue");
    cl->set_role(proto::ROGUE);
  }
  s.mutable_clock()->set_disabled(!c.topology.clock.enabled);
  s.mutable_clock()->set_offset_ms_max(c.topology.clock.offset_max_us / 1000.0);
  s.mutable_clock()->set_drift_ppm_max(c.topology.clock.drift_ppm_max);
  const harness::WorkloadConfig& w = c.workload;
  proto::Workload* pw = s.mutable_workload();
  const harness::OperationMix& m = w.mix;
  const double total = m.write + m.read + m.del + m.list + m.login + m.token_use;
  // Per-client operation rate: open loop as configured, closed loop ~1 / think time.
  const double rate = w.mode == harness::LoadMode::kOpenLoop
                          ? w.open_loop_ops_per_sec
                          : 1e6 / std::max<double>(static_cast<double>(w.think_time_us), 1.0);
  const double scale = total > 0 ? rate * w.clients / total : 0;
  pw->set_writes_per_sec(m.write * scale);
  pw->set_reads_per_sec(m.read * scale);
  pw->set_deletes_per_sec(m.del * scale);
  pw->set_lists_per_sec(m.list * scale);
  pw->set_logins_per_sec(m.login * scale);
  pw->set_token_uses_per_sec(m.token_use * scale);
  pw->set_keys(w.keys);
  pw->set_value_bytes(w.value_bytes);
  pw->set_zipf_exponent(w.zipf_exponent);
  pw->set_clients(w.clients);
  switch (w.placement) {  // read_after_write puts every client on a secondary
    case harness::ClientPlacement::kSpreadAllNodes:
      pw->set_placement(proto::SPREAD_ALL_NODES);
      break;
    case harness::ClientPlacement::kPrimaryOnly:
      pw->set_placement(proto::PRIMARY_ONLY);
      break;
    case harness::ClientPlacement::kSecondariesOnly:
      pw->set_placement(proto::SECONDARIES_ONLY);
      break;
  }
  pw->set_outstanding_max(w.open_loop_outstanding_max);
  pw->set_closed_loop(w.mode == harness::LoadMode::kClosedLoop);
  pw->set_think_time_ms(w.think_time_us / 1000.0);
  pw->set_require_index_state_fraction(w.require_index_state_fraction);
  pw->set_hostile_data(w.hostile_data);
  pw->set_request_timeout_ms(w.request_timeout_us / 1000.0);
  proto::FaultSchedule* fs = s.mutable_faults();
  fs->set_regime(c.regime == harness::FaultRegime::kBounded ? proto::BOUNDED : proto::UNBOUNDED);
  for (const harness::FaultSpec& f : c.faults) {
    proto::TimedFault* t = fs->add_timed();
    t->set_at_s(f.at_us / 1e6);
    t->set_kind(fault_kind(f.kind));
    set_target(clusters, f.target.cluster, f.target.node, t->mutable_target());
    set_target(clusters, f.target.cluster2, f.target.node2, t->mutable_other());
    t->set_duration_s(f.duration_us / 1e6);
    t->set_period_ms(f.period_us / 1000.0);
    t->set_magnitude(f.kind == FaultKind::kClockJump ? f.magnitude / 1000.0 : f.magnitude);
    t->set_count(f.count);
  }
  for (const harness::OperatorAction& a : c.operator_actions) {
    proto::OperatorAction* pa = s.add_operator_actions();
    pa->set_at_s(a.at_us / 1e6);
    pa->set_kind(action_kind(a.kind));
    const bool rogue = a.kind == OperatorActionKind::kRogueJoin;
    pa->set_cluster(rogue ? "rogue" : "c" + std::to_string(a.cluster % clusters));
    pa->set_primary("c" + std::to_string(a.primary_cluster % clusters));
  }
  s.mutable_phases()->set_safety_s(c.phases.safety_duration_us / 1e6);
  s.mutable_phases()->set_liveness_writes_s(c.phases.liveness_writes_us / 1e6);
  s.mutable_phases()->set_convergence_bound_s(c.phases.convergence_bound_us / 1e6);
  s.mutable_phases()->set_sample_interval_ms(c.phases.sample_interval_us / 1000.0);
  return s;
}

std::string to_scenario_text(const harness::ScenarioConfig& c, uint64_t seed) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(to_scenario_proto(c, seed), &text);
  return "# Shrunk property-test failure. Rerun: replsim run <this file> --seed " +
         std::to_string(seed) + "\n" + text;
}

std::string write_failure_scenario(const harness::ScenarioConfig& c, uint64_t seed,
                                   const std::string& property) {
  const char* dir = std::getenv("REPLSIM_FAILURE_DIR");
  std::filesystem::path base = dir != nullptr ? dir : "property_failures";
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  std::filesystem::path file = base / (property + "-seed" + std::to_string(seed) + ".textproto");
  std::ofstream out(file);
  out << to_scenario_text(c, seed);
  return file.string();
}

}  // namespace replsim::props
