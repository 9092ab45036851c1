// Epochs and their ancestry (docs/epochs.md).
//
// An epoch names one primary's term. Its number (messenger.h next_epoch) is unique
// ((counter << 8) | cluster: two clusters promoted at the same instant from the same parent get
// different numbers) and larger than every epoch of its own lineage (the counter goes past the
// highest the promoting cluster has seen), but numbers say nothing about epochs on other branches:
// two promotions a few ms apart give sibling epochs in either order. So every "is this state
// contained in mine?" decision walks the ancestry: the epoch, then each ancestor with the last
// index of it the lineage holds (fork_index).
#pragma once

#include <cstdint>

#include "proto/replication.pb.h"

namespace replsim::replication {

using Ancestry = google::protobuf::RepeatedPtrField<proto::EpochFork>;

// Ancestry steps kept; older ones are dropped (a position older than the oldest step kept is
// then "not known to be contained", which makes a reader wait or warn, never read wrong data).
inline constexpr int kAncestryStepsMax = 32;

// True when a state of `epoch` holding its own entries up to `held_index` (UINT64_MAX: all of
// them), with `ancestry`, contains position (e, i).
bool lineage_contains(uint64_t epoch, uint64_t held_index, const Ancestry& ancestry, uint64_t e,
                      uint64_t i);

// True when `e` is a strict ancestor of the epoch whose ancestry is `ancestry`.
bool is_ancestor(const Ancestry& ancestry, uint64_t e);

// The ancestry of an epoch forked from (`parent`, `fork_index`), `parent` having
// `parent_ancestry` (bounded by kAncestryStepsMax).
Ancestry child_ancestry(uint64_t parent, uint64_t fork_index, const Ancestry& parent_ancestry);

}  // namespace replsim::replication
