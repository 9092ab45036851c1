// Semantic checks and defaults for scenario files. Syntax is protobuf's job; this file
// refuses values that parse but make no sense, naming the field path of each.
#include <map>
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
  Status status() const {
    return text_.empty() ? Status::ok() : Status::invalid_argument(text_);
  }

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
  p.non_negative(name + ".latency.base_ms", link.latency().base_ms());
  p.non_negative(name + ".latency.jitter_ms", link.latency().jitter_ms());
  p.non_negative(name + ".latency.tail_ms", link.latency().tail_ms());
  p.probability(name + ".latency.tail_probability", link.latency().tail_probability());
  p.probability(name + ".drop_probability", link.drop_probability());
  p.probability(name + ".duplicate_probability", link.duplicate_probability());
  p.probability(name + ".reorder_probability", link.reorder_probability());
}

void check_disk(Problems& p, const std::string& name, const proto::DiskModel& disk) {
  p.non_negative(name + ".fsync_latency_ms", disk.fsync_latency_ms());
  p.non_negative(name + ".write_latency_us", disk.write_latency_us());
  p.probability(name + ".sector_error_probability", disk.sector_error_probability());
  p.probability(name + ".fsync_failure_probability", disk.fsync_failure_probability());
  p.probability(name + ".torn_write_probability", disk.torn_write_probability());
}

// Cluster name -> node count (after the nodes default).
std::map<std::string, uint32_t> check_topology(Problems& p, const proto::Topology& topology) {
  std::map<std::string, uint32_t> clusters;
  int primaries = 0;
  if (topology.clusters().empty()) p.add("topology.clusters", "at least one cluster is needed");
  for (int i = 0; i < topology.clusters_size(); ++i) {
    const proto::Cluster& c = topology.clusters(i);
    const std::string field = at("topology.clusters", i);
    if (c.name().empty()) p.add(field + ".name", "every cluster needs a name");
    if (clusters.count(c.name())) p.add(field + ".name", "duplicate cluster \"" + c.name() + "\"");
    if (c.nodes() > 32) p.add(field + ".nodes", "at most 32 nodes, got " + std::to_string(c.nodes()));
    if (c.role() == proto::PRIMARY) ++primaries;
    if (c.has_disk()) check_disk(p, field + ".disk", c.disk());
    clusters[c.name()] = c.nodes() == 0 ? 3 : c.nodes();
  }
  if (primaries > 1) p.add("topology.clusters", "at most one PRIMARY at start");
  return clusters;
}

void check_cluster_name(Problems& p, const std::map<std::string, uint32_t>& clusters,
                        const std::string& field, const std::string& name) {
  if (!clusters.count(name)) p.add(field, "no cluster named \"" + name + "\" in the topology");
}

void check_workload(Problems& p, const std::map<std::string, uint32_t>& clusters,
                    const proto::Workload& w) {
  p.non_negative("workload.writes_per_sec", w.writes_per_sec());
  p.non_negative("workload.reads_per_sec", w.reads_per_sec());
  p.non_negative("workload.logins_per_sec", w.logins_per_sec());
  p.probability("workload.delete_fraction", w.delete_fraction());
  if ((w.writes_per_sec() > 0 || w.reads_per_sec() > 0) && w.keys() == 0) {
    p.add("workload.keys", "must be > 0 when the workload writes or reads");
  }
  if (w.value_bytes() > (1u << 20)) p.add("workload.value_bytes", "at most 1 MiB");
  if (w.key_distribution() == proto::ZIPF && !(w.zipf_theta() > 0 && w.zipf_theta() < 1.5)) {
    p.add("workload.zipf_theta", "with ZIPF must be in (0, 1.5), got " +
                                     Problems::number(w.zipf_theta()));
  }
  for (int i = 0; i < w.target_clusters_size(); ++i) {
    check_cluster_name(p, clusters, at("workload.target_clusters", i), w.target_clusters(i));
  }
}

void check_target(Problems& p, const std::map<std::string, uint32_t>& clusters,
                  const std::string& field, const proto::Target& target) {
  check_cluster_name(p, clusters, field + ".cluster", target.cluster());
  auto it = clusters.find(target.cluster());
  if (it != clusters.end() && target.node() == proto::Target::INDEX &&
      target.index() >= it->second) {
    p.add(field + ".index", "cluster \"" + target.cluster() + "\" has " +
                                std::to_string(it->second) + " nodes");
  }
}

bool needs_sides(proto::FaultKind kind) {
  return kind == proto::PARTITION || kind == proto::FLAP || kind == proto::LINK_DEGRADE;
}

void check_timed_fault(Problems& p, const std::map<std::string, uint32_t>& clusters,
                       const std::string& field, const proto::TimedFault& f, double end_s) {
  p.non_negative(field + ".at_s", f.at_s());
  p.non_negative(field + ".duration_s", f.duration_s());
  if (f.at_s() > end_s) p.add(field + ".at_s", "after the end of the run");
  if (f.kind() == proto::FAULT_UNSPECIFIED) p.add(field + ".kind", "a fault kind is needed");
  if (needs_sides(f.kind())) {
    if (f.side_a().empty() || f.side_b().empty()) {
      p.add(field + ".side_a", "PARTITION, FLAP and LINK_DEGRADE need side_a and side_b");
    }
    for (int i = 0; i < f.side_a_size(); ++i) {
      check_cluster_name(p, clusters, at(field + ".side_a", i), f.side_a(i));
    }
    for (int i = 0; i < f.side_b_size(); ++i) {
      check_cluster_name(p, clusters, at(field + ".side_b", i), f.side_b(i));
    }
  } else if (f.kind() != proto::FAULT_UNSPECIFIED) {
    check_target(p, clusters, field + ".target", f.target());
  }
  if (f.kind() == proto::FLAP && !(f.flap_period_ms() > 0)) {
    p.add(field + ".flap_period_ms", "FLAP needs a period > 0");
  }
  p.probability(field + ".drop_probability", f.drop_probability());
  p.non_negative(field + ".extra_delay_ms", f.extra_delay_ms());
}

void check_faults(Problems& p, const std::map<std::string, uint32_t>& clusters,
                  const proto::FaultSchedule& faults, double end_s) {
  for (int i = 0; i < faults.timed_size(); ++i) {
    check_timed_fault(p, clusters, at("faults.timed", i), faults.timed(i), end_s);
  }
  const proto::RandomFaults& r = faults.random();
  const std::string f = "faults.random.";
  p.non_negative(f + "partitions_per_min", r.partitions_per_min());
  p.non_negative(f + "crashes_per_min", r.crashes_per_min());
  p.non_negative(f + "power_losses_per_min", r.power_losses_per_min());
  p.non_negative(f + "pauses_per_min", r.pauses_per_min());
  p.non_negative(f + "clock_bumps_per_min", r.clock_bumps_per_min());
  p.non_negative(f + "disk_faults_per_min", r.disk_faults_per_min());
  p.non_negative(f + "mean_duration_s", r.mean_duration_s());
  p.non_negative(f + "start_s", r.start_s());
  p.non_negative(f + "end_s", r.end_s());
  if (r.end_s() != 0 && r.end_s() < r.start_s()) p.add(f + "end_s", "before start_s");
}

void check_actions(Problems& p, const std::map<std::string, uint32_t>& clusters,
                   const proto::Scenario& s) {
  for (int i = 0; i < s.operator_actions_size(); ++i) {
    const proto::OperatorAction& a = s.operator_actions(i);
    const std::string field = at("operator_actions", i);
    p.non_negative(field + ".at_s", a.at_s());
    p.non_negative(field + ".token_ttl_s", a.token_ttl_s());
    if (a.kind() == proto::ACTION_UNSPECIFIED) p.add(field + ".kind", "an action kind is needed");
    check_cluster_name(p, clusters, field + ".cluster", a.cluster());
    if (!a.primary().empty()) check_cluster_name(p, clusters, field + ".primary", a.primary());
    if (a.kind() == proto::UPDATE_PRIMARY && a.primary().empty()) {
      p.add(field + ".primary", "UPDATE_PRIMARY needs the primary to follow");
    }
  }
}

}  // namespace

Status validate_scenario(const proto::Scenario& s, const std::string& file_name) {
  Problems p(file_name);
  const std::map<std::string, uint32_t> clusters = check_topology(p, s.topology());
  check_link(p, "lan", s.lan());
  check_link(p, "wan", s.wan());
  check_disk(p, "disk", s.disk());
  p.non_negative("clock.offset_ms_max", s.clock().offset_ms_max());
  p.non_negative("clock.drift_ppm_max", s.clock().drift_ppm_max());
  check_workload(p, clusters, s.workload());
  p.non_negative("phases.safety_s", s.phases().safety_s());
  p.non_negative("phases.liveness_s", s.phases().liveness_s());
  p.non_negative("phases.quiesce_after_s", s.phases().quiesce_after_s());
  p.non_negative("phases.convergence_bound_s", s.phases().convergence_bound_s());
  if (!(total_duration_s(s) > 0)) p.add("phases.safety_s", "the run needs a duration > 0");
  if (s.phases().quiesce_after_s() > s.phases().liveness_s()) {
    p.add("phases.quiesce_after_s", "later than the end of the liveness phase");
  }
  check_faults(p, clusters, s.faults(), total_duration_s(s));
  check_actions(p, clusters, s);
  for (int i = 0; i < s.checkers_size(); ++i) {
    if (s.checkers(i) == proto::CHECKER_UNSPECIFIED) {
      p.add(at("checkers", i), "CHECKER_UNSPECIFIED is not a checker");
    }
  }
  const proto::ReplicationParams& r = s.replication();
  p.non_negative("replication.read_after_write_wait_ms", r.read_after_write_wait_ms());
  p.probability("replication.merkle_flush_fraction", r.merkle_flush_fraction());
  p.non_negative("replication.merkle_flush_interval_ms", r.merkle_flush_interval_ms());
  p.non_negative("replication.heartbeat_interval_ms", r.heartbeat_interval_ms());
  p.probability("buggify.site_probability", s.buggify().site_probability());
  p.probability("buggify.fire_probability", s.buggify().fire_probability());
  return p.status();
}

void apply_defaults(proto::Scenario* s) {
  for (proto::Cluster& c : *s->mutable_topology()->mutable_clusters()) {
    if (c.nodes() == 0) c.set_nodes(3);
  }
  proto::Workload* w = s->mutable_workload();
  if (w->clients() == 0) w->set_clients(8);
  if (w->value_bytes() == 0) w->set_value_bytes(256);
  proto::ReplicationParams* r = s->mutable_replication();
  if (r->batch_entries_max() == 0) r->set_batch_entries_max(63);
  if (r->batch_bytes_max() == 0) r->set_batch_bytes_max(128 * 1024);
  if (r->wal_buffer_entries() == 0) r->set_wal_buffer_entries(16384);
  if (r->read_after_write_wait_ms() == 0) r->set_read_after_write_wait_ms(2000);
  if (r->merkle_flush_fraction() == 0) r->set_merkle_flush_fraction(0.02);
  if (r->merkle_flush_interval_ms() == 0) r->set_merkle_flush_interval_ms(200);
  if (r->heartbeat_interval_ms() == 0) r->set_heartbeat_interval_ms(1000);
  proto::Buggify* b = s->mutable_buggify();
  if (b->enabled() && b->site_probability() == 0) b->set_site_probability(0.25);
  if (b->enabled() && b->fire_probability() == 0) b->set_fire_probability(0.25);
  if (s->phases().convergence_bound_s() == 0) s->mutable_phases()->set_convergence_bound_s(30);
  for (proto::OperatorAction& a : *s->mutable_operator_actions()) {
    if (a.kind() == proto::CREATE_TOKEN && a.token_ttl_s() == 0) a.set_token_ttl_s(1800);
  }
}

}  // namespace replsim::scenarios
