// Chrome trace-event JSON of a run (opens in Perfetto / chrome://tracing).
//
// One process track per node (pid = node id + 1, named "dc2/1", sorted by cluster) holding
// its requests as async spans (ph b/e, cat "request", name = operation, args: client, key,
// outcome, warning, forwarded); faults are instant events (ph i), on the node they hit when
// the target names one ("node N") and global otherwise, plus a "faults" track (pid 0) with
// every fault. Times are virtual microseconds. To keep files loadable, at most
// `spans_max` requests are written: every failed, timed-out or warned one, and an even stride
// of the rest; the metadata event "replsim" records how many were kept.
#pragma once

#include <cstddef>
#include <string>

#include "engine/status.h"
#include "reports/report_data.h"

namespace replsim::reports {

inline constexpr size_t kTraceSpansMax = 100'000;

std::string chrome_trace_json(const ReportData& data, size_t spans_max = kTraceSpansMax);
Status write_chrome_trace(const ReportData& data, const std::string& path);

// JSON string literal for `text`, quotes included.
std::string json_string(const std::string& text);

}  // namespace replsim::reports
