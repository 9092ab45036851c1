// Shared by the property tests: run a generated scenario with some checkers and, on failure,
// log the seed, the failing checker and the reproduction, and write the case as a scenario file.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

#include "property_tests/generators.h"
#include "property_tests/scenario_dump.h"
#include "sim/harness/checkers.h"
#include "sim/harness/runner.h"

namespace replsim::harness {
// How RapidCheck shows a generated scenario: the scenario file text.
void showValue(const ScenarioConfig& config, std::ostream& os);
}  // namespace replsim::harness

namespace replsim::props {

// Cases are scaled by RC_PARAMS (max_success); REPLSIM_SOAK=1 also lengthens the safety phase.
bool soak();

// Adds one simulated run to this process's budget figures; at exit the process prints
// "property budget: <runs> runs, <s> simulated s, <events> events" to stderr (the CI budget
// note in docs/checkers.md comes from these lines). run_and_check counts its own runs.
void count_run(const harness::RunResult& r);

// Runs `config` with `checkers` and fails the property (RC_FAIL) when a checker fails or the run
// errors. Returns the result for further assertions.
harness::RunResult run_and_check(harness::ScenarioConfig config, uint64_t seed,
                                 const std::vector<std::string>& checkers,
                                 const std::string& property);

}  // namespace replsim::props
