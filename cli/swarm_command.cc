// `replsim swarm` and `replsim merge`: many seeds of one scenario in parallel child processes
// (fork/exec of this binary running `run ... --summary-json`), a progress line, a summary,
// and every failing seed with the command that reproduces it. --shard I/N keeps the seeds
// with (seed - A) % N == I so a job array can split one range over many machines; their
// --json outputs (or --results journals) combine with `replsim merge`. --results appends each
// seed's result as it finishes, so `--resume` continues a killed swarm (cli/swarm_results.h);
// --junit writes JUnit XML for CI systems (cli/junit.h).
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
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/junit.h"
#include "cli/run_report.h"
#include "cli/swarm_results.h"
#include "proto/summary.pb.h"
#include "reports/summary.h"

namespace replsim::cli {
namespace {

constexpr const char* kSwarmHelp =
    "usage: replsim swarm FILE --seeds A..B [--jobs N] [--shard I/N] [--json OUT]\n"
    "                          [--results FILE.jsonl [--resume]] [--junit FILE.xml]\n"
    "Runs FILE once per seed in A..B (inclusive), N child processes at a time (default: the\n"
    "number of CPUs), with a progress line (seeds done, failures, ETA). Prints a summary and\n"
    "every failing seed with its reproduction command; exits 1 when any seed failed.\n"
    "  --shard I/N      run only seeds with (seed - A) % N == I (0 <= I < N), for job arrays\n"
    "  --json OUT       write the results (proto/summary.proto SwarmResult) for `replsim merge`\n"
    "  --results FILE   append each seed's result as it finishes (JSON Lines, fsynced); an\n"
    "                   existing non-empty FILE is refused unless --resume is given\n"
    "  --resume         skip the seeds FILE already holds (same build, scenario, seeds, shard);\n"
    "                   a torn last line (the swarm died mid-write) is dropped and rerun\n"
    "  --junit FILE     write JUnit XML: one testcase per seed, failures with the checker, the\n"
    "                   first offending event and the reproduce command\n";

constexpr const char* kMergeHelp =
    "usage: replsim merge A.json|A.jsonl B.json|B.jsonl ... [--json OUT] [--junit FILE.xml]\n"
    "Combines the --json outputs (or the --results journals, *.jsonl) of swarm shards: prints\n"
    "the summary, every failing seed with its reproduction command and the seeds of the range\n"
    "that have no result. Refuses (exit 2) results of different builds, scenario file\n"
    "contents or seed ranges. Exit 1 when any seed failed, else 3 when seeds are missing.\n";

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
      if (c.passed()) continue;
      out.add_failed_checkers(c.name());
      *out.add_failures() = c;
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

// Prints the summary and the failing seeds; writes --json and --junit. Returns the exit code:
// 1 when a seed failed, 3 when seeds of the range have no result, 2 on a write error.
int report(const proto::SwarmResult& result, const std::string& json_path,
           const std::string& junit_path) {
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
  if (result.missing_seeds_size() > 0) {
    std::string gaps;
    for (const std::string& g : result.missing_seeds()) gaps += (gaps.empty() ? "" : ", ") + g;
    std::printf("MISSING seeds (no result): %s\n", gaps.c_str());
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
  if (!junit_path.empty()) {
    Status written = write_junit(junit_path, {result});
    if (!written.is_ok()) return std::cerr << written.to_string() << "\n", 2;
  }
  if (result.failed() > 0) return 1;
  return result.missing_seeds_size() > 0 ? 3 : 0;
}

struct SwarmPlan {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t shard = 0;
  uint64_t shards = 1;
  unsigned jobs = 1;
  std::string json;
  std::string junit;
  std::string results;  // the journal, or empty
  bool resume = false;
};

bool parse_range(const Args& args, SwarmPlan* plan, std::string* error) {
  std::optional<std::string> seeds = flag_value(args, "--seeds", error);
  size_t dots = seeds ? seeds->find("..") : std::string::npos;
  if (dots == std::string::npos) return std::cerr << "--seeds A..B is required\n", false;
  auto a = parse_u64(seeds->substr(0, dots));
  auto b = parse_u64(seeds->substr(dots + 2));
  if (!a || !b || *a > *b) return std::cerr << "--seeds: bad range " << *seeds << "\n", false;
  plan->first = *a;
  plan->last = *b;
  return true;
}

bool parse_plan(const Args& args, SwarmPlan* plan) {
  std::string error;
  if (!parse_range(args, plan, &error)) return false;
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
  plan->json = flag_value(args, "--json", &error).value_or("");
  plan->junit = flag_value(args, "--junit", &error).value_or("");
  plan->results = flag_value(args, "--results", &error).value_or("");
  plan->resume = std::find(args.begin(), args.end(), "--resume") != args.end();
  if (!error.empty()) return std::cerr << error << "\n", false;
  if (plan->resume && plan->results.empty()) {
    return std::cerr << "--resume needs --results FILE (the journal to continue)\n", false;
  }
  return true;
}

// Loads the journal of a resumed swarm into `result` (seeds already done) and opens it for
// appending. Refuses a journal of another build, scenario, range or shard, and an existing
// journal without --resume (so nothing is overwritten or mixed by accident).
bool open_journal(const SwarmPlan& plan, proto::SwarmResult* result, JournalWriter* writer) {
  Result<Journal> journal = read_journal(plan.results);
  if (!journal.is_ok()) return std::cerr << journal.status().message() << "\n", false;
  const bool empty = journal->entries.empty() && !journal->torn_tail;
  if (!empty && !plan.resume) {
    std::cerr << plan.results << ": already holds results; pass --resume to continue that "
              << "swarm, or remove the file to start over\n";
    return false;
  }
  for (const proto::SwarmResult& entry : journal->entries) {
    std::string why = journal_mismatch(*result, entry);
    const bool same_shard = entry.shards_size() == 1 && entry.shards(0) == result->shards(0);
    if (why.empty() && !same_shard) why = "is of another --shard (" + entry.shards(0) + ")";
    if (!why.empty()) {
      std::cerr << plan.results << ": cannot resume: the journal " << why << "\n";
      return false;
    }
    *result->add_seeds() = entry.seeds(0);
  }
  if (journal->torn_tail) {
    std::cerr << plan.results << ": dropped a torn last line (a seed that was being written "
              << "when the swarm died); it runs again\n";
  }
  Status opened = writer->open(plan.results, journal->good_bytes);
  if (!opened.is_ok()) return std::cerr << opened.to_string() << "\n", false;
  return true;
}

// The header every result of this swarm carries (scenario, range, shard, build, content).
bool make_header(const std::string& binary, const std::string& file, const SwarmPlan& plan,
                 proto::SwarmResult* result) {
  Result<std::string> build_id = sha256_file(binary);
  Result<std::string> scenario_sha256 = sha256_file(file);
  if (!build_id.is_ok() || !scenario_sha256.is_ok()) {
    const Status& s = build_id.is_ok() ? scenario_sha256.status() : build_id.status();
    return std::cerr << s.message() << "\n", false;
  }
  result->set_scenario_file(file);
  result->set_seed_first(plan.first);
  result->set_seed_last(plan.last);
  result->add_shards(std::to_string(plan.shard) + "/" + std::to_string(plan.shards));
  result->set_build_id(*build_id);
  result->set_scenario_sha256(*scenario_sha256);
  return true;
}

// Runs `todo` (jobs at a time), adding each outcome to *result and, with a journal, appending
// it there first. Stops starting seeds at the first journal error (returned) and waits for the
// running ones. `total`: the shard's seed count, for the progress line.
Status run_seeds(const std::string& binary, const std::string& file, const SwarmPlan& plan,
                 const std::vector<uint64_t>& todo, size_t total, JournalWriter* journal,
                 proto::SwarmResult* result) {
  // The children's summaries and logs; under $TMPDIR when set.
  std::error_code ec;
  std::string dir = std::filesystem::temp_directory_path(ec) / "replsim-swarm-XXXXXX";
  if (ec || mkdtemp(dir.data()) == nullptr) return Status::io_error("mkdtemp failed");
  proto::SwarmResult header = *result;  // what every journal line repeats
  header.clear_seeds();
  const auto start = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO);
  std::map<pid_t, uint64_t> running;
  size_t next = 0;
  size_t failed = 0;
  for (const proto::SeedOutcome& s : result->seeds()) failed += !s.passed();
  Status journal_status = Status::ok();
  while ((next < todo.size() && journal_status.is_ok()) || !running.empty()) {
    while (next < todo.size() && running.size() < plan.jobs && journal_status.is_ok()) {
      const uint64_t seed = todo[next++];
      const std::string base = dir + "/seed-" + std::to_string(seed);
      running[spawn(binary, file, seed, base + ".json", base + ".log")] = seed;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::string base = dir + "/seed-" + std::to_string(it->second);
    proto::SeedOutcome outcome = outcome_of(it->second, status, base + ".json", base + ".log",
                                            reproduce_command(binary, file, it->second));
    failed += !outcome.passed();
    if (!plan.results.empty() && journal_status.is_ok()) {
      proto::SwarmResult line = header;
      *line.add_seeds() = outcome;
      line.set_wall_s(outcome.wall_s());
      finish_result(&line);
      journal_status = journal->append(line);
    }
    *result->add_seeds() = std::move(outcome);
    running.erase(it);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress(static_cast<size_t>(result->seeds_size()), total, failed, elapsed, tty);
  }
  result->set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::filesystem::remove_all(dir);
  return journal_status;
}

}  // namespace

int swarm_command(const std::string& binary, const Args& args) {
  if (wants_help(args)) return std::cout << kSwarmHelp, 0;
  Args files = positionals(args, {"--resume"});
  SwarmPlan plan;
  if (files.size() != 1) return std::cerr << kSwarmHelp, 2;
  if (!parse_plan(args, &plan)) return 2;
  if (!std::filesystem::exists(files[0])) return std::cerr << files[0] << ": not found\n", 2;
  proto::SwarmResult result;
  if (!make_header(binary, files[0], plan, &result)) return 2;
  JournalWriter journal;
  if (!plan.results.empty() && !open_journal(plan, &result, &journal)) return 2;
  std::set<uint64_t> done;
  for (const proto::SeedOutcome& s : result.seeds()) done.insert(s.seed());
  std::vector<uint64_t> todo;
  const std::vector<uint64_t> seeds = shard_seeds(plan.first, plan.last, plan.shard, plan.shards);
  for (uint64_t s : seeds) {
    if (!done.count(s)) todo.push_back(s);
  }
  Status ran = run_seeds(binary, files[0], plan, todo, seeds.size(), &journal, &result);
  if (!ran.is_ok()) {
    std::cerr << ran.to_string() << " (the swarm stopped; the seeds recorded so far are kept: "
              << "fix the cause and rerun with --resume)\n";
    return 2;
  }
  finish_result(&result);
  return report(result, plan.json, plan.junit);
}

namespace {

// A --json output (one SwarmResult) or a --results journal (*.jsonl, one seed a line) as
// parts to merge. A journal's torn last line is dropped with a note.
bool load_parts(const std::string& file,
                std::vector<std::pair<std::string, proto::SwarmResult>>* parts) {
  if (file.size() > 6 && file.substr(file.size() - 6) == ".jsonl") {
    if (!std::filesystem::exists(file)) return std::cerr << file << ": not found\n", false;
    Result<Journal> journal = read_journal(file);
    if (!journal.is_ok()) return std::cerr << journal.status().message() << "\n", false;
    if (journal->torn_tail) std::cerr << file << ": ignoring a torn last line\n";
    for (proto::SwarmResult& entry : journal->entries) parts->push_back({file, entry});
    return true;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::cerr << file << ": cannot read\n", false;
  std::stringstream text;
  text << in.rdbuf();
  proto::SwarmResult part;
  auto status = google::protobuf::util::JsonStringToMessage(text.str(), &part);
  if (!status.ok()) return std::cerr << file << ": " << status.ToString() << "\n", false;
  parts->push_back({file, part});
  return true;
}

}  // namespace

int merge_command(const Args& args) {
  if (wants_help(args)) return std::cout << kMergeHelp, 0;
  Args files = positionals(args);
  if (files.empty()) return std::cerr << kMergeHelp, 2;
  std::string error;
  const std::string json_path = flag_value(args, "--json", &error).value_or("");
  const std::string junit_path = flag_value(args, "--junit", &error).value_or("");
  if (!error.empty()) return std::cerr << error << "\n", 2;
  std::vector<std::pair<std::string, proto::SwarmResult>> parts;
  for (const std::string& file : files) {
    if (!load_parts(file, &parts)) return 2;
  }
  if (parts.empty()) return std::cerr << "merge: the inputs hold no results\n", 2;
  Result<proto::SwarmResult> merged = merge_results(parts);
  if (!merged.is_ok()) return std::cerr << "merge: " << merged.status().message() << "\n", 2;
  return report(*merged, json_path, junit_path);
}

}  // namespace replsim::cli
