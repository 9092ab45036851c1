// The primary lineage as the harness observes it: which epoch each cluster's storage holds last,
// and, when a cluster is first seen as the primary of an epoch, where that epoch forked.
//
// Epoch numbers are not ordered in time: two clusters promoted a few ms apart from the same
// parent get sibling epochs, and the one with the lower number may start (or be sampled)
// second. So an epoch is recorded the first time a primary of it is seen, whatever the highest
// number seen so far, and its parent is the epoch the promoted cluster held when it was
// promoted (never "the highest epoch seen"): docs/epochs.md.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "sim/harness/observations.h"

namespace replsim::harness {

class EpochLog {
 public:
  // The primary of `epoch` on `cluster` committed `index` (its own WAL).
  void on_commit(uint32_t cluster, uint64_t epoch, uint64_t index);
  // A secondary applied (epoch, index), or a merkle-sync set its position to (epoch, guard).
  // Applies of the parent epoch that land after the cluster's promotion but before its first
  // commit of the new epoch (commits are FIFO) raise that epoch's fork index.
  void on_apply(uint32_t cluster, uint64_t epoch, uint64_t index, std::vector<EpochStart>* epochs);
  // The cluster's storage holds remote position (epoch, index), seen in a sample: a replicated
  // commit in flight at its promotion lands before the new epoch's first commit without an
  // apply report, so this raises the fork of the cluster's latest epoch (as on_apply does, with
  // the same conditions) and changes nothing else.
  void on_landed(uint32_t cluster, uint64_t epoch, uint64_t index, std::vector<EpochStart>* epochs);
  // A primary of `epoch` is seen on `cluster` at `time_us` (a sample or its first commit).
  // `remote_index`: the cluster's applied primary index kept across promotion (entries a
  // merkle-sync fetched are not applied one by one), 0 if unknown. Records the epoch's start
  // in `epochs` unless `epochs` has it (the first epoch is put there at setup); returns true
  // when it recorded it.
  bool on_primary(TimeUs time_us, uint32_t cluster, uint64_t epoch, uint64_t remote_index,
                  bool planned, std::vector<EpochStart>* epochs);

  // (epoch, index) the cluster's storage holds last; (0, 0) when unknown.
  std::pair<uint64_t, uint64_t> held(uint32_t cluster) const;

 private:
  void hold(uint32_t cluster, uint64_t epoch, uint64_t index);
  bool before_first_commit(uint64_t epoch, uint64_t index) const;

  std::map<uint32_t, std::pair<uint64_t, uint64_t>> held_;  // cluster → (epoch, index)
  // epoch → its first own index committed: parent entries below it are in its fork, whenever
  // they are reported.
  std::map<uint64_t, uint64_t> first_commit_;
};

}  // namespace replsim::harness
