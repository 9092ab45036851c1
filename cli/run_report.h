// Turns a harness::RunResult into the reports' plain ReportData.
#pragma once

#include <string>

#include "cli/scenario_config.h"
#include "reports/report_data.h"
#include "sim/harness/runner.h"

namespace replsim::cli {

// `wall_s`: wall-clock seconds the run took (measured by the CLI, outside the simulation).
reports::ReportData to_report_data(const harness::RunResult& result, const MappedScenario& scenario,
                                   const std::string& scenario_file, double wall_s);

// "build/bin/replsim run FILE --seed N" with the path of the running binary.
std::string reproduce_command(const std::string& binary, const std::string& scenario_file,
                              uint64_t seed);

}  // namespace replsim::cli
