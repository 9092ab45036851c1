// Loading scenario files (scenarios/*.textproto, schema proto/scenario.proto).
//
// Contract: load_scenario() returns a Scenario only if the file parses as protobuf text format
// AND passes validate_scenario(); defaults are then filled in (apply_defaults), so callers
// never see a zero that means "the default". Every error message starts with the file name and
// names the line/column (syntax) or the field path (meaning), e.g.
//   scenarios/x.textproto:12:5: Message type "replsim.proto.Workload" has no field named "rate".
//   scenarios/x.textproto: workload.writes_per_sec: must be >= 0, got -5
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "proto/scenario.pb.h"

namespace replsim::scenarios {

Result<proto::Scenario> load_scenario(const std::string& path);

// Parses `text` as if read from `file_name` (used in messages and to default the name).
Result<proto::Scenario> parse_scenario(std::string_view text, const std::string& file_name);

// Semantic checks: ranges, names that must exist, one primary. Reports every problem found,
// one per line, each "FILE: field.path: message".
Status validate_scenario(const proto::Scenario& scenario, const std::string& file_name);

// Fills in every documented default (nodes 3, clients 8, Vault replication parameters, ...).
void apply_defaults(proto::Scenario* scenario);

// The comment block a file opens with (leading "# " stripped, lines joined by spaces).
std::string leading_comment(std::string_view text);
// Its first sentence, for `replsim list`.
std::string one_line_description(std::string_view text);

// The virtual time a run lasts at most: the safety phase, then the liveness phase (writes for
// liveness_writes_s, convergence within convergence_bound_s), in seconds.
double total_duration_s(const proto::Scenario& scenario);

// Every *.textproto directly inside `dir`, sorted by name.
std::vector<std::string> list_scenario_files(const std::string& dir);

}  // namespace replsim::scenarios
