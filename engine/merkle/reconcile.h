// Reconciliation: merkle-diff (two round trips) and merkle-sync (one fetch).
//
// Protocol (replica = the secondary that changes; primary = the source of truth):
//  RT1  replica → MerkleDiffRequest: its root page, slot hashes truncated to hash_bytes (4).
//       primary → MerkleDiffReply: its full root, a guard WAL index, and for each differing root
//       slot either its subpage (2^sub_bits truncated hashes), or "empty on the primary", or
//       "empty on the replica" (then no subpage is sent: the slot is fetched whole).
//  RT2  replica → MerkleBucketsRequest: the differing subpage slots (buckets) that are
//       non-empty on both sides (a bucket empty on the replica is fetched whole; one empty on
//       the primary is deleted locally without asking).
//       primary → MerkleBucketsReply: (4-byte id, truncated leaf) of every entry in them.
//  The replica now knows exactly which keys differ: ids missing on the primary are deleted
//  locally; ids missing on the replica or with another leaf are fetched.
//  SYNC replica → MerkleSyncRequest: those keys (bucket + id), whole buckets, whole slots.
//       primary → MerkleSyncReply: path + ciphertext of its keys in those scopes.
//  The replica applies the changes, then checks its root against the primary's full root.
//  A mismatch (a truncated-hash collision, or the primary moved on) means: run again; after
//  hash_bytes = 4 fails, the next attempt uses 20 (ReplicaReconcile::next_hash_bytes()).
//  The primary may keep writing meanwhile: the replica then streams WAL entries after
//  guard_index, which converges because every fetched value is at least as new as the guard.
// Large differences: the same two rounds; a new (empty) replica does no listing at all (whole
// root slots), and listing cost grows with the number of differing buckets (bench figures in
// docs/merkle.md). Functions are pure over the index and messages: no I/O, no clock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/merkle/merkle_index.h"
#include "engine/status.h"
#include "engine/types.h"
#include "proto/merkle.pb.h"

namespace replsim::merkle {

constexpr uint32_t kDefaultHashBytes = 4;

// --- primary side: stateless ---
// Fails with kInvalidArgument when the shapes differ or hash_bytes is not in 1..20.
Result<proto::MerkleDiffReply> answer_diff(MerkleIndex& primary, WalIndex guard,
                                           const proto::MerkleDiffRequest& request);
Result<proto::MerkleBucketsReply> answer_buckets(MerkleIndex& primary,
                                                 const proto::MerkleBucketsRequest& request);
// Looks up the primary's current ciphertext of a path (its storage); nullopt when absent.
using ValueLookup = std::function<std::optional<std::string>(std::string_view path)>;
Result<proto::MerkleSyncReply> answer_sync(MerkleIndex& primary,
                                           const proto::MerkleSyncRequest& request,
                                           const ValueLookup& lookup);

// --- replica side: one reconciliation attempt ---
struct ReplicaStep {
  enum class Kind {
    kDone,         // roots equal: nothing to change
    kSendBuckets,  // send `buckets`, feed the reply to on_buckets_reply()
    kSendSync,     // send `sync`, feed the reply to on_sync_reply()
    kApply,        // commit `changes` locally (storage + index), then verify()
  };
  Kind kind = Kind::kDone;
  proto::MerkleBucketsRequest buckets;
  proto::MerkleSyncRequest sync;
  std::vector<proto::KeyChange> changes;
};

struct ReconcileStats {
  uint32_t round_trips = 0;  // diff round trips (RT1, RT2) — the sync fetch is counted apart
  uint32_t sync_round_trips = 0;
  uint64_t diff_bytes = 0;  // serialized bytes both ways of RT1, RT2 and the sync request
  uint64_t sync_reply_bytes = 0;
  uint64_t keys_fetched = 0;  // values received
  uint64_t keys_deleted = 0;
};

class ReplicaReconcile {
 public:
  explicit ReplicaReconcile(uint32_t hash_bytes = kDefaultHashBytes);

  proto::MerkleDiffRequest start(MerkleIndex& replica);
  Result<ReplicaStep> on_diff_reply(MerkleIndex& replica, const proto::MerkleDiffReply& reply);
  Result<ReplicaStep> on_buckets_reply(MerkleIndex& replica,
                                       const proto::MerkleBucketsReply& reply);
  // REQUIRES: the replica index has not changed since the request was made.
  Result<ReplicaStep> on_sync_reply(MerkleIndex& replica, const proto::MerkleSyncReply& reply);

  // After the changes are applied: does the replica's root equal the primary's full root?
  bool verify(MerkleIndex& replica) const;
  // hash_bytes for the next attempt when verify() failed (20 after a truncated attempt).
  uint32_t next_hash_bytes() const { return hash_bytes_ < kHashBytes ? kHashBytes : hash_bytes_; }

  WalIndex guard_index() const { return guard_; }
  const Hash160& primary_root() const { return primary_root_; }
  const ReconcileStats& stats() const { return stats_; }

 private:
  Result<ReplicaStep> next_after_listing();

  uint32_t hash_bytes_;
  WalIndex guard_{};
  Hash160 primary_root_{};
  ReconcileStats stats_;
  std::vector<proto::KeyChange> deletes_;  // decided before the fetch
  proto::MerkleSyncRequest pending_sync_;
};

}  // namespace replsim::merkle
