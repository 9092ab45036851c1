#include "property_tests/generators.h"

#include <algorithm>

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
      rc::gen::elementOf(kinds), rc::gen::inRange<TimeUs>(0, safety_us), rc::gen::inRange(0, 8),
      rc::gen::inRange(-1, 3), rc::gen::inRange(0, 8), rc::gen::inRange(-1, 3),
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
      rc::gen::inRange<TimeUs>(0, safety_us), rc::gen::inRange<uint32_t>(0, 8),
      rc::gen::inRange<uint32_t>(0, 8));
}

// An operator action with what may race it: a second action within 10 ms (on the cluster
// `offset` further on), and a fault of the acted-on cluster within 5 ms.
struct ActionGroup {
  std::vector<OperatorAction> actions;
  std::vector<FaultSpec> faults;
};

static rc::Gen<ActionGroup> gen_action_group(TimeUs safety_us, const GenOptions& o,
                                             const std::vector<FaultKind>& kinds) {
  std::vector<FaultKind> transition;  // storage and process faults the property allows
  for (FaultKind k : {FaultKind::kCrash, FaultKind::kDiskFull, FaultKind::kFsyncFailure}) {
    if (std::find(kinds.begin(), kinds.end(), k) != kinds.end()) transition.push_back(k);
  }
  if (!o.transition_faults || transition.empty()) transition = {FaultKind::kHealAll};
  const bool races = o.races;
  const bool aimed = o.transition_faults && transition.front() != FaultKind::kHealAll;
  return rc::gen::apply(
      [races, aimed](OperatorAction a, int race, OperatorActionKind second, TimeUs race_us,
                     uint32_t offset, int fault, FaultKind kind, TimeUs fault_us, int32_t count) {
        ActionGroup g;
        g.actions.push_back(a);
        if (races && race == 0) {
          OperatorAction b = a;
          b.kind = second;
          b.at_us = a.at_us + race_us;
          b.cluster = a.cluster + offset;
          // demote + update-primary: point another cluster at the one being demoted.
          b.primary_cluster = a.cluster;
          g.actions.push_back(b);
        }
        if (aimed && fault == 0) {
          FaultSpec f;
          f.at_us = a.at_us + fault_us;
          f.kind = kind;
          f.target.cluster = static_cast<int32_t>(a.cluster);
          f.target.node = -1;
          f.duration_us = 500'000;
          f.count = count;
          g.faults.push_back(f);
        }
        return g;
      },
      gen_action(safety_us), rc::gen::inRange(0, 3),
      rc::gen::element(OperatorActionKind::kPromote, OperatorActionKind::kUnplannedFailover,
                       OperatorActionKind::kUpdatePrimary, OperatorActionKind::kDemote),
      rc::gen::inRange<TimeUs>(0, 10'000), rc::gen::inRange<uint32_t>(1, 8), rc::gen::inRange(0, 3),
      rc::gen::elementOf(transition), rc::gen::inRange<TimeUs>(0, 5'000), rc::gen::inRange(1, 4));
}

// A list of at most `max` elements (shrinks by dropping elements, then each element).
template <typename T>
static rc::Gen<std::vector<T>> list_of(size_t max, rc::Gen<T> element) {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, max + 1), [element](size_t n) {
    return rc::gen::container<std::vector<T>>(n, element);
  });
}

// Swarm testing: a non-empty subset of `kinds` (all of them when swarm is off).
static rc::Gen<std::vector<FaultKind>> gen_kind_subset(std::vector<FaultKind> kinds, bool swarm) {
  if (!swarm) return rc::gen::just(kinds);
  return rc::gen::map(
      rc::gen::container<std::vector<bool>>(kinds.size(), rc::gen::arbitrary<bool>()),
      [kinds](const std::vector<bool>& on) {
        std::vector<FaultKind> subset;
        for (size_t i = 0; i < kinds.size(); ++i) {
          if (on[i]) subset.push_back(kinds[i]);
        }
        return subset.empty() ? kinds : subset;
      });
}

// The workload features swarm testing switches: bit 0 deletes, bit 1 lists, bit 2 logins and
// token uses, bit 3 hostile data (long paths of unusual bytes, binary values up to 64 KiB).
// Reads and writes are part of every workload.
static void apply_features(uint32_t features, const GenOptions& o, harness::OperationMix* mix) {
  if (!o.swarm) features = 7;
  if ((features & 1) == 0) mix->del = 0;
  if ((features & 2) == 0) mix->list = 0;
  if ((features & 4) == 0 && !o.logins) mix->login = mix->token_use = 0;
  if (o.logins) mix->login = mix->token_use = 0.2;
}

static ScenarioConfig make_config(const GenOptions& o, TimeUs safety_us, uint32_t secondaries,
                                  uint32_t clients, uint64_t keys, bool open_loop, int zipf_centi,
                                  uint32_t nodes, uint32_t features) {
  ScenarioConfig c;
  c.name = "property";
  c.regime = o.regime;
  c.topology.secondary_clusters = secondaries;
  c.topology.nodes_per_cluster = nodes;  // 1-3: standbys, lock takeover, forwarding
  c.topology.clock.enabled = true;
  c.topology.rogue_cluster = o.rogue;
  c.workload.clients = clients;
  c.workload.keys = keys;
  c.workload.zipf_exponent = zipf_centi / 100.0;
  c.workload.mode = open_loop ? harness::LoadMode::kOpenLoop : harness::LoadMode::kClosedLoop;
  c.workload.open_loop_ops_per_sec = 100;
  c.workload.think_time_us = 5'000;
  apply_features(features, o, &c.workload.mix);
  c.workload.hostile_data = o.swarm && o.hostile_data && (features & 8) != 0;
  c.phases.safety_duration_us = safety_us;
  c.phases.liveness_writes_us = 300'000;
  c.phases.convergence_bound_us = 20 * kUsPerSec;
  c.workload.request_timeout_us = 3 * kUsPerSec;
  return c;
}

rc::Gen<ScenarioConfig> gen_scenario(GenOptions o) {
  std::vector<FaultKind> all = o.kinds.empty() ? fault_kinds(o.regime) : o.kinds;
  const uint32_t sec_max = std::max<uint32_t>(1, std::min<uint32_t>(o.secondaries_max, 7));
  // Mostly 1-2 secondaries (cheap), sometimes up to 7 (8 clusters).
  auto secondaries = rc::gen::weightedOneOf<uint32_t>(
      {{12, rc::gen::inRange<uint32_t>(1, std::min<uint32_t>(2, sec_max) + 1)},
       {1, rc::gen::inRange<uint32_t>(1, sec_max + 1)}});
  return rc::gen::mapcat(
      gen_kind_subset(all, o.swarm), [o, secondaries](std::vector<FaultKind> kinds) {
        return rc::gen::mapcat(
            rc::gen::inRange<TimeUs>(1 * kUsPerSec, 3 * kUsPerSec + 1),
            [o, kinds, secondaries](TimeUs safety_us) {
              return rc::gen::apply(
                  [o, safety_us](uint32_t secondaries, uint32_t clients, uint64_t keys,
                                 bool open_loop, int zipf_centi, std::vector<FaultSpec> faults,
                                 std::vector<ActionGroup> groups, uint32_t nodes, uint32_t features,
                                 uint32_t rogue_joins, TimeUs rogue_at_us) {
                    ScenarioConfig c = make_config(o, safety_us, secondaries, clients, keys,
                                                   open_loop, zipf_centi, nodes, features);
                    c.faults = std::move(faults);
                    for (ActionGroup& g : groups) {
                      c.operator_actions.insert(c.operator_actions.end(), g.actions.begin(),
                                                g.actions.end());
                      c.faults.insert(c.faults.end(), g.faults.begin(), g.faults.end());
                    }
                    for (uint32_t i = 0; o.rogue && i < rogue_joins; ++i) {
                      harness::OperatorAction a;
                      a.kind = OperatorActionKind::kRogueJoin;
                      a.at_us = (rogue_at_us + i * safety_us / 2) % safety_us;
                      c.operator_actions.push_back(a);
                    }
                    return c;
                  },
                  secondaries, rc::gen::inRange<uint32_t>(1, 5), rc::gen::inRange<uint64_t>(2, 65),
                  rc::gen::arbitrary<bool>(), rc::gen::inRange(10, 130),
                  list_of(o.faults_max, gen_fault(kinds, safety_us)),
                  list_of(o.actions_max, gen_action_group(safety_us, o, kinds)),
                  rc::gen::inRange<uint32_t>(1, 4), rc::gen::inRange<uint32_t>(0, 16),
                  rc::gen::inRange<uint32_t>(1, 3), rc::gen::inRange<TimeUs>(0, safety_us));
            });
      });
}

}  // namespace replsim::props
