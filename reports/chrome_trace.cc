#include "reports/chrome_trace.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace replsim::reports {
namespace {

// "node 7" / "node=7" anywhere in the target → 7.
int64_t node_in_target(const std::string& target) {
  size_t at = target.find("node");
  if (at == std::string::npos) return -1;
  at += 4;
  while (at < target.size() && (target[at] == ' ' || target[at] == '=')) ++at;
  if (at >= target.size() || !std::isdigit(static_cast<unsigned char>(target[at]))) return -1;
  return std::stoll(target.substr(at, 9));
}

void metadata(std::ostringstream& out, const char* what, int64_t pid, const std::string& name,
              int64_t sort_index) {
  out << "{\"ph\":\"M\",\"name\":\"" << what << "\",\"pid\":" << pid
      << ",\"tid\":0,\"args\":{\"name\":" << json_string(name) << "}},\n";
  out << "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" << pid
      << ",\"tid\":0,\"args\":{\"sort_index\":" << sort_index << "}},\n";
}

void span(std::ostringstream& out, const RequestSpan& r, size_t id) {
  const int64_t pid = static_cast<int64_t>(r.node) + 1;
  out << "{\"ph\":\"b\",\"cat\":\"request\",\"name\":" << json_string(r.op) << ",\"id\":" << id
      << ",\"pid\":" << pid << ",\"tid\":0,\"ts\":" << r.start_us
      << ",\"args\":{\"client\":" << r.client << ",\"key\":" << json_string(r.key)
      << ",\"outcome\":" << json_string(r.outcome)
      << ",\"warning\":" << (r.warning ? "true" : "false")
      << ",\"forwarded\":" << (r.forwarded ? "true" : "false") << "}},\n";
  out << "{\"ph\":\"e\",\"cat\":\"request\",\"name\":" << json_string(r.op) << ",\"id\":" << id
      << ",\"pid\":" << pid << ",\"tid\":0,\"ts\":" << std::max(r.end_us, r.start_us) << "},\n";
}

}  // namespace

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof(esc), "\\u%04x", c);
          out += esc;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string chrome_trace_json(const ReportData& data, size_t spans_max) {
  std::ostringstream out;
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  metadata(out, "process_name", 0, "faults", 0);
  const uint32_t nodes = static_cast<uint32_t>(data.cluster_names.size()) *
                         std::max<uint32_t>(1, data.nodes_per_cluster);
  for (uint32_t node = 0; node < nodes; ++node) {
    metadata(out, "process_name", node + 1, data.node_name(node), node + 1);
  }
  size_t notable = 0;
  for (const RequestSpan& r : data.requests) notable += r.outcome != "ok" || r.warning;
  const size_t rest = data.requests.size() - notable;
  const size_t budget = spans_max > notable ? spans_max - notable : 0;
  const size_t stride = budget == 0 ? rest + 1 : (rest + budget - 1) / budget;
  size_t kept = 0;
  size_t plain_seen = 0;
  for (size_t i = 0; i < data.requests.size(); ++i) {
    const RequestSpan& r = data.requests[i];
    const bool is_notable = r.outcome != "ok" || r.warning;
    if (!is_notable && (stride == 0 || plain_seen++ % std::max<size_t>(1, stride) != 0)) continue;
    span(out, r, i + 1);
    ++kept;
  }
  for (const FaultMark& f : data.faults) {
    const std::string name = "fault: " + f.kind + " " + f.target;
    const std::string args = "{\"detail\":" + json_string(f.detail) + "}";
    out << "{\"ph\":\"i\",\"s\":\"p\",\"name\":" << json_string(name) << ",\"pid\":0,\"tid\":0"
        << ",\"ts\":" << f.time_us << ",\"args\":" << args << "},\n";
    const int64_t node = node_in_target(f.target);
    const bool on_node = node >= 0 && node < static_cast<int64_t>(nodes);
    out << "{\"ph\":\"i\",\"s\":\"" << (on_node ? "p" : "g") << "\",\"name\":" << json_string(name)
        << ",\"pid\":" << (on_node ? node + 1 : 0) << ",\"tid\":0,\"ts\":" << f.time_us
        << ",\"args\":" << args << "},\n";
  }
  out << "{\"ph\":\"M\",\"name\":\"replsim\",\"pid\":0,\"tid\":0,\"args\":{\"scenario\":"
      << json_string(data.scenario) << ",\"seed\":" << data.seed
      << ",\"requests\":" << data.requests.size() << ",\"requests_kept\":" << kept << "}}\n";
  out << "]}\n";
  return out.str();
}

Status write_chrome_trace(const ReportData& data, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << chrome_trace_json(data);
  if (!out) return Status::io_error(path + ": write failed");
  return Status::ok();
}

}  // namespace replsim::reports
