#include "property_tests/property_support.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace replsim::harness {
void showValue(const ScenarioConfig& config, std::ostream& os) {
  os << props::to_scenario_text(config, 0);
}
}  // namespace replsim::harness

namespace replsim::props {

namespace {
struct Budget {
  uint64_t runs = 0;
  TimeUs simulated_us = 0;
  uint64_t events = 0;
  ~Budget() {
    std::fprintf(stderr, "property budget: %llu runs, %.1f simulated s, %llu events\n",
                 static_cast<unsigned long long>(runs), static_cast<double>(simulated_us) / 1e6,
                 static_cast<unsigned long long>(events));
  }
};
Budget& budget() {
  static Budget b;
  return b;
}
}  // namespace

void count_run(const harness::RunResult& r) {
  Budget& b = budget();
  ++b.runs;
  b.simulated_us += r.simulated_time_us;
  b.events += r.events;
}

bool soak() {
  const char* v = std::getenv("REPLSIM_SOAK");
  return v != nullptr && std::strcmp(v, "0") != 0 && v[0] != '\0';
}

harness::RunResult run_and_check(harness::ScenarioConfig config, uint64_t seed,
                                 const std::vector<std::string>& checkers,
                                 const std::string& property) {
  config.checkers = checkers;
  config.name = property;
  if (soak()) config.phases.safety_duration_us *= 2;
  harness::RunResult r = harness::run_scenario(config, seed, nullptr);
  count_run(r);
  if (!r.passed()) {
    // The last failing case RapidCheck evaluates is the shrunk one: its file wins.
    std::string file = write_failure_scenario(config, seed, property);
    std::ostringstream s;
    s << "property " << property << " failed, seed " << seed << "\n";
    if (!r.error.empty()) s << "run error: " << r.error << "\n";
    if (const harness::CheckerResult* f = r.first_failure()) s << harness::describe(*f) << "\n";
    s << "faults: " << config.faults.size()
      << ", operator actions: " << config.operator_actions.size() << ", simulated "
      << r.simulated_time_us / 1000 << " ms\nshrunk case written to " << file
      << "\nreproduce: " << harness::repro_command(file, seed)
      << "  (or rerun this test with the RC_PARAMS=\"reproduce=...\" line RapidCheck prints)\n";
    RC_LOG() << s.str();
    RC_FAIL(s.str());
  }
  return r;
}

}  // namespace replsim::props
