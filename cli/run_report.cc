#include "cli/run_report.h"

#include <map>

#include "sim/harness/history.h"

namespace replsim::cli {
namespace {

// Pairs each client invoke with its completion: one span per request.
void add_requests(const harness::History& history, reports::ReportData* out) {
  std::map<uint64_t, const harness::HistoryEvent*> open;
  for (const harness::HistoryEvent& e : history.events()) {
    if (e.client < 0) continue;  // operator and nemesis events are not requests
    if (e.type == harness::EventType::kInvoke) {
      open[e.op_id] = &e;
      continue;
    }
    auto it = open.find(e.op_id);
    if (it == open.end()) continue;
    const harness::HistoryEvent& inv = *it->second;
    reports::RequestSpan span;
    span.node = inv.node;
    span.client = inv.client;
    span.op = inv.f;
    span.key = inv.key;
    span.start_us = inv.time_us;
    span.end_us = e.time_us;
    span.outcome = harness::event_type_name(e.type);
    span.warning = !e.warning.empty();
    span.forwarded = e.forwarded;
    out->requests.push_back(std::move(span));
    open.erase(it);
  }
}

}  // namespace

std::string reproduce_command(const std::string& binary, const std::string& scenario_file,
                              uint64_t seed) {
  return binary + " run " + scenario_file + " --seed " + std::to_string(seed);
}

reports::ReportData to_report_data(const harness::RunResult& r, const MappedScenario& scenario,
                                   const std::string& scenario_file, double wall_s) {
  reports::ReportData d;
  d.scenario = r.scenario_name.empty() ? scenario.config.name : r.scenario_name;
  d.scenario_file = scenario_file;
  d.seed = r.seed;
  d.simulated_us = r.simulated_time_us;
  d.wall_s = wall_s;
  d.events = r.events;
  d.writes = r.writes;
  d.reads = r.reads;
  d.warnings = r.warnings;
  d.trace_hash = r.trace_hash;
  d.error = r.error;
  d.cluster_names = scenario.cluster_names;
  d.nodes_per_cluster = scenario.config.topology.nodes_per_cluster;
  d.safety_end_us = scenario.config.phases.safety_duration_us;
  d.converged_after_us = r.converged_after_us;
  d.throughput_bucket_us = scenario.config.phases.sample_interval_us;
  for (const harness::LagSample& s : r.lag) {
    d.lag.push_back({s.time_us, s.cluster, s.lag_us, s.lag_entries});
  }
  for (const harness::ThroughputSample& s : r.throughput) {
    d.throughput.push_back({s.time_us, s.writes_ok, s.reads_ok, s.ops_failed});
    d.ops_failed += s.ops_failed;
  }
  for (const harness::StateInterval& s : r.states) {
    d.states.push_back({s.cluster, s.state, s.start_us, s.end_us});
  }
  for (const sim::FaultRecord& f : r.faults) {
    d.faults.push_back({f.time_us, f.kind, f.target, f.detail});
  }
  for (const harness::LatencySample& l : r.latencies) {
    d.latencies.push_back({l.time_us, l.op, l.latency_us, l.ok, l.warning});
  }
  for (const harness::CheckerResult& c : r.checks) {
    d.checks.push_back({c.name, c.passed, c.skipped, c.event_time_us, c.event, c.message});
  }
  if (r.history) add_requests(*r.history, &d);
  return d;
}

}  // namespace replsim::cli
