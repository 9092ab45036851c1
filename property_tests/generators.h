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
};

rc::Gen<harness::ScenarioConfig> gen_scenario(GenOptions options);

// Every fault kind the regime allows (bounded: network, process, clock, disk full).
std::vector<harness::FaultKind> fault_kinds(harness::FaultRegime regime);

}  // namespace replsim::props
