// The checkers of docs/design.md §4. Each reads the History and the Observations of a finished run
// (or synthetic ones in tests) and returns a CheckerResult naming the property, the first
// offending event with its virtual time, and the seed.
//
// Shared model: every write/delete invocation is classified by its outcome —
//   known    ok with (epoch, wal_index): the primary committed it there;
//   failed   fail: it certainly did not happen, its value must never be seen;
//   unknown  info or no completion: it may or may not have happened.
// Values written by simulated clients are unique per invocation, so a value seen in a
// snapshot or a read names the write that produced it.
// The lineage (EpochStart records) says which (epoch, index) positions a state at (e, i)
// contains: (e, j) for j <= i, and recursively the parent epoch up to the fork index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/harness/history.h"
#include "sim/harness/observations.h"
#include "sim/harness/runner.h"

namespace replsim::harness {

// Checkers added after the first nine (runner.h holds those names; these are as stable).
inline constexpr const char* kCheckIndexState = "index_state";
inline constexpr const char* kCheckMerkleLoop = "merkle_loop";
inline constexpr const char* kCheckLeaderStability = "leader_stability";

struct CheckContext {
  uint64_t seed = 0;
  bool bounded = true;         // liveness (convergence) is checked only when bounded
  uint32_t clusters = 0;       // every cluster must take part in convergence
  TimeUs quiesce_time_us = 0;  // faults healed and writes stopped
  TimeUs convergence_bound_us = 30 * kUsPerSec;
  // Paths that are local to a cluster (besides sys/, always local). Client local writes use
  // "local/c<cluster>/..." so a path names the cluster it belongs to.
  std::vector<std::string> local_prefixes = {"local/", "sys/"};
  // Secondaries whose snapshots may be mid-reconcile: only these states are checked for prefix
  // consistency (a merkle-sync in progress is a mix of two prefixes by design).
  // ("idle"/"connecting" secondaries, e.g. a just-demoted primary, hold data of an unknown
  // position and are not checked.)
  std::vector<std::string> settled_states = {"stream-wals", "running"};
};

CheckerResult check_prefix_consistency(const History& h, const Observations& o,
                                       const CheckContext& c);
CheckerResult check_convergence(const History& h, const Observations& o, const CheckContext& c);
// Also fills `loss` (may be null) with the measured loss window across unplanned promotions.
CheckerResult check_durability(const History& h, const Observations& o, const CheckContext& c,
                               LossWindow* loss);
CheckerResult check_read_after_write(const History& h, const Observations& o,
                                     const CheckContext& c);
CheckerResult check_monotonic_positions(const History& h, const Observations& o,
                                        const CheckContext& c);
CheckerResult check_local_stays_local(const History& h, const Observations& o,
                                      const CheckContext& c);
CheckerResult check_index_consistency(const History& h, const Observations& o,
                                      const CheckContext& c);
CheckerResult check_bounds(const History& h, const Observations& o, const CheckContext& c);
CheckerResult check_security(const History& h, const Observations& o, const CheckContext& c);
// A read requiring (epoch, index) is served from a state containing it in the lineage.
CheckerResult check_index_state(const History& h, const Observations& o, const CheckContext& c);
// No secondary enters merkle-sync twice without reaching stream-wals, unless a fault or an
// operator action in between explains it.
CheckerResult check_merkle_loop(const History& h, const Observations& o, const CheckContext& c);
// The HA lock changes hands only when a fault of the cluster explains it; every cluster serves
// clients again after the liveness-phase heal (bounded regime).
CheckerResult check_leader_stability(const History& h, const Observations& o,
                                     const CheckContext& c);

// Runs the named checkers (empty = all) in the order of docs/design.md §4.
std::vector<CheckerResult> run_checkers(const std::vector<std::string>& names, const History& h,
                                        const Observations& o, const CheckContext& c,
                                        LossWindow* loss);
std::vector<std::string> all_checker_names();

// "FAILED durability at t=3.200000s (seed 42): ... first offending event: ..."
std::string describe(const CheckerResult& r);

}  // namespace replsim::harness
