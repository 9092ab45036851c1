// RapidCheck generators for scenarios: topologies, workloads, fault schedules (every fault kind
// of docs/design.md §3, both regimes, clock skew on) and operator actions. Faults and actions are
// explicit lists, so shrinking removes them one by one and shortens their durations.
#pragma once

#include <rapidcheck.h>

#include "sim/harness/runner.h"

namespace replsim::props {

struct GenOptions {
  harness::FaultRegime regime = harness::FaultRegime::kBounded;
  std::vector<harness::FaultKind> kinds;  // empty: every kind of the regime
  size_t faults_max = 6;
  size_t actions_max = 2;
  bool logins = false;  // weight logins and token uses up (local-stays-local)
  // Swarm testing: each case switches on a random non-empty subset of `kinds` and of the
  // optional workload features (deletes, lists, logins + token uses; reads and writes are
  // always on), so rare combinations are not drowned by the others.
  bool swarm = true;
  // Operator races: an action may be followed within 10 ms by a second one on another cluster
  // (two promotions, promote + unplanned failover, demote + update-primary).
  bool races = true;
  // Faults aimed at transitions: an action may be followed within 5 ms by a crash, disk full
  // or (unbounded) fsync failure of the cluster it acts on (only kinds in `kinds`).
  bool transition_faults = true;
  // A rogue cluster (never activated) tries to join with bad tokens 1-2 times.
  bool rogue = false;
  uint32_t secondaries_max = 7;  // clusters up to 8; most cases have 1-2 secondaries
  // Hostile data as a swarm feature (WorkloadConfig::hostile_data). Off by default: a long
  // key aborts the engine today (aries_index.cc "merkle bucket overflows its page frame", an
  // open finding); switch it on once keys of any length are handled.
  bool hostile_data = false;
};

rc::Gen<harness::ScenarioConfig> gen_scenario(GenOptions options);

// Every fault kind the regime allows (bounded: network, process, clock, disk full).
std::vector<harness::FaultKind> fault_kinds(harness::FaultRegime regime);

}  // namespace replsim::props
