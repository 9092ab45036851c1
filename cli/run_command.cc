// `replsim run`, `replsim check-determinism` and `replsim list`.
// The CLI lives outside engine/ and sim/: it may read the wall clock (to report speed).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/run_report.h"
#include "cli/scenario_config.h"
#include "reports/chrome_trace.h"
#include "reports/html_report.h"
#include "reports/summary.h"
#include "scenarios/scenario_file.h"
#include "sim/harness/history.h"
#include "sim/trace.h"

namespace replsim::cli {
namespace {

constexpr const char* kRunHelp =
    "usage: replsim run FILE [--seed N] [--report DIR] [--trace FILE] [--history FILE]\n"
    "                        [--summary-json FILE] [--quiet]\n"
    "Runs one scenario with one seed (default: the file's seed) and prints a summary:\n"
    "simulated and wall time, speed, writes, reads, lag p50/p99, faults, checkers, trace hash.\n"
    "  --report DIR        write DIR/summary.json and DIR/report.html\n"
    "  --trace FILE        write a Chrome trace-event JSON (open it in ui.perfetto.dev)\n"
    "  --history FILE      write the history as JSON Lines (docs/checkers.md)\n"
    "  --summary-json FILE write only the summary JSON (used by `replsim swarm`)\n"
    "  --quiet             print nothing but failures\n"
    "Exit status: 0 all checkers passed, 1 a checker failed (the reproduction command is\n"
    "printed), 2 bad arguments or a scenario file that does not load.\n";

constexpr const char* kDeterminismHelp =
    "usage: replsim check-determinism FILE [--seed N]\n"
    "Runs the scenario twice with the same seed and compares the trace (every event's time,\n"
    "node, kind and digest). On a mismatch prints the first divergent event and exits 1.\n";

constexpr const char* kListHelp =
    "usage: replsim list [DIR]\n"
    "Lists the scenario files in DIR (default: ./scenarios, else the source tree's) with the\n"
    "first sentence of each file's leading comment.\n";

struct Loaded {
  proto::Scenario scenario;
  MappedScenario mapped;
  uint64_t seed = 0;
};

// Loads FILE and the seed (flag or file default). Prints the error and returns false.
bool load(const std::string& file, const Args& args, Loaded* out) {
  Result<proto::Scenario> scenario = scenarios::load_scenario(file);
  if (!scenario.is_ok()) {
    std::cerr << scenario.status().message() << "\n";
    return false;
  }
  out->scenario = *scenario;
  std::string error;
  std::optional<std::string> seed = flag_value(args, "--seed", &error);
  out->seed = out->scenario.seed();
  if (seed) {
    std::optional<uint64_t> value = parse_u64(*seed);
    if (!value) {
      std::cerr << "--seed: not a number: " << *seed << "\n";
      return false;
    }
    out->seed = *value;
  }
  if (!error.empty()) {
    std::cerr << error << "\n";
    return false;
  }
  out->mapped = map_scenario(out->scenario);
  return true;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return out ? Status::ok() : Status::io_error(path + ": write failed");
}

Status write_outputs(const Args& args, const harness::RunResult& result,
                     const reports::ReportData& data, const proto::RunSummary& summary) {
  std::string error;
  if (auto dir = flag_value(args, "--report", &error)) {
    REPLSIM_RETURN_IF_ERROR(reports::write_report_dir(data, *dir));
  }
  if (auto path = flag_value(args, "--trace", &error)) {
    REPLSIM_RETURN_IF_ERROR(reports::write_chrome_trace(data, *path));
  }
  if (auto path = flag_value(args, "--history", &error)) {
    if (!result.history) return Status::unavailable("the run recorded no history");
    std::ofstream out(*path, std::ios::binary | std::ios::trunc);
    result.history->write_jsonl(out);
    if (!out) return Status::io_error(*path + ": write failed");
  }
  if (auto path = flag_value(args, "--summary-json", &error)) {
    REPLSIM_RETURN_IF_ERROR(write_text(*path, reports::summary_to_json(summary)));
  }
  return Status::ok();
}

}  // namespace

int run_command(const std::string& binary, const Args& args) {
  if (wants_help(args)) return std::cout << kRunHelp, 0;
  Args files = positionals(args, {"--quiet"});
  if (files.size() != 1) return std::cerr << kRunHelp, 2;
  Loaded loaded;
  if (!load(files[0], args, &loaded)) return 2;
  const auto start = std::chrono::steady_clock::now();
  harness::RunResult result = harness::run_scenario(loaded.mapped.config, loaded.seed, nullptr);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reports::ReportData data = to_report_data(result, loaded.mapped, files[0], wall_s);
  data.reproduce = reproduce_command(binary, files[0], loaded.seed);
  const proto::RunSummary summary = reports::make_summary(data);
  const bool quiet = std::find(args.begin(), args.end(), "--quiet") != args.end();
  if (!quiet || !summary.passed()) std::cout << reports::summary_to_text(summary);
  Status written = write_outputs(args, result, data, summary);
  if (!written.is_ok()) {
    std::cerr << written.to_string() << "\n";
    return 2;
  }
  if (!summary.passed()) {
    std::cout << "reproduce: " << data.reproduce << "\n";
    return 1;
  }
  return 0;
}

int check_determinism_command(const Args& args) {
  if (wants_help(args)) return std::cout << kDeterminismHelp, 0;
  Args files = positionals(args);
  if (files.size() != 1) return std::cerr << kDeterminismHelp, 2;
  Loaded loaded;
  if (!load(files[0], args, &loaded)) return 2;
  loaded.mapped.config.keep_trace_events = true;
  harness::RunResult a = harness::run_scenario(loaded.mapped.config, loaded.seed, nullptr);
  harness::RunResult b = harness::run_scenario(loaded.mapped.config, loaded.seed, nullptr);
  const bool same = a.trace_hash == b.trace_hash && a.events == b.events &&
                    !sim::first_divergence(a.trace_events, b.trace_events).has_value();
  std::cout << "seed " << loaded.seed << ": run A hash " << reports::hash_hex(a.trace_hash) << " ("
            << a.trace_events.size() << " trace events), run B hash "
            << reports::hash_hex(b.trace_hash) << " (" << b.trace_events.size()
            << " trace events)\n";
  if (same) {
    std::cout << "deterministic\n";
    return 0;
  }
  std::cout << "NOT deterministic: " << sim::divergence_report(a.trace_events, b.trace_events)
            << "\n";
  return 1;
}

int list_command(const Args& args) {
  if (wants_help(args)) return std::cout << kListHelp, 0;
  Args dirs = positionals(args);
  std::string dir = !dirs.empty() ? dirs[0]
                    : std::filesystem::is_directory("scenarios")
                        ? "scenarios"
                        : std::string(REPLSIM_SOURCE_DIR) + "/scenarios";
  std::vector<std::string> files = scenarios::list_scenario_files(dir);
  if (files.empty()) return std::cerr << "no *.textproto in " << dir << "\n", 2;
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    std::string name = std::filesystem::path(file).stem().string();
    std::printf("%-24s %s\n", name.c_str(), scenarios::one_line_description(text.str()).c_str());
  }
  return 0;
}

}  // namespace replsim::cli
