// The run summary: one proto::RunSummary (proto/summary.proto) made from ReportData, printed
// as JSON with protobuf's JSON printer (summary.json) or as text for a terminal.
#pragma once

#include <string>

#include "engine/status.h"
#include "proto/summary.pb.h"
#include "reports/report_data.h"

namespace replsim::reports {

proto::RunSummary make_summary(const ReportData& data);

// Pretty-printed JSON, fields always present (even zero).
std::string summary_to_json(const proto::RunSummary& summary);
Result<proto::RunSummary> summary_from_json(const std::string& json);

// The block `replsim run` prints: simulated and wall time, speed, counts, lag, faults,
// checkers, trace hash; failing checkers with their first offending event.
std::string summary_to_text(const proto::RunSummary& summary);

// "0123456789abcdef"
std::string hash_hex(uint64_t hash);

}  // namespace replsim::reports
