// Properties of docs/design.md §4.5, 4.7 and 4.8 over generated scenarios: local data stays local,
// bounded quantities stay bounded, no plaintext at rest or on the wire and nothing replicated
// without activation.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "property_tests/property_support.h"

namespace replsim::props {
namespace {

using harness::FaultRegime;

RC_GTEST_PROP(Isolation, TokensAndLocalPathsStayInTheirCluster, ()) {
  GenOptions o;
  o.logins = true;
  auto config = *gen_scenario(o);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckLocalStaysLocal}, "local_stays_local");
}

RC_GTEST_PROP(Isolation, BatchesAndQueuesStayWithinTheirLimits, ()) {
  auto config = *gen_scenario(GenOptions{});
  config.workload.mode = harness::LoadMode::kOpenLoop;
  config.workload.open_loop_ops_per_sec = *rc::gen::inRange(100, 2000);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckBounds}, "bounds");
}

RC_GTEST_PROP(Isolation, NoPlaintextOnDiskOrWireAndNoDataWithoutActivation, ()) {
  GenOptions o;
  o.regime = FaultRegime::kUnbounded;
  o.rogue = true;  // a rogue cluster tries forged, replayed, expired and re-bound tokens
  auto config = *gen_scenario(o);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckSecurity}, "security");
}

}  // namespace
}  // namespace replsim::props
