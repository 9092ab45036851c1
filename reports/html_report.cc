#include "reports/html_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "reports/summary.h"
#include "reports/svg_chart.h"

namespace replsim::reports {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

double seconds(TimeUs us) { return static_cast<double>(us) / 1e6; }

ChartFrame time_frame(const ReportData& data, const std::string& id, const std::string& y) {
  ChartFrame frame;
  frame.id = id;
  frame.x_label = "virtual time (s)";
  frame.y_label = y;
  frame.x_min = 0;
  frame.x_max = std::max(1.0, seconds(data.simulated_us));
  if (data.safety_end_us > 0) frame.x_marks.push_back(seconds(data.safety_end_us));
  return frame;
}

// One point per secondary per sampling bucket: the largest lag of the entries it applied in
// that bucket (the lag samples are per entry, far too many to draw one by one).
std::string lag_section(const ReportData& data) {
  const TimeUs bucket_us = std::max<TimeUs>(1, data.throughput_bucket_us);
  std::map<uint32_t, std::map<TimeUs, TimeUs>> worst;  // cluster → bucket start → lag
  for (const LagPoint& p : data.lag) {
    TimeUs& w = worst[p.cluster][p.time_us / bucket_us * bucket_us];
    w = std::max(w, p.lag_us);
  }
  std::map<uint32_t, Series> by_cluster;
  for (const auto& [cluster, buckets] : worst) {
    Series& s = by_cluster[cluster];
    for (const auto& [t, lag_us] : buckets) {
      s.x.push_back(seconds(t));
      s.y.push_back(static_cast<double>(lag_us) / 1000.0);
    }
  }
  std::vector<Series> series;
  for (auto& [cluster, s] : by_cluster) {
    s.name = data.cluster_name(cluster);
    s.color = kPalette[series.size() % 10];
    series.push_back(std::move(s));
  }
  return "<h2>Replication lag per secondary</h2>\n" +
         line_chart(time_frame(data, "lag-chart", "lag (ms)"), series);
}

std::string throughput_section(const ReportData& data) {
  const double bucket_s = seconds(std::max<TimeUs>(1, data.throughput_bucket_us));
  Series writes{"writes/s", "#1f77b4", {}, {}};
  Series reads{"reads/s", "#2ca02c", {}, {}};
  Series failed{"failed ops/s", "#d62728", {}, {}};
  for (const ThroughputPoint& p : data.throughput) {
    const double t = seconds(p.time_us);
    writes.x.push_back(t);
    writes.y.push_back(static_cast<double>(p.writes_ok) / bucket_s);
    reads.x.push_back(t);
    reads.y.push_back(static_cast<double>(p.reads_ok) / bucket_s);
    failed.x.push_back(t);
    failed.y.push_back(static_cast<double>(p.ops_failed) / bucket_s);
  }
  return "<h2>Throughput</h2>\n" +
         line_chart(time_frame(data, "throughput-chart", "operations/s"), {writes, reads, failed});
}

std::string state_color(const std::string& state) {
  if (state == "stream-wals") return "#4daf4a";
  if (state == "merkle-diff") return "#ff7f00";
  if (state == "merkle-sync") return "#e41a1c";
  if (state == "idle") return "#bbbbbb";
  if (state == "connecting") return "#377eb8";
  return "#984ea3";
}

std::string state_section(const ReportData& data) {
  std::map<uint32_t, BandRow> rows;
  for (const StateBand& b : data.states) {
    BandRow& row = rows[b.cluster];
    row.name = data.cluster_name(b.cluster);
    char label[160];
    std::snprintf(label, sizeof(label), "%s %.3f s .. %.3f s", b.state.c_str(), seconds(b.start_us),
                  seconds(b.end_us));
    row.bands.push_back({seconds(b.start_us), seconds(b.end_us), label, state_color(b.state)});
  }
  std::vector<BandRow> list;
  for (auto& [cluster, row] : rows) list.push_back(std::move(row));
  std::vector<std::pair<std::string, std::string>> legend;
  for (const char* s : {"stream-wals", "merkle-diff", "merkle-sync", "connecting", "idle"}) {
    legend.emplace_back(s, state_color(s));
  }
  ChartFrame frame = time_frame(data, "state-bands", "");
  return "<h2>Replication state per secondary</h2>\n" + band_chart(frame, list, legend);
}

std::string fault_section(const ReportData& data) {
  std::vector<Marker> markers;
  for (const FaultMark& f : data.faults) {
    Marker m;
    m.x = seconds(f.time_us);
    m.label = f.kind + " " + f.target;
    char when[48];
    std::snprintf(when, sizeof(when), "t=%.3f s: ", m.x);
    m.tooltip = when + f.kind + " " + f.target + (f.detail.empty() ? "" : " (" + f.detail + ")");
    markers.push_back(std::move(m));
  }
  std::string html = "<h2>Fault timeline (" + std::to_string(markers.size()) + " faults)</h2>\n";
  html += timeline(time_frame(data, "fault-timeline", ""), markers);
  return html;
}

std::string latency_section(const ReportData& data) {
  // Log-spaced buckets from 0.1 ms to ~6.5 s.
  std::vector<std::string> labels;
  std::vector<double> bounds_ms;
  for (double b = 0.1; b < 7000; b *= 2) {
    bounds_ms.push_back(b);
    char text[32];
    std::snprintf(text, sizeof(text), b < 1 ? "<%.1f" : "<%.0f", b * 2);
    labels.push_back(text);
  }
  std::map<std::string, std::vector<double>> counts;
  for (const OpLatency& l : data.latencies) {
    if (!l.ok) continue;
    std::vector<double>& c = counts[l.op];
    c.resize(bounds_ms.size());
    const double ms = static_cast<double>(l.latency_us) / 1000.0;
    size_t i = 0;
    while (i + 1 < bounds_ms.size() && ms >= bounds_ms[i] * 2) ++i;
    c[i] += 1;
  }
  std::string html = "<h2>Latency histograms (ms, successful operations)</h2>\n";
  size_t color = 0;
  for (const auto& [op, c] : counts) {
    html += bar_chart("latency-" + op, op + " latency (ms)", labels, c, kPalette[color++ % 10]);
  }
  if (counts.empty()) html += "<p>No completed operations.</p>\n";
  return html;
}

std::string checker_section(const proto::RunSummary& s) {
  std::ostringstream out;
  out << "<h2>Checkers</h2>\n<table id=\"checkers\">\n<tr><th>checker</th><th>result</th>"
      << "<th>message</th><th>first offending event</th></tr>\n";
  for (const proto::CheckerOutcome& c : s.checkers()) {
    char when[48] = "";
    if (!c.passed()) std::snprintf(when, sizeof(when), "t=%.6f s: ", c.time_s());
    out << "<tr class=\"" << (c.passed() ? "pass" : "fail") << "\"><td>" << html_escape(c.name())
        << "</td><td>" << (c.passed() ? "pass" : "FAIL") << "</td><td>" << html_escape(c.message())
        << "</td><td>" << (c.passed() ? "" : html_escape(when + c.first_offending_event()))
        << "</td></tr>\n";
  }
  out << "</table>\n";
  return out.str();
}

std::string overview(const ReportData& data, const proto::RunSummary& s) {
  std::ostringstream out;
  char line[512];
  out << "<table id=\"overview\">\n";
  auto row = [&](const std::string& k, const std::string& v) {
    out << "<tr><th>" << html_escape(k) << "</th><td>" << html_escape(v) << "</td></tr>\n";
  };
  row("result", s.passed() ? "PASS" : "FAIL");
  row("seed", std::to_string(s.seed()));
  std::snprintf(line, sizeof(line), "%.3f s simulated in %.3f s wall (%.4gx real time)",
                s.simulated_s(), s.wall_s(), s.speed_x_real_time());
  row("time", line);
  row("events", std::to_string(s.events()));
  std::snprintf(line, sizeof(line), "%llu writes, %llu reads, %llu failed, %llu warnings",
                static_cast<unsigned long long>(s.writes()),
                static_cast<unsigned long long>(s.reads()),
                static_cast<unsigned long long>(s.writes_failed()),
                static_cast<unsigned long long>(s.read_after_write_warnings()));
  row("operations", line);
  if (!s.lag().empty()) {
    std::snprintf(line, sizeof(line), "p50 %.1f ms, p99 %.1f ms, max %.1f ms", s.lag(0).p50_ms(),
                  s.lag(0).p99_ms(), s.lag(0).max_ms());
    row("lag (all secondaries)", line);
  }
  row("faults injected", std::to_string(s.faults_injected()));
  row("checkers", std::to_string(s.checkers_passed()) + " passed, " +
                      std::to_string(s.checkers_failed()) + " failed");
  row("trace hash", s.trace_hash());
  if (data.converged_after_us >= 0) {
    std::snprintf(line, sizeof(line), "%.3f s after the faults stopped",
                  seconds(data.converged_after_us));
    row("converged", line);
  }
  if (!data.error.empty()) row("error", data.error);
  row("reproduce", s.reproduce());
  out << "</table>\n";
  return out.str();
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:960px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}"
    "tr.fail td{background:#fdd}tr.pass td:nth-child(2){color:#080}"
    "h2{margin-top:28px;font-size:17px}svg{display:block;margin:6px 0}";

}  // namespace

std::string render_html(const ReportData& data, const proto::RunSummary& summary) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>replsim "
      << html_escape(data.scenario) << " seed " << data.seed << "</title>\n<style>" << kStyle
      << "</style>\n</head>\n<body>\n<h1>replsim: " << html_escape(data.scenario) << "</h1>\n"
      << "<p>" << html_escape(data.scenario_file)
      << ". The dashed line marks the end of the safety phase (faults stop).</p>\n"
      << overview(data, summary) << checker_section(summary) << lag_section(data)
      << throughput_section(data) << state_section(data) << fault_section(data)
      << latency_section(data) << "</body>\n</html>\n";
  return out.str();
}

Status write_report_dir(const ReportData& data, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::io_error(dir + ": " + error.message());
  const proto::RunSummary summary = make_summary(data);
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"summary.json", summary_to_json(summary)},
        {"report.html", render_html(data, summary)}}) {
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return Status::io_error(path + ": write failed");
  }
  return Status::ok();
}

}  // namespace replsim::reports
