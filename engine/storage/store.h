// The transactional key/value store of one cluster's storage backend.
//
// Contract:
// - One Store per storage backend (the nodes of a cluster share it). Single-threaded, driven
//   by Env callbacks. Its files are <dir>data.log, <dir>snapshot (and <dir>snapshot.tmp while
//   compacting), on env.fs().
// - commit() is atomic: a transaction's puts, deletes, WAL entry, lock-generation change and
//   remote position are one checksummed record; after any crash or power loss the store holds
//   a prefix of the submitted transactions containing every acknowledged one, never part of a
//   transaction.
// - Group commit: transactions submitted while a write+fsync is in flight are written together
//   as one append and acknowledged together after the next fsync. A callback with ok means
//   the bytes are synced. Callbacks fire in submission order, never inside commit().
// - Reads (get/list/scan) see acknowledged transactions only, from an in-memory ordered index
//   rebuilt at open.
// - Fsync failure: the store enters a failed state; every pending and later commit fails with
//   kIoError until the store is reopened. Nothing acknowledged is lost. Reads keep working.
// - Disk full: the batch's commits fail with kNoSpace, nothing of them is applied, earlier
//   commits are intact and the store stays usable (later commits may succeed once space
//   frees).
// - Fencing: the store persists the current LockGeneration. A commit whose
//   expected_generation differs from it (older: a stale active) fails with kFenced.
//   advance_lock_generation() moves it forward (a new active taking the HA lock).
// - WAL: a commit with replicate = true that touches replicated paths (per the MountTable) is
//   assigned the next WalIndex and records a WalEntry of exactly its replicated changes, in the
//   same record. commit_replicated() records a given entry (a secondary applying the primary's
//   entry, with the primary's index and epoch) and the last applied remote position
//   atomically with its key changes. Acknowledged entries are appended to wal() in index order.
//   Compaction keeps the entries wal() retains, so after open wal() holds the recent entries
//   storage has (the merkle index rolls forward from them).
// - open() is synchronous recovery: load the snapshot, replay the log, truncate a torn or
//   corrupt tail; a bad record followed by valid ones is kCorruption naming the offset.
//   What open() recovers may still be only in the page cache (written before a crash but not
//   synced, or lost for good by a failed fsync). So the store then *seals* it: it rewrites the
//   recovered log bytes in place and syncs them (and the directory) before it acknowledges
//   any commit or starts a compaction. Until ready(), a power loss may still take recovered,
//   never-acknowledged transactions away: callers must wait for on_ready() before exposing the
//   recovered state to others (serving reads, shipping wal() entries, rolling indexes forward).
// - compact() is crash-safe at every step (write snapshot.tmp, sync, rename, sync_dir, then
//   truncate the log); commits submitted meanwhile wait and are then group-committed.
// Lifetime: destroying the Store drops pending callbacks (the Env does so on crash); do not
// destroy it from inside one of its own callbacks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/env.h"
#include "engine/status.h"
#include "engine/storage/mount_table.h"
#include "engine/types.h"
#include "engine/wal/wal.h"

namespace replsim {

struct StoreRecord;  // internal (record.h)

struct StoreOptions {
  std::string dir = "store/";  // file-name prefix on env.fs()
  MountTable mounts;
  WalOptions wal;
  // Bounds of one group commit; more waits for the next fsync.
  size_t batch_txns_max = 4096;
  size_t batch_bytes_max = 8 << 20;
  // compact() is started automatically once the log passes this size (0: never). It also
  // bounds what the seal after open() rewrites.
  uint64_t auto_compact_log_bytes = 16 << 20;
};

struct Mutation {
  std::string path;
  std::string value;  // ciphertext; empty when deleted
  bool deleted = false;
  bool operator==(const Mutation&) const = default;
};

// Where a secondary stands in its primary's WAL.
struct RemotePosition {
  WalIndex index;
  Epoch epoch;
  bool operator==(const RemotePosition&) const = default;
};

struct Transaction {
  std::vector<Mutation> mutations;  // applied in order; a later one on a path wins
  // Fencing: when set, must equal the store's lock generation or the commit fails kFenced.
  std::optional<LockGeneration> expected_generation;
  // false: never produce a WAL entry (e.g. merkle-sync applying keys on a secondary).
  bool replicate = true;
  // Recorded atomically with the mutations (merkle-sync's resume point on a secondary).
  std::optional<RemotePosition> set_last_remote;
  // When set to a local path and the commit records a WAL entry: that path is put, in the
  // same record, to "<epoch>/<index>" of the entry (the position is only known at commit).
  std::string wal_position_path;

  void put(std::string path, std::string value) {
    mutations.push_back({std::move(path), std::move(value), false});
  }
  void del(std::string path) { mutations.push_back({std::move(path), {}, true}); }
};

struct CommitInfo {
  uint64_t seq = 0;                   // the store's record sequence number
  std::optional<WalIndex> wal_index;  // set when the commit recorded a WAL entry
  Epoch epoch;                        // the entry's epoch when wal_index is set
};

using CommitCallback = std::function<void(Result<CommitInfo>)>;
using StatusCallback = std::function<void(Status)>;

struct StoreStats {
  uint64_t commits_acked = 0;
  uint64_t commits_failed = 0;
  uint64_t batches = 0;  // group commits written (one fsync each)
  uint64_t fsyncs = 0;
  uint64_t compactions = 0;
  uint64_t log_bytes = 0;  // current data.log size
  uint64_t recovered_records = 0;
  uint64_t truncated_tail_bytes = 0;  // dropped at open
};

class Store {
 public:
  // Recovers the store from env.fs(). kCorruption (with file and offset) when a record in
  // the middle is bad or the snapshot is damaged; kIoError when a read fails.
  static Result<std::unique_ptr<Store>> open(Env& env, StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // See the contract above. kFenced, kNoSpace, kIoError (failed state), kInvalidArgument
  // (empty path) are the errors.
  void commit(Transaction txn, CommitCallback done);
  // Applies `entry`'s changes and records the entry and last_remote = (index, epoch), in one
  // record. Errors: kFenced when the generation mismatches; kInvalidArgument when the epoch
  // is last_remote()'s and entry.index <= last_remote()->index (a duplicate delivery), or when
  // the entry names a local path; kCorruption when the entry does not follow last_remote()
  // (another epoch, or an index past last_remote()->index + 1: a gap), and nothing is applied.
  // A store without last_remote() takes any entry; a new epoch starts with a commit whose
  // set_last_remote names it (the merkle-sync into it).
  // An entry whose index does not follow last_wal_index() restarts wal() there (see
  // WalBuffer::append), and last_wal_index() becomes entry.index.
  void commit_replicated(WalEntry entry, std::optional<LockGeneration> expected_generation,
                         CommitCallback done);
  // Persists `next` as the lock generation. kFenced when next <= the current (or pending)
  // generation. Commits submitted after this call are checked against `next`.
  void advance_lock_generation(LockGeneration next, StatusCallback done);
  // Persists the epoch stamped on WAL entries this store assigns from now on.
  void set_epoch(Epoch epoch, StatusCallback done);
  // Writes a snapshot and empties the log; see the contract. kUnavailable if one is running.
  void compact(StatusCallback done);

  std::optional<std::string> get(std::string_view path) const;
  // Paths beginning with `prefix`, sorted.
  std::vector<std::string> list(std::string_view prefix) const;
  // Calls fn(path, value) for paths beginning with `prefix` in order while it returns true.
  void scan(std::string_view prefix,
            const std::function<bool(const std::string&, const std::string&)>& fn) const;
  // The whole index (checkers compare it with a model).
  const std::map<std::string, std::string, std::less<>>& contents() const { return data_; }

  LockGeneration lock_generation() const { return generation_; }
  Epoch epoch() const { return epoch_; }
  // The index of the last acknowledged WAL entry (assigned or replicated), 0 before any.
  WalIndex last_wal_index() const { return last_wal_index_; }
  std::optional<RemotePosition> last_remote() const { return last_remote_; }
  WalBuffer& wal() { return wal_; }
  const WalBuffer& wal() const { return wal_; }
  const MountTable& mounts() const { return options_.mounts; }

  // True once the recovered state is durable (see open()). Commits submitted earlier wait.
  bool ready() const { return !sealing_ && !failed(); }
  // Calls done(ok) once ready (done(failure) if the seal's fsync failed); never inline.
  void on_ready(StatusCallback done);

  bool failed() const { return !failure_.is_ok(); }
  const Status& failure() const { return failure_; }
  const StoreStats& stats() const { return stats_; }
  // Number of submitted transactions not yet acknowledged or failed.
  size_t pending() const;

 private:
  struct Pending;
  struct Batch;
  struct Compaction;
  struct BatchState;
  Store(Env& env, StoreOptions options);
  std::string file_name(std::string_view name) const { return options_.dir + std::string(name); }
  // Runs `fn` from the Env loop later, unless the Store is gone by then.
  void defer(std::function<void()> fn);
  IoCallback guarded(std::function<void(Status)> fn);

  // Recovery (store_recovery.cc).
  Status recover();
  Status load_snapshot();
  Status replay_log();
  // Applies `record` to the index and the WAL buffer; moves its mutations' paths and values
  // out (the caller keeps only seq and the WAL position).
  void apply_record(StoreRecord& record);
  void seal(std::string recovered_log);
  void seal_done(Status status);

  // Group commit (store_commit.cc).
  void submit(Pending pending);
  void schedule_flush();
  void start_batch();
  Status build_record(Pending& pending, BatchState& state, StoreRecord* record) const;
  void on_batch_written(Status status);
  void on_batch_synced(Status status);
  void after_batch();
  void fail_store(Status status);

  // Compaction (store.cc).
  std::string encode_snapshot() const;
  void compact_begin();
  void compact_after_snapshot_synced();
  void compact_finish(Status status);

  Env& env_;
  StoreOptions options_;
  std::unique_ptr<File> log_;
  uint64_t log_end_ = 0;         // bytes of whole records in data.log
  bool log_name_synced_ = true;  // false after creating data.log until a sync_dir
  bool sealing_ = false;         // the recovered state is not yet known durable
  std::vector<StatusCallback> ready_waiters_;
  std::map<std::string, std::string, std::less<>> data_;
  LockGeneration generation_;
  Epoch epoch_;
  WalIndex last_wal_index_;
  std::optional<RemotePosition> last_remote_;
  uint64_t last_seq_ = 0;
  uint64_t snapshot_seq_ = 0;
  WalBuffer wal_;

  std::deque<Pending> queue_;
  std::unique_ptr<Batch> batch_;  // written, awaiting fsync
  TimerId flush_timer_ = kNoTimer;
  std::unique_ptr<Compaction> compaction_;
  Status failure_;
  StoreStats stats_;
  std::shared_ptr<bool> alive_;  // callbacks hold a weak_ptr: the Store may be gone
};

}  // namespace replsim
