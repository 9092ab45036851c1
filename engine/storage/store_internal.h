// Internal: the Store's private structures shared by store*.cc.
#pragma once

#include <string>
#include <vector>

#include "engine/storage/record.h"
#include "engine/storage/store.h"

namespace replsim {

inline constexpr std::string_view kLogName = "data.log";
inline constexpr std::string_view kSnapshotName = "snapshot";
inline constexpr std::string_view kSnapshotTmpName = "snapshot.tmp";

struct Store::Pending {
  Transaction txn;
  std::optional<WalEntry> remote;  // commit_replicated
  std::optional<LockGeneration> new_generation;
  std::optional<Epoch> new_epoch;
  CommitCallback done;
};

// The durable state a batch is built on, advanced record by record while building it.
struct Store::BatchState {
  uint64_t seq;
  LockGeneration generation;
  Epoch epoch;
  WalIndex wal_index;
  std::optional<RemotePosition> last_remote;
};

struct Store::Batch {
  struct Item {
    Pending pending;
    Status status;       // not ok: refused while building (fenced, duplicate)
    StoreRecord record;  // valid when status is ok
  };
  std::vector<Item> items;
  uint64_t bytes = 0;
};

struct Store::Compaction {
  StatusCallback done;
  bool started = false;
  std::unique_ptr<File> tmp;
  uint64_t seq = 0;
};

}  // namespace replsim
