// The self-contained HTML report of one run (docs/reports.md): no scripts, no network, charts
// as inline SVG. Sections (each an <svg> with a fixed id that tests look for):
//   lag-chart          replication lag over time, one line per secondary
//   throughput-chart   acknowledged writes/s and reads/s, failed ops/s
//   state-bands        each secondary's replication state over time
//   fault-timeline     every injected fault, with its duration when it has one
//   latency-<op>       a latency histogram per operation
// and a table of checker results with the first offending event of each failure.
#pragma once

#include <string>

#include "engine/status.h"
#include "proto/summary.pb.h"
#include "reports/report_data.h"

namespace replsim::reports {

std::string render_html(const ReportData& data, const proto::RunSummary& summary);

// Writes DIR/summary.json and DIR/report.html (creating DIR).
Status write_report_dir(const ReportData& data, const std::string& dir);

}  // namespace replsim::reports
