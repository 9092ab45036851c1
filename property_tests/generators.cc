#include "property_tests/generators.h"

namespace replsim::props {

using harness::FaultKind;
using harness::FaultRegime;
using harness::FaultSpec;
using harness::OperatorAction;
using harness::OperatorActionKind;
using harness::ScenarioConfig;

std::vector<FaultKind> fault_kinds(FaultRegime regime) {
  std::vector<FaultKind> kinds = {
      FaultKind::kPartition,     FaultKind::kPartitionOneWay, FaultKind::kIsolateNode,
      FaultKind::kSplitClusters, FaultKind::kFlappingLink,    FaultKind::kLinkDegrade,
      FaultKind::kCrash,         FaultKind::kPause,           FaultKind::kPowerLoss,
      FaultKind::kClockJump,     FaultKind::kClockDrift,      FaultKind::kDiskFull,
      FaultKind::kHealAll};
  if (regime == FaultRegime::kUnbounded) {
    kinds.insert(kinds.end(), {FaultKind::kFsyncFailure, FaultKind::kSectorError,
                               FaultKind::kBitRot, FaultKind::kMisdirectedWrite});
  }
  return kinds;
}

static rc::Gen<FaultSpec> gen_fault(std::vector<FaultKind> kinds, TimeUs safety_us) {
  return rc::gen::apply(
      [](FaultKind kind, TimeUs at_us, int32_t c, int32_t n, int32_t c2, int32_t n2,
         TimeUs duration_us, int magnitude_permille) {
        FaultSpec f;
        f.kind = kind;
        f.at_us = at_us;
        f.target = {c, n, c2, n2};
        f.duration_us = duration_us;
        f.period_us = 100'000;
        f.count = 1;
        switch (kind) {
          case FaultKind::kClockJump:
            f.magnitude = magnitude_permille * 2'000.0;
            break;
          case FaultKind::kClockDrift:
            f.magnitude = magnitude_permille * 20.0;
            break;
          case FaultKind::kLinkDegrade:
            f.magnitude = std::abs(magnitude_permille) / 3000.0;
            break;
          case FaultKind::kMisdirectedWrite:
            f.magnitude = std::abs(magnitude_permille) / 20000.0;
            break;
          default:
            break;
        }
        return f;
      },
      rc::gen::elementOf(kinds), rc::gen::inRange<TimeUs>(0, safety_us), rc::gen::inRange(0, 3),
      rc::gen::inRange(-1, 3), rc::gen::inRange(0, 3), rc::gen::inRange(-1, 3),
      rc::gen::inRange<TimeUs>(1'000, 2 * kUsPerSec), rc::gen::inRange(-1000, 1001));
}

static rc::Gen<OperatorAction> gen_action(TimeUs safety_us) {
  return rc::gen::apply(
      [](OperatorActionKind kind, TimeUs at_us, uint32_t cluster, uint32_t primary) {
        OperatorAction a;
        a.kind = kind;
        a.at_us = at_us;
        a.cluster = cluster;
        a.primary_cluster = primary;
        return a;
      },
      rc::gen::element(OperatorActionKind::kFailover, OperatorActionKind::kUnplannedFailover,
                       OperatorActionKind::kPromote, OperatorActionKind::kDemote,
                       OperatorActionKind::kUpdatePrimary, OperatorActionKind::kStatus),
      rc::gen::inRange<TimeUs>(0, safety_us), rc::gen::inRange<uint32_t>(0, 3),
      rc::gen::inRange<uint32_t>(0, 3));
}

// A list of at most `max` elements (shrinks by dropping elements, then each element).
template <typename T>
static rc::Gen<std::vector<T>> list_of(size_t max, rc::Gen<T> element) {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, max + 1), [element](size_t n) {
    return rc::gen::container<std::vector<T>>(n, element);
  });
}

rc::Gen<ScenarioConfig> gen_scenario(GenOptions o) {
  std::vector<FaultKind> kinds = o.kinds.empty() ? fault_kinds(o.regime) : o.kinds;
  return rc::gen::withSize([o, kinds](int) {
    return rc::gen::mapcat(
        rc::gen::inRange<TimeUs>(1 * kUsPerSec, 3 * kUsPerSec + 1), [o, kinds](TimeUs safety_us) {
          return rc::gen::apply(
              [o, safety_us](uint32_t secondaries, uint32_t clients, uint64_t keys, bool open_loop,
                             int zipf_centi, std::vector<FaultSpec> faults,
                             std::vector<OperatorAction> actions, uint32_t nodes) {
                ScenarioConfig c;
                c.name = "property";
                c.regime = o.regime;
                c.topology.secondary_clusters = secondaries;
                c.topology.nodes_per_cluster = nodes;  // 1-3: standbys, lock takeover, forwarding
                c.topology.clock.enabled = true;
                c.workload.clients = clients;
                c.workload.keys = keys;
                c.workload.zipf_exponent = zipf_centi / 100.0;
                c.workload.mode =
                    open_loop ? harness::LoadMode::kOpenLoop : harness::LoadMode::kClosedLoop;
                c.workload.open_loop_ops_per_sec = 100;
                c.workload.think_time_us = 5'000;
                if (o.logins) c.workload.mix.login = c.workload.mix.token_use = 0.2;
                c.faults = std::move(faults);
                c.operator_actions = std::move(actions);
                c.phases.safety_duration_us = safety_us;
                c.phases.liveness_writes_us = 300'000;
                c.phases.convergence_bound_us = 20 * kUsPerSec;
                c.workload.request_timeout_us = 3 * kUsPerSec;
                return c;
              },
              rc::gen::inRange<uint32_t>(1, 3), rc::gen::inRange<uint32_t>(1, 5),
              rc::gen::inRange<uint64_t>(2, 65), rc::gen::arbitrary<bool>(),
              rc::gen::inRange(10, 130), list_of(o.faults_max, gen_fault(kinds, safety_us)),
              list_of(o.actions_max, gen_action(safety_us)), rc::gen::inRange<uint32_t>(1, 4));
        });
  });
}

}  // namespace replsim::props
