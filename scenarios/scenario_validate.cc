// Semantic checks and defaults for scenario files. Syntax is protobuf's job; this file
// refuses values that parse but make no sense, naming the field path of each.
#include <set>
#include <sstream>

#include "scenarios/scenario_file.h"

namespace replsim::scenarios {
namespace {

class Problems {
 public:
  explicit Problems(const std::string& file_name) : file_name_(file_name) {}

  void add(const std::string& field, const std::string& message) {
    if (!text_.empty()) text_ += "\n";
    text_ += file_name_ + ": " + field + ": " + message;
  }
  void non_negative(const std::string& field, double value) {
    if (!(value >= 0)) add(field, "must be >= 0, got " + number(value));
  }
  void probability(const std::string& field, double value) {
    if (!(value >= 0 && value <= 1)) add(field, "must be in [0, 1], got " + number(value));
  }
  Status status() const { return text_.empty() ? Status::ok() : Status::invalid_argument(text_); }

  static std::string number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }

 private:
  const std::string& file_name_;
  std::string text_;
};

std::string at(const std::string& field, int index) {
  return field + "[" + std::to_string(index) + "]";
}

void check_link(Problems& p, const std::string& name, const proto::LinkClass& link) {
  p.non_negative(name + ".latency.min_ms", link.latency().min_ms());
  p.non_negative(name + ".latency.tail_mean_ms", link.latency().tail_mean_ms());
  p.non_negative(name + ".latency.jitter_ms", link.latency().jitter_ms());
  p.probability(name + ".drop_probability", link.drop_probability());
  p.probability(name + ".duplicate_probability", link.duplicate_probability());
  p.probability(name + ".reorder_probability", link.reorder_probability());
  p.non_negative(name + ".reorder_delay_ms_max", link.reorder_delay_ms_max());
}

void check_disk(Problems& p, const proto::DiskModel& disk) {
  p.non_negative("disk.fsync_latency_ms", disk.fsync_latency_ms());
  p.non_negative("disk.write_latency_us", disk.write_latency_us());
  p.non_negative("disk.latency_jitter_us", disk.latency_jitter_us());
  p.probability("disk.fsync_failure_probability", disk.fsync_failure_probability());
  p.probability("disk.sector_error_probability", disk.sector_error_probability());
  p.probability("disk.bit_rot_probability", disk.bit_rot_probability());
  p.probability("disk.misdirected_write_probability", disk.misdirected_write_probability());
}

using ClusterNames = std::set<std::string>;

// The names of the replicating clusters (faults and most actions may name only those); the
// ROGUE cluster's name goes to `rogue`.
ClusterNames check_topology(Problems& p, const proto::Topology& topology, std::string* rogue) {
  ClusterNames clusters;
  int primaries = 0;
  int rogues = 0;
  if (topology.clusters().empty()) p.add("topology.clusters", "at least one cluster is needed");
  if (topology.nodes_per_cluster() > 16) {
    p.add("topology.nodes_per_cluster",
          "at most 16, got " + std::to_string(topology.nodes_per_cluster()));
  }
  for (int i = 0; i < topology.clusters_size(); ++i) {
    const proto::Cluster& c = topology.clusters(i);
    const std::string field = at("topology.clusters", i);
    if (c.name().empty()) p.add(field + ".name", "every cluster needs a name");
    if (clusters.count(c.name()) || (!c.name().empty() && *rogue == c.name())) {
      p.add(field + ".name", "duplicate cluster \"" + c.name() + "\"");
    }
    if (c.role() == proto::PRIMARY) ++primaries;
    if (c.role() == proto::ROLE_UNSPECIFIED) {
      p.add(field + ".role", "PRIMARY, SECONDARY or ROGUE");
    }
    if (c.role() == proto::ROGUE) {
      if (++rogues > 1) p.add(field + ".role", "at most one ROGUE");
      *rogue = c.name();
      continue;
    }
    clusters.insert(c.name());
  }
  if (!topology.clusters().empty() && primaries != 1) {
    p.add("topology.clusters", "exactly one PRIMARY at start, got " + std::to_string(primaries));
  }
  return clusters;
}

void check_cluster_name(Problems& p, const ClusterNames& clusters, const std::string& field,
                        const std::string& name) {
  if (!clusters.count(name)) p.add(field, "no cluster named \"" + name + "\" in the topology");
}

void check_workload(Problems& p, const proto::Workload& w) {
  p.non_negative("workload.writes_per_sec", w.writes_per_sec());
  p.non_negative("workload.reads_per_sec", w.reads_per_sec());
  p.non_negative("workload.deletes_per_sec", w.deletes_per_sec());
  p.non_negative("workload.lists_per_sec", w.lists_per_sec());
  p.non_negative("workload.logins_per_sec", w.logins_per_sec());
  p.non_negative("workload.token_uses_per_sec", w.token_uses_per_sec());
  p.non_negative("workload.zipf_exponent", w.zipf_exponent());
  p.non_negative("workload.think_time_ms", w.think_time_ms());
  p.non_negative("workload.request_timeout_ms", w.request_timeout_ms());
  p.probability("workload.require_index_state_fraction", w.require_index_state_fraction());
  const double total = w.writes_per_sec() + w.reads_per_sec() + w.deletes_per_sec() +
                       w.lists_per_sec() + w.logins_per_sec() + w.token_uses_per_sec();
  if (total > 0 && w.keys() == 0) p.add("workload.keys", "must be > 0 when there is load");
  if (w.value_bytes() > (1u << 20)) p.add("workload.value_bytes", "at most 1 MiB");
  if (w.clients() > 4096) p.add("workload.clients", "at most 4096");
}

bool is_pair_fault(proto::FaultKind kind) {
  return kind == proto::SPLIT_CLUSTERS || kind == proto::PARTITION ||
         kind == proto::PARTITION_ONE_WAY || kind == proto::FLAPPING_LINK;
}

void check_target(Problems& p, const ClusterNames& clusters, uint32_t nodes,
                  const std::string& field, const proto::Target& target) {
  check_cluster_name(p, clusters, field + ".cluster", target.cluster());
  if (target.node() == proto::Target::INDEX && target.index() >= nodes) {
    p.add(field + ".index", "clusters have " + std::to_string(nodes) + " nodes");
  }
}

void check_timed_fault(Problems& p, const ClusterNames& clusters, uint32_t nodes,
                       const std::string& field, const proto::TimedFault& f, double safety_s) {
  p.non_negative(field + ".at_s", f.at_s());
  p.non_negative(field + ".duration_s", f.duration_s());
  p.non_negative(field + ".period_ms", f.period_ms());
  if (f.count() < 0) p.add(field + ".count", "must be >= 0");
  if (f.at_s() > safety_s) p.add(field + ".at_s", "after the end of the safety phase");
  if (f.kind() == proto::FAULT_UNSPECIFIED) p.add(field + ".kind", "a fault kind is needed");
  if (f.kind() != proto::HEAL_ALL && f.kind() != proto::LINK_DEGRADE) {
    check_target(p, clusters, nodes, field + ".target", f.target());
  }
  if (is_pair_fault(f.kind())) {
    check_target(p, clusters, nodes, field + ".other", f.other());
    if (f.kind() == proto::SPLIT_CLUSTERS && f.target().cluster() == f.other().cluster()) {
      p.add(field + ".other.cluster", "SPLIT_CLUSTERS needs two different clusters");
    }
  }
  if (f.kind() == proto::LINK_DEGRADE || f.kind() == proto::MISDIRECTED_WRITE) {
    p.probability(field + ".magnitude", f.magnitude());
  }
}

void check_faults(Problems& p, const ClusterNames& clusters, uint32_t nodes,
                  const proto::FaultSchedule& faults, double safety_s) {
  for (int i = 0; i < faults.timed_size(); ++i) {
    check_timed_fault(p, clusters, nodes, at("faults.timed", i), faults.timed(i), safety_s);
  }
  p.non_negative("faults.random.faults_per_sec", faults.random().faults_per_sec());
  p.non_negative("faults.random.mean_duration_s", faults.random().mean_duration_s());
  for (int i = 0; i < faults.random().kinds_size(); ++i) {
    if (faults.random().kinds(i) == proto::FAULT_UNSPECIFIED) {
      p.add(at("faults.random.kinds", i), "FAULT_UNSPECIFIED is not a fault");
    }
  }
}

void check_actions(Problems& p, const ClusterNames& clusters, const std::string& rogue,
                   const proto::Scenario& s) {
  for (int i = 0; i < s.operator_actions_size(); ++i) {
    const proto::OperatorAction& a = s.operator_actions(i);
    const std::string field = at("operator_actions", i);
    p.non_negative(field + ".at_s", a.at_s());
    if (a.kind() == proto::ACTION_UNSPECIFIED) p.add(field + ".kind", "an action kind is needed");
    if (a.kind() == proto::ROGUE_JOIN) {
      if (rogue.empty() || a.cluster() != rogue) {
        p.add(field + ".cluster", "ROGUE_JOIN names the topology's ROGUE cluster");
      }
      continue;
    }
    check_cluster_name(p, clusters, field + ".cluster", a.cluster());
    if (a.kind() == proto::UPDATE_PRIMARY) {
      check_cluster_name(p, clusters, field + ".primary", a.primary());
    }
  }
}

}  // namespace

Status validate_scenario(const proto::Scenario& s, const std::string& file_name) {
  Problems p(file_name);
  std::string rogue;
  const ClusterNames clusters = check_topology(p, s.topology(), &rogue);
  const uint32_t nodes =
      s.topology().nodes_per_cluster() == 0 ? 3 : s.topology().nodes_per_cluster();
  check_link(p, "lan", s.lan());
  check_link(p, "wan", s.wan());
  check_disk(p, s.disk());
  p.non_negative("clock.offset_ms_max", s.clock().offset_ms_max());
  p.non_negative("clock.drift_ppm_max", s.clock().drift_ppm_max());
  check_workload(p, s.workload());
  p.non_negative("phases.safety_s", s.phases().safety_s());
  p.non_negative("phases.liveness_writes_s", s.phases().liveness_writes_s());
  p.non_negative("phases.convergence_bound_s", s.phases().convergence_bound_s());
  p.non_negative("phases.sample_interval_ms", s.phases().sample_interval_ms());
  if (!(s.phases().safety_s() > 0)) p.add("phases.safety_s", "the run needs a safety phase > 0");
  check_faults(p, clusters, nodes, s.faults(), s.phases().safety_s());
  check_actions(p, clusters, rogue, s);
  for (int i = 0; i < s.checkers_size(); ++i) {
    if (s.checkers(i) == proto::CHECKER_UNSPECIFIED) {
      p.add(at("checkers", i), "CHECKER_UNSPECIFIED is not a checker");
    }
  }
  return p.status();
}

void apply_defaults(proto::Scenario* s) {
  if (s->topology().nodes_per_cluster() == 0) s->mutable_topology()->set_nodes_per_cluster(3);
  proto::Workload* w = s->mutable_workload();
  if (w->clients() == 0) w->set_clients(8);
  if (w->value_bytes() == 0) w->set_value_bytes(256);
  if (w->outstanding_max() == 0) w->set_outstanding_max(64);
  if (w->zipf_exponent() == 0) w->set_zipf_exponent(0.99);
  if (w->request_timeout_ms() == 0) w->set_request_timeout_ms(5000);
  for (proto::LinkClass* link : {s->mutable_lan(), s->mutable_wan()}) {
    if (link->queue_messages_max() == 0) link->set_queue_messages_max(1024);
  }
  if (s->clock().offset_ms_max() == 0) s->mutable_clock()->set_offset_ms_max(50);
  if (s->clock().drift_ppm_max() == 0) s->mutable_clock()->set_drift_ppm_max(100);
  proto::Phases* phases = s->mutable_phases();
  if (phases->convergence_bound_s() == 0) phases->set_convergence_bound_s(30);
  if (phases->sample_interval_ms() == 0) phases->set_sample_interval_ms(100);
  for (proto::TimedFault& f : *s->mutable_faults()->mutable_timed()) {
    if (f.duration_s() == 0) f.set_duration_s(1);
    if (f.kind() == proto::FLAPPING_LINK && f.period_ms() == 0) f.set_period_ms(200);
    if (f.count() == 0) f.set_count(1);
  }
  if (s->faults().random().mean_duration_s() == 0) {
    s->mutable_faults()->mutable_random()->set_mean_duration_s(1);
  }
  if (s->events_max() == 0) s->set_events_max(200'000'000);
}

}  // namespace replsim::scenarios
