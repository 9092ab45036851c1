// Maps a loaded scenario file (proto::Scenario, already validated and defaulted by
// scenarios/scenario_file.h) onto the harness's plain harness::ScenarioConfig.
//
// Cluster ids: the PRIMARY cluster is id 0, the SECONDARY clusters follow in file order
// (the harness's convention). cluster_names[id] keeps the file's names for reports.
#pragma once

#include <string>
#include <vector>

#include "proto/scenario.pb.h"
#include "sim/harness/runner.h"

namespace replsim::cli {

struct MappedScenario {
  harness::ScenarioConfig config;
  std::vector<std::string> cluster_names;  // by cluster id
};

MappedScenario map_scenario(const proto::Scenario& scenario);

}  // namespace replsim::cli
