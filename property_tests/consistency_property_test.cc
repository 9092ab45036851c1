// Properties of docs/design.md §4.1, 4.3, 4.4 and 4.6 over generated scenarios: prefix consistency
// (both regimes), durability with the loss window, read-after-write and monotonic positions,
// index consistency after recovery.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "property_tests/property_support.h"

namespace replsim::props {
namespace {

using harness::FaultKind;
using harness::FaultRegime;

RC_GTEST_PROP(Consistency, EveryClusterStateIsAPrefixOfThePrimaryLineage, ()) {
  const bool unbounded = *rc::gen::arbitrary<bool>();
  GenOptions o;
  o.regime = unbounded ? FaultRegime::kUnbounded : FaultRegime::kBounded;
  auto config = *gen_scenario(o);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckPrefixConsistency}, "prefix_consistency");
}

RC_GTEST_PROP(Consistency, AcknowledgedWritesSurviveCrashesPowerLossAndPlannedFailover, ()) {
  GenOptions o;
  o.kinds = {FaultKind::kCrash, FaultKind::kPowerLoss, FaultKind::kPause, FaultKind::kSplitClusters,
             FaultKind::kClockJump};
  auto config = *gen_scenario(o);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckDurability}, "durability");
}

RC_GTEST_PROP(Consistency, SecondariesReadTheirWritesAndNeverGoBack, ()) {
  GenOptions o;
  o.kinds = {FaultKind::kLinkDegrade, FaultKind::kPartition, FaultKind::kFlappingLink,
             FaultKind::kClockDrift, FaultKind::kCrash};
  auto config = *gen_scenario(o);
  config.workload.placement = harness::ClientPlacement::kSecondariesOnly;
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(
      config, seed,
      {harness::kCheckReadAfterWrite, harness::kCheckMonotonicPositions, harness::kCheckIndexState},
      "read_after_write");
}

RC_GTEST_PROP(Consistency, RecoveredIndexAndStorageAreWhole, ()) {
  GenOptions o;
  o.kinds = {FaultKind::kCrash, FaultKind::kPowerLoss, FaultKind::kDiskFull};
  auto config = *gen_scenario(o);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  run_and_check(config, seed, {harness::kCheckIndexConsistency}, "index_consistency");
}

}  // namespace
}  // namespace replsim::props
