#include "reports/summary.h"

#include <google/protobuf/util/json_util.h>

#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>

#include "engine/base/hex.h"

namespace replsim::reports {
namespace {

proto::LagStats lag_stats(const std::string& name, const std::vector<double>& lag_ms) {
  proto::LagStats stats;
  stats.set_secondary(name);
  stats.set_samples(lag_ms.size());
  stats.set_p50_ms(quantile(lag_ms, 0.50));
  stats.set_p99_ms(quantile(lag_ms, 0.99));
  stats.set_max_ms(quantile(lag_ms, 1.0));
  return stats;
}

void add_lag(const ReportData& data, proto::RunSummary* s) {
  std::vector<double> all;
  std::map<uint32_t, std::vector<double>> by_cluster;
  for (const LagPoint& p : data.lag) {
    const double ms = static_cast<double>(p.lag_us) / 1000.0;
    all.push_back(ms);
    by_cluster[p.cluster].push_back(ms);
  }
  *s->add_lag() = lag_stats("all", all);
  for (const auto& [cluster, values] : by_cluster) {
    *s->add_lag() = lag_stats(data.cluster_name(cluster), values);
  }
}

void add_latency(const ReportData& data, proto::RunSummary* s) {
  std::map<std::string, std::vector<double>> by_op;
  for (const OpLatency& l : data.latencies) {
    if (l.ok) by_op[l.op].push_back(static_cast<double>(l.latency_us) / 1000.0);
  }
  for (const auto& [op, values] : by_op) {
    proto::LatencyStats* stats = s->add_latency();
    stats->set_operation(op);
    stats->set_samples(values.size());
    stats->set_p50_ms(quantile(values, 0.50));
    stats->set_p99_ms(quantile(values, 0.99));
    stats->set_max_ms(quantile(values, 1.0));
  }
}

void add_checks(const ReportData& data, proto::RunSummary* s) {
  uint32_t passed = 0;
  uint32_t failed = 0;
  for (const CheckOutcome& c : data.checks) {
    proto::CheckerOutcome* out = s->add_checkers();
    out->set_name(c.skipped ? c.name + " (skipped)" : c.name);
    out->set_passed(c.passed || c.skipped);
    out->set_message(c.message);
    if (!c.passed && !c.skipped) {
      out->set_first_offending_event(c.event);
      out->set_time_s(static_cast<double>(c.event_time_us) / 1e6);
      ++failed;
    } else if (!c.skipped) {
      ++passed;
    }
  }
  s->set_checkers_passed(passed);
  s->set_checkers_failed(failed);
}

}  // namespace

std::string hash_hex(uint64_t hash) { return base::hex_u64(hash); }

proto::RunSummary make_summary(const ReportData& data) {
  proto::RunSummary s;
  s.set_scenario(data.scenario);
  s.set_scenario_file(data.scenario_file);
  s.set_seed(data.seed);
  s.set_simulated_s(static_cast<double>(data.simulated_us) / 1e6);
  s.set_wall_s(data.wall_s);
  s.set_speed_x_real_time(data.wall_s > 0 ? s.simulated_s() / data.wall_s : 0);
  s.set_events(data.events);
  s.set_writes(data.writes);
  s.set_reads(data.reads);
  s.set_writes_failed(data.ops_failed);
  s.set_read_after_write_warnings(data.warnings);
  add_lag(data, &s);
  add_latency(data, &s);
  s.set_faults_injected(static_cast<uint32_t>(data.faults.size()));
  std::map<std::string, uint32_t> kinds;
  for (const FaultMark& f : data.faults) ++kinds[f.kind];
  for (const auto& [kind, count] : kinds) {
    proto::FaultCount* fc = s.add_faults_by_kind();
    fc->set_kind(kind);
    fc->set_count(count);
  }
  add_checks(data, &s);
  s.set_trace_hash(hash_hex(data.trace_hash));
  s.set_passed(data.passed());
  s.set_reproduce(data.reproduce);
  s.set_error(data.error);
  return s;
}

std::string summary_to_json(const proto::RunSummary& summary) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  google::protobuf::util::Status status =
      google::protobuf::util::MessageToJsonString(summary, &json, options);
  REPLSIM_ASSERT_MSG(status.ok(), "a RunSummary always prints as JSON");
  return json;
}

Result<proto::RunSummary> summary_from_json(const std::string& json) {
  proto::RunSummary summary;
  google::protobuf::util::Status status =
      google::protobuf::util::JsonStringToMessage(json, &summary);
  if (!status.ok()) return Status::invalid_argument("summary.json: " + status.ToString());
  return summary;
}

std::string summary_to_text(const proto::RunSummary& s) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line),
                "scenario      %s (seed %" PRIu64
                ")\n"
                "simulated     %.3f s in %.3f s wall: %.4gx real time, %" PRIu64
                " events\n"
                "operations    %" PRIu64 " writes, %" PRIu64 " reads, %" PRIu64 " failed, %" PRIu64
                " read-after-write warnings\n",
                s.scenario().c_str(), s.seed(), s.simulated_s(), s.wall_s(), s.speed_x_real_time(),
                s.events(), s.writes(), s.reads(), s.writes_failed(),
                s.read_after_write_warnings());
  out << line;
  for (const proto::LagStats& lag : s.lag()) {
    std::snprintf(line, sizeof(line),
                  "lag %-9s p50 %.1f ms  p99 %.1f ms  max %.1f ms (%" PRIu64 " samples)\n",
                  lag.secondary().c_str(), lag.p50_ms(), lag.p99_ms(), lag.max_ms(), lag.samples());
    out << line;
  }
  out << "faults        " << s.faults_injected() << " injected";
  for (const proto::FaultCount& f : s.faults_by_kind()) out << ", " << f.count() << " " << f.kind();
  out << "\ncheckers      " << s.checkers_passed() << " passed, " << s.checkers_failed()
      << " failed\n";
  for (const proto::CheckerOutcome& c : s.checkers()) {
    if (c.passed()) continue;
    out << "  FAILED " << c.name() << ": " << c.message() << "\n";
    if (!c.first_offending_event().empty()) {
      std::snprintf(line, sizeof(line), "    first offending event at t=%.6f s: ", c.time_s());
      out << line << c.first_offending_event() << "\n";
    }
  }
  out << "trace hash    " << s.trace_hash() << "\n";
  if (!s.error().empty()) out << "error         " << s.error() << "\n";
  out << "result        " << (s.passed() ? "PASS" : "FAIL") << "\n";
  return out.str();
}

}  // namespace replsim::reports
