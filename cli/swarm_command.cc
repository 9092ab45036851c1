// `replsim swarm` and `replsim merge`: many seeds of one scenario in parallel child processes
// (fork/exec of this binary running `run ... --summary-json`), a progress line, a summary,
// and every failing seed with the command that reproduces it. --shard I/N keeps the seeds
// with (seed - A) % N == I so a job array can split one range over many machines; their
// --json outputs combine with `replsim merge`.
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/run_report.h"
#include "proto/summary.pb.h"
#include "reports/summary.h"

namespace replsim::cli {
namespace {

constexpr const char* kSwarmHelp =
    "usage: replsim swarm FILE --seeds A..B [--jobs N] [--shard I/N] [--json OUT]\n"
    "Runs FILE once per seed in A..B (inclusive), N child processes at a time (default: the\n"
    "number of CPUs), with a progress line (seeds done, failures, ETA). Prints a summary and\n"
    "every failing seed with its reproduction command; exits 1 when any seed failed.\n"
    "  --shard I/N  run only seeds with (seed - A) % N == I (0 <= I < N), for job arrays\n"
    "  --json OUT   write the results (proto/summary.proto SwarmResult) for `replsim merge`\n";

constexpr const char* kMergeHelp =
    "usage: replsim merge A.json B.json ... [--json OUT]\n"
    "Combines the --json outputs of swarm shards: prints the summary and every failing seed\n"
    "with its reproduction command; exits 1 when any seed failed.\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string last_lines(const std::string& text, int count) {
  size_t at = text.size();
  while (count-- > 0 && at > 0) {
    at = text.rfind('\n', at - 2 < at ? at - 2 : 0);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

pid_t spawn(const std::string& binary, const std::string& file, uint64_t seed,
            const std::string& summary_path, const std::string& log_path) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log >= 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
  }
  const std::string seed_text = std::to_string(seed);
  execl(binary.c_str(), binary.c_str(), "run", file.c_str(), "--seed", seed_text.c_str(), "--quiet",
        "--summary-json", summary_path.c_str(), static_cast<char*>(nullptr));
  std::perror("exec");
  _exit(127);
}

proto::SeedOutcome outcome_of(uint64_t seed, int status, const std::string& summary_path,
                              const std::string& log_path, const std::string& reproduce) {
  proto::SeedOutcome out;
  out.set_seed(seed);
  out.set_reproduce(reproduce);
  out.set_exit_code(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  Result<proto::RunSummary> summary = reports::summary_from_json(read_file(summary_path));
  if (summary.is_ok()) {
    out.set_passed(summary->passed() && out.exit_code() == 0);
    out.set_trace_hash(summary->trace_hash());
    out.set_simulated_s(summary->simulated_s());
    out.set_wall_s(summary->wall_s());
    for (const proto::CheckerOutcome& c : summary->checkers()) {
      if (!c.passed()) out.add_failed_checkers(c.name());
    }
  }
  if (!summary.is_ok() || out.exit_code() > 1) {
    out.set_passed(false);
    out.set_error(last_lines(read_file(log_path), 3));
  }
  return out;
}

void progress(size_t done, size_t total, size_t failed, double elapsed_s, bool tty) {
  const int width = 30;
  const int filled = total == 0 ? width : static_cast<int>(width * done / total);
  const double eta =
      done == 0 ? 0 : elapsed_s / static_cast<double>(done) * static_cast<double>(total - done);
  char line[160];
  std::snprintf(line, sizeof(line), "[%s%s] %zu/%zu seeds, %zu failed, ETA %.0f s",
                std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(), done,
                total, failed, eta);
  if (tty) {
    std::fprintf(stderr, "\r%s", line);
    if (done == total) std::fprintf(stderr, "\n");
  } else if (done == total || done % std::max<size_t>(1, total / 10) == 0) {
    std::fprintf(stderr, "%s\n", line);
  }
}

void finish(proto::SwarmResult* result) {
  std::map<uint64_t, proto::SeedOutcome> by_seed;
  for (const proto::SeedOutcome& s : result->seeds()) by_seed[s.seed()] = s;
  result->clear_seeds();
  uint32_t passed = 0;
  for (auto& [seed, s] : by_seed) {
    passed += s.passed();
    *result->add_seeds() = s;
  }
  result->set_passed(passed);
  result->set_failed(static_cast<uint32_t>(by_seed.size()) - passed);
}

int report(const proto::SwarmResult& result, const std::string& json_path) {
  double simulated_s = 0;
  double run_wall_s = 0;
  for (const proto::SeedOutcome& s : result.seeds()) {
    simulated_s += s.simulated_s();
    run_wall_s += s.wall_s();
  }
  std::printf(
      "| scenario | seeds | passed | failed | simulated s | wall s (runs) | speed |\n"
      "|---|---|---|---|---|---|---|\n| %s | %d | %u | %u | %.1f | %.1f | %.4gx |\n",
      result.scenario_file().c_str(), result.seeds_size(), result.passed(), result.failed(),
      simulated_s, run_wall_s, run_wall_s > 0 ? simulated_s / run_wall_s : 0);
  for (const proto::SeedOutcome& s : result.seeds()) {
    if (s.passed()) continue;
    std::string why;
    for (const std::string& c : s.failed_checkers()) why += (why.empty() ? "" : ", ") + c;
    if (!s.error().empty()) why += (why.empty() ? "" : "; ") + s.error();
    std::printf("FAILED seed %llu (exit %d): %s\n  reproduce: %s\n",
                static_cast<unsigned long long>(s.seed()), s.exit_code(), why.c_str(),
                s.reproduce().c_str());
  }
  if (!json_path.empty()) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(result, &json, options).ok()) return 2;
    std::ofstream out(json_path, std::ios::binary | std::ios::trunc);
    out << json;
    if (!out) return std::cerr << json_path << ": write failed\n", 2;
  }
  return result.failed() == 0 ? 0 : 1;
}

}  // namespace

namespace {

struct SwarmPlan {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t shard = 0;
  uint64_t shards = 1;
  unsigned jobs = 1;
  std::string json;
};

bool parse_plan(const Args& args, SwarmPlan* plan) {
  std::string error;
  std::optional<std::string> seeds = flag_value(args, "--seeds", &error);
  size_t dots = seeds ? seeds->find("..") : std::string::npos;
  if (dots == std::string::npos) return std::cerr << "--seeds A..B is required\n", false;
  auto a = parse_u64(seeds->substr(0, dots));
  auto b = parse_u64(seeds->substr(dots + 2));
  if (!a || !b || *a > *b) return std::cerr << "--seeds: bad range " << *seeds << "\n", false;
  plan->first = *a;
  plan->last = *b;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  plan->jobs = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
  if (auto jobs = flag_value(args, "--jobs", &error)) {
    auto n = parse_u64(*jobs);
    if (!n || *n == 0 || *n > 1024) return std::cerr << "--jobs: 1..1024\n", false;
    plan->jobs = static_cast<unsigned>(*n);
  }
  if (auto shard = flag_value(args, "--shard", &error)) {
    size_t slash = shard->find('/');
    auto i = slash == std::string::npos ? std::nullopt : parse_u64(shard->substr(0, slash));
    auto n = slash == std::string::npos ? std::nullopt : parse_u64(shard->substr(slash + 1));
    if (!i || !n || *n == 0 || *i >= *n) {
      return std::cerr << "--shard I/N with 0 <= I < N\n", false;
    }
    plan->shard = *i;
    plan->shards = *n;
  }
  if (auto json = flag_value(args, "--json", &error)) plan->json = *json;
  if (!error.empty()) return std::cerr << error << "\n", false;
  return true;
}

}  // namespace

int swarm_command(const std::string& binary, const Args& args) {
  if (wants_help(args)) return std::cout << kSwarmHelp, 0;
  Args files = positionals(args);
  SwarmPlan plan;
  if (files.size() != 1) return std::cerr << kSwarmHelp, 2;
  if (!parse_plan(args, &plan)) return 2;
  if (!std::filesystem::exists(files[0])) return std::cerr << files[0] << ": not found\n", 2;
  std::vector<uint64_t> seeds;
  for (uint64_t s = plan.first; s <= plan.last; ++s) {
    if ((s - plan.first) % plan.shards == plan.shard) seeds.push_back(s);
    if (s == UINT64_MAX) break;
  }
  char dir_template[] = "/tmp/replsim-swarm-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return std::perror("mkdtemp"), 2;
  const std::string dir = dir_template;
  proto::SwarmResult result;
  result.set_scenario_file(files[0]);
  result.set_seed_first(plan.first);
  result.set_seed_last(plan.last);
  result.add_shards(std::to_string(plan.shard) + "/" + std::to_string(plan.shards));
  const auto start = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO);
  std::map<pid_t, uint64_t> running;
  size_t next = 0;
  size_t failed = 0;
  while (next < seeds.size() || !running.empty()) {
    while (next < seeds.size() && running.size() < plan.jobs) {
      const uint64_t seed = seeds[next++];
      const std::string base = dir + "/seed-" + std::to_string(seed);
      running[spawn(binary, files[0], seed, base + ".json", base + ".log")] = seed;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::string base = dir + "/seed-" + std::to_string(it->second);
    proto::SeedOutcome outcome = outcome_of(it->second, status, base + ".json", base + ".log",
                                            reproduce_command(binary, files[0], it->second));
    failed += !outcome.passed();
    *result.add_seeds() = outcome;
    running.erase(it);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress(static_cast<size_t>(result.seeds_size()), seeds.size(), failed, elapsed, tty);
  }
  result.set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::filesystem::remove_all(dir);
  finish(&result);
  return report(result, plan.json);
}

int merge_command(const Args& args) {
  if (wants_help(args)) return std::cout << kMergeHelp, 0;
  Args files = positionals(args);
  if (files.empty()) return std::cerr << kMergeHelp, 2;
  std::string error;
  std::string out_path = flag_value(args, "--json", &error).value_or("");
  proto::SwarmResult merged;
  for (const std::string& file : files) {
    proto::SwarmResult part;
    auto status = google::protobuf::util::JsonStringToMessage(read_file(file), &part);
    if (!status.ok()) return std::cerr << file << ": " << status.ToString() << "\n", 2;
    if (merged.scenario_file().empty()) {
      merged.set_scenario_file(part.scenario_file());
      merged.set_seed_first(part.seed_first());
      merged.set_seed_last(part.seed_last());
    } else if (merged.scenario_file() != part.scenario_file()) {
      std::cerr << file << ": scenario " << part.scenario_file() << " differs from "
                << merged.scenario_file() << "\n";
      return 2;
    }
    for (const std::string& shard : part.shards()) merged.add_shards(shard);
    for (const proto::SeedOutcome& s : part.seeds()) *merged.add_seeds() = s;
    merged.set_wall_s(std::max(merged.wall_s(), part.wall_s()));
  }
  finish(&merged);
  return report(merged, out_path);
}

}  // namespace replsim::cli
