// engine/replication/replica.h — one cluster's data plane, as seen by its active node.
//
// Owns the Store (opened through the fenced Env, so every file write is checked against the
// HA lock), the encryption Barrier, the merkle index over replicated entries and the
// persisted replication configuration ("sys/replication/config", a local path).
//
// Contract:
// - Everything under "sys/" and the configured local prefixes is local: never in a WAL entry,
//   never in the merkle index. The merkle index is an aries::AriesIndex (page file + ARIES log
//   under "merkle" in the cluster storage, through the fenced Env). It is updated after each
//   acknowledged commit from exactly the replicated mutations of that commit (one ARIES
//   transaction per WAL entry), so it never runs ahead of storage. At open, ARIES restart
//   recovers it and rolls it forward from the WAL entries storage retains (StoreIndexSource).
// - Changes that carry no WAL index (merkle-sync, the clear at enable-secondary) or whose
//   index does not follow the index's (a secondary switching to a new primary's lineage)
//   cannot be ARIES transactions of the WAL sequence: the index is then rebuilt from storage
//   into a new generation (counted in index_rebuilds). Both are rare (reconciliation only).
// - Every commit carries expected_generation = the lock generation this replica was opened
//   with (the Store's own fence), on top of the file-level fence.
// - The keyring is stored at "sys/keyring" (a fresh cluster generates one); install_keyring()
//   replaces it (a secondary at activation).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/aries/aries_index.h"
#include "engine/aries/index_source.h"
#include "engine/env.h"
#include "engine/merkle/merkle_index.h"
#include "engine/storage/barrier.h"
#include "engine/storage/mount_table.h"
#include "engine/storage/store.h"
#include "proto/replication.pb.h"

namespace replsim::replication {

inline constexpr std::string_view kConfigPath = "sys/replication/config";
inline constexpr std::string_view kKeyringPath = "sys/keyring";
// Present (local path) from a commit of replicated changes without a WAL entry (merkle-sync,
// the clear at enable-secondary) until the index rebuilt for it is durable: ARIES restart
// cannot roll such changes forward from the WAL, so open() rebuilds while it is there.
inline constexpr std::string_view kIndexRebuildPath = "sys/replication/index_rebuild";
// The keyring also sits in this small file of the cluster storage, so standbys can seal
// values they forward and open values forwarded back (no plaintext between nodes).
inline constexpr const char* kKeyringFile = "ha/keyring";

// The keyring in kKeyringFile, or kNotFound before an active node wrote it.
Result<Keyring> read_keyring_file(FileSystem& fs);

// The epoch of the primary lineage the cluster follows (its config epoch), also in this small
// file of the cluster storage, so a standby can stamp the writes it forwards with it
// (ForwardRequest.write_epoch). Advisory: a stale value only makes the primary refuse the
// write (outcome unknown), never commit it twice.
inline constexpr const char* kLineageFile = "ha/lineage";
// The epoch in kLineageFile, or nullopt when there is none (yet) or it is unreadable: a
// standby then knows no epoch to stamp a forwarded write with (see NodeImpl::handle_client).
std::optional<uint64_t> read_lineage_file(FileSystem& fs);
// The epoch of the primary a write entering this cluster is destined for: a primary's own
// epoch; a secondary's primary_epoch (its epoch when that is not recorded).
uint64_t forward_epoch(const proto::ReplicationConfig& config);

struct ReplicaOptions {
  std::vector<std::string> local_prefixes;  // beyond "sys/"
  WalOptions wal;
  merkle::MerkleShape merkle_shape;
  uint32_t merkle_page_frame_bytes = 4096;
  TimeUs merkle_flush_interval_us = 200 * kUsPerMs;
  double merkle_flush_fraction = 0.02;
};

struct ReplicaCounters {
  uint64_t index_rebuilds = 0;
};

class Replica {
 public:
  // Opens storage (recovery), loads or creates keyring and configuration, rebuilds the merkle
  // index. Then persists `generation` as the store's lock generation (done once it is durable).
  static void open(Env& env, ReplicaOptions options, LockGeneration generation,
                   std::function<void(Result<std::unique_ptr<Replica>>)> done);
  ~Replica();

  Store& store() { return *store_; }
  const Store& store() const { return *store_; }
  Barrier& barrier() { return *barrier_; }
  merkle::MerkleIndex& merkle() { return index_->tree(); }
  aries::AriesIndex& aries() { return *index_; }
  const MountTable& mounts() const { return store_->mounts(); }
  LockGeneration generation() const { return generation_; }
  const ReplicaCounters& counters() const { return counters_; }

  proto::ReplicationConfig& config() { return config_; }
  // Persists config() (local path). Adds it to `txn` when given instead of committing alone.
  void save_config(std::function<void(Status)> done);
  void add_config(Transaction* txn);

  // Commits a transaction (fenced); updates the merkle index on success.
  void commit(Transaction txn, CommitCallback done);
  // Secondary: applies one primary entry; updates the merkle index on success.
  void commit_replicated(WalEntry entry, CommitCallback done);
  void install_keyring(Keyring keyring, std::function<void(Status)> done);
  // Rewrites kKeyringFile from the barrier's keyring (fenced like every storage write).
  void write_keyring_file();
  // Rewrites kLineageFile when forward_epoch(config()) differs from what this replica last
  // wrote.
  // Called by add_config / save_config and at open.
  void write_lineage_file();

  // Replicated data, decrypted (checkers).
  std::map<std::string, std::string> replicated_plaintext() const;
  std::map<std::string, std::string> local_raw() const;

 private:
  Replica(Env& env, std::unique_ptr<Store> store, LockGeneration generation);
  Status open_index(bool force_rebuild);
  // After an acknowledged commit: one ARIES transaction, or a rebuild (see the contract).
  void apply_to_merkle(std::optional<WalIndex> index, const std::vector<Mutation>& mutations);
  // Removes kIndexRebuildPath once the index rebuilt for non-WAL change `seq` is durable
  // (polled; a later such change takes over).
  void watch_rebuild(uint64_t seq);
  uint64_t rebuild_seq_ = 0;

  Env& env_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Barrier> barrier_;
  ReplicaOptions options_;
  std::unique_ptr<aries::IndexSource> source_;
  std::unique_ptr<aries::AriesIndex> index_;
  proto::ReplicationConfig config_;
  LockGeneration generation_;
  std::optional<uint64_t> lineage_written_;  // epoch this replica last wrote to kLineageFile
  ReplicaCounters counters_;
  std::shared_ptr<bool> alive_;
};

}  // namespace replsim::replication
