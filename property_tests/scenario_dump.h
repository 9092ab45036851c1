// Writes a ScenarioConfig as a scenario file (protobuf text format, proto/scenario.proto) that
// `replsim run` accepts, so a shrunk property failure can be rerun from the command line.
#pragma once

#include <string>

#include "proto/scenario.pb.h"
#include "sim/harness/runner.h"

namespace replsim::props {

proto::Scenario to_scenario_proto(const harness::ScenarioConfig& config, uint64_t seed);
std::string to_scenario_text(const harness::ScenarioConfig& config, uint64_t seed);
// Writes the file under $REPLSIM_FAILURE_DIR (default "property_failures") and returns its path.
std::string write_failure_scenario(const harness::ScenarioConfig& config, uint64_t seed,
                                   const std::string& property);

}  // namespace replsim::props
