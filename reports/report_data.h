// What the reports are made from: a plain copy of one run's results, independent of the
// harness (cli/ fills it from harness::RunResult), so reports build and test on their own.
//
// Conventions: times are virtual microseconds from the start of the run; cluster ids index
// cluster_names; node ids are global (cluster * nodes_per_cluster + index within the cluster).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/types.h"

namespace replsim::reports {

struct LagPoint {
  TimeUs time_us = 0;
  uint32_t cluster = 0;
  TimeUs lag_us = 0;
  uint64_t lag_entries = 0;
};

struct ThroughputPoint {  // one sampling bucket starting at time_us
  TimeUs time_us = 0;
  uint64_t writes_ok = 0;
  uint64_t reads_ok = 0;
  uint64_t ops_failed = 0;
};

struct StateBand {  // a secondary in one replication state from start_us to end_us
  uint32_t cluster = 0;
  std::string state;  // "stream-wals", "merkle-diff", "merkle-sync", "idle", "connecting"
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};

struct FaultMark {
  TimeUs time_us = 0;
  std::string kind;
  std::string target;
  std::string detail;
};

struct OpLatency {
  TimeUs time_us = 0;  // completion
  std::string op;      // "write", "read", ...
  TimeUs latency_us = 0;
  bool ok = false;
  bool warning = false;
};

struct RequestSpan {  // one client request as seen by the node its session is bound to
  uint32_t node = 0;
  int64_t client = 0;
  std::string op;
  std::string key;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::string outcome;  // "ok", "fail", "info"
  bool warning = false;
  bool forwarded = false;
};

struct CheckOutcome {
  std::string name;
  bool passed = true;
  bool skipped = false;
  TimeUs event_time_us = -1;  // first offending event; -1 when none
  std::string event;
  std::string message;
};

struct ReportData {
  std::string scenario;
  std::string scenario_file;
  uint64_t seed = 0;
  TimeUs simulated_us = 0;
  double wall_s = 0;
  uint64_t events = 0;
  uint64_t writes = 0;
  uint64_t reads = 0;
  uint64_t ops_failed = 0;
  uint64_t warnings = 0;
  uint64_t trace_hash = 0;
  std::string reproduce;  // one-line command
  std::string error;      // the run could not be built or aborted

  std::vector<std::string> cluster_names;  // by cluster id; cluster 0 the first primary
  uint32_t nodes_per_cluster = 1;
  TimeUs safety_end_us = 0;
  TimeUs converged_after_us = -1;  // from the end of the safety phase; -1: did not

  std::vector<LagPoint> lag;
  std::vector<ThroughputPoint> throughput;
  TimeUs throughput_bucket_us = 100'000;
  std::vector<StateBand> states;
  std::vector<FaultMark> faults;
  std::vector<OpLatency> latencies;
  std::vector<RequestSpan> requests;
  std::vector<CheckOutcome> checks;

  bool passed() const;
  std::string cluster_name(uint32_t cluster) const;
  std::string node_name(uint32_t node) const;  // "dc2/1"
};

// The q-quantile (0..1) of `values` by nearest rank; 0 for an empty vector. Sorts a copy.
double quantile(std::vector<double> values, double q);

}  // namespace replsim::reports
