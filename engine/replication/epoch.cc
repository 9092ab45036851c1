#include "engine/replication/epoch.h"

#include "engine/assert.h"

namespace replsim::replication {

bool lineage_contains(uint64_t epoch, uint64_t held_index, const Ancestry& ancestry, uint64_t e,
                      uint64_t i) {
  if (e == epoch) return i <= held_index;
  for (const proto::EpochFork& step : ancestry) {
    if (step.epoch() == e) return i <= step.fork_index();
  }
  return false;
}

bool is_ancestor(const Ancestry& ancestry, uint64_t e) {
  for (const proto::EpochFork& step : ancestry) {
    if (step.epoch() == e) return true;
  }
  return false;
}

Ancestry child_ancestry(uint64_t parent, uint64_t fork_index, const Ancestry& parent_ancestry) {
  Ancestry out;
  if (parent == 0) return out;
  proto::EpochFork* first = out.Add();
  first->set_epoch(parent);
  first->set_fork_index(fork_index);
  for (const proto::EpochFork& step : parent_ancestry) {
    if (out.size() >= kAncestryStepsMax) break;
    REPLSIM_ASSERT(step.epoch() < parent);  // ancestors have lower numbers
    *out.Add() = step;
  }
  return out;
}

}  // namespace replsim::replication
