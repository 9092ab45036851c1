// BM_StandardScenario: simulator speed on the standard scenario (scenarios/multi_dc.textproto,
// seed 1), docs/design.md §6 goal >= 100x real time on one core.
// Counters: x_real_time = virtual seconds / wall seconds, events_per_sec = event-loop events per
// wall second; virtual-time figures of the run: lag_p50_ms, lag_p99_ms, writes, reads.
#include <benchmark/benchmark.h>

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

}  // namespace
