// BM_StandardScenario: simulator speed on the standard scenario (scenarios/multi_dc.textproto,
// seed 1), docs/design.md §6 goal >= 100x real time on one core.
// Counters: x_real_time = virtual seconds / wall seconds, events_per_sec = event-loop events per
// wall second; virtual-time figures of the run: lag_p50_ms, lag_p99_ms, writes, reads.
//
// BM_StandardScenarioLength/<virtual s>: the standard scenario with its safety phase stretched
// so the run lasts about that long (110 = as written, 1000), run in a child process so that
// peak_rss_mb (the child's maxrss) is that run's alone; also cpu_s and cpu_s_per_virtual_s
// (the child's user + system time, from wait4).
// BM_ScenarioLibrary: one seed (the file's own) of every scenario under scenarios/, every
// checker on; seeds_per_cpu_hour = scenarios run / CPU hours of this process.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/scenario_config.h"
#include "reports/report_data.h"
#include "scenarios/scenario_file.h"

namespace {

void BM_StandardScenario(benchmark::State& state) {
  const std::string path = std::string(REPLSIM_SOURCE_DIR) + "/scenarios/multi_dc.textproto";
  replsim::Result<replsim::proto::Scenario> scenario = replsim::scenarios::load_scenario(path);
  if (!scenario.is_ok()) {
    state.SkipWithError(scenario.status().message().c_str());
    return;
  }
  const replsim::cli::MappedScenario mapped = replsim::cli::map_scenario(*scenario);
  double virtual_s = 0;
  double events = 0;
  std::vector<double> lag_ms;
  replsim::harness::RunResult last;
  for (auto _ : state) {
    last = replsim::harness::run_scenario(mapped.config, 1, nullptr);
    virtual_s += static_cast<double>(last.simulated_time_us) / 1e6;
    events += static_cast<double>(last.events);
  }
  for (const replsim::harness::LagSample& s : last.lag) {
    lag_ms.push_back(static_cast<double>(s.lag_us) / 1000.0);
  }
  if (!last.error.empty()) state.SkipWithError(last.error.c_str());
  state.counters["x_real_time"] = benchmark::Counter(virtual_s, benchmark::Counter::kIsRate);
  state.counters["events_per_sec"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["lag_p50_ms"] = replsim::reports::quantile(lag_ms, 0.50);
  state.counters["lag_p99_ms"] = replsim::reports::quantile(lag_ms, 0.99);
  state.counters["writes"] = static_cast<double>(last.writes);
  state.counters["reads"] = static_cast<double>(last.reads);
  state.counters["passed"] = last.passed() ? 1 : 0;
}
BENCHMARK(BM_StandardScenario)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

double cpu_s(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// What a child run reports back through its pipe.
struct ChildRun {
  double virtual_s = 0;
  int passed = 0;
};

void BM_StandardScenarioLength(benchmark::State& state) {
  const std::string path = std::string(REPLSIM_SOURCE_DIR) + "/scenarios/multi_dc.textproto";
  replsim::Result<replsim::proto::Scenario> scenario = replsim::scenarios::load_scenario(path);
  if (!scenario.is_ok()) {
    state.SkipWithError(scenario.status().message().c_str());
    return;
  }
  replsim::cli::MappedScenario mapped = replsim::cli::map_scenario(*scenario);
  // The standard scenario lasts ~110 virtual s with a 100 s safety phase: stretch the safety
  // phase by the difference.
  const replsim::TimeUs extra_us = (state.range(0) - 110) * replsim::kUsPerSec;
  mapped.config.phases.safety_duration_us += std::max<replsim::TimeUs>(0, extra_us);
  ChildRun run;
  rusage usage{};
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      return;
    }
    const pid_t pid = fork();
    if (pid == 0) {  // the child: one run, its figures to the pipe, no destructors
      close(fds[0]);
      replsim::harness::RunResult r = replsim::harness::run_scenario(mapped.config, 1, nullptr);
      ChildRun out{static_cast<double>(r.simulated_time_us) / 1e6, r.passed() ? 1 : 0};
      const bool written = write(fds[1], &out, sizeof(out)) == sizeof(out);
      _exit(written ? 0 : 1);
    }
    close(fds[1]);
    const bool read_ok = pid > 0 && read(fds[0], &run, sizeof(run)) == sizeof(run);
    close(fds[0]);
    int status = 0;
    if (pid > 0) wait4(pid, &status, 0, &usage);
    if (!read_ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("the child run failed");
      return;
    }
  }
  state.counters["virtual_s"] = run.virtual_s;
  state.counters["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  state.counters["cpu_s"] = cpu_s(usage);
  state.counters["cpu_s_per_virtual_s"] = cpu_s(usage) / run.virtual_s;
  state.counters["passed"] = run.passed;
}
BENCHMARK(BM_StandardScenarioLength)
    ->Arg(110)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

void BM_ScenarioLibrary(benchmark::State& state) {
  const std::vector<std::string> files =
      replsim::scenarios::list_scenario_files(std::string(REPLSIM_SOURCE_DIR) + "/scenarios");
  std::vector<replsim::proto::Scenario> scenarios;
  for (const std::string& f : files) {
    replsim::Result<replsim::proto::Scenario> s = replsim::scenarios::load_scenario(f);
    if (!s.is_ok()) {
      state.SkipWithError(s.status().message().c_str());
      return;
    }
    scenarios.push_back(*s);
  }
  double runs = 0;
  double passed = 0;
  double cpu = 0;
  for (auto _ : state) {
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    for (const replsim::proto::Scenario& s : scenarios) {
      const replsim::cli::MappedScenario mapped = replsim::cli::map_scenario(s);
      const replsim::harness::RunResult r =
          replsim::harness::run_scenario(mapped.config, s.seed(), nullptr);
      runs += 1;
      passed += r.passed() ? 1 : 0;
    }
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    cpu += cpu_s(after) - cpu_s(before);
  }
  state.counters["scenarios"] = static_cast<double>(scenarios.size());
  state.counters["passed"] = passed;
  state.counters["cpu_s"] = cpu;
  state.counters["seeds_per_cpu_hour"] = cpu > 0 ? runs / (cpu / 3600.0) : 0;
}
BENCHMARK(BM_ScenarioLibrary)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
