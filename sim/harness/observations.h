// What a run records besides the client History, for the checkers (docs/design.md §4).
//
// The runner fills these from engine observation hooks (NodeObserver, Node::status and
// snapshots), the network's wire observer and the simulated disks. Checker tests fill them by
// hand to plant violations. Every record carries the virtual time it was taken at, so a
// failure can name when it happened.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/types.h"
#include "sim/harness/snapshot_data.h"

namespace replsim::harness {

// The replicated state of one cluster at one instant (taken from its active node).
struct StateSnapshot {
  TimeUs time_us = 0;
  uint32_t cluster = 0;
  uint32_t node = 0;
  bool primary = false;
  std::string state;  // replication state ("stream-wals", "running", ...)
  uint64_t epoch = 0;
  uint64_t index = 0;  // primary: last_wal; secondary: last_remote_wal
  SnapshotData data;   // replicated path → plaintext value
  std::string merkle_root;
  SnapshotPaths local_paths;  // local data (tokens, local/...) paths
  // False for a status-only sample: `data` and `local_paths` were not taken (empty).
  bool has_data = true;
};

// A primary lineage step: `epoch` begins on `primary_cluster`, which had applied the parent
// epoch up to `fork_index` (the first epoch has parent 0).
struct EpochStart {
  TimeUs time_us = 0;
  uint64_t epoch = 0;
  uint32_t primary_cluster = 0;
  uint64_t parent_epoch = 0;
  uint64_t fork_index = 0;
  bool planned = true;  // the old primary was demoted first (no acknowledged write may be lost)
};

// A WAL index committed (primary) or applied (secondary), from the node observer.
struct PositionRecord {
  TimeUs time_us = 0;
  uint32_t cluster = 0;
  uint32_t node = 0;
  bool committed = false;  // true: on_wal_committed, false: on_wal_applied
  uint64_t epoch = 0;
  uint64_t index = 0;
  // False when the node no longer held its cluster's lock as the event was delivered: a
  // paused former active node resumes and gets the completions of applies it made durable
  // before the pause. Such a late report is no position of the cluster (the lock holder
  // has moved on); monotonic_positions skips it.
  bool lock_holder = true;
};

// A node became active after a crash, restart or power loss, and recovered its storage and
// merkle index.
struct RecoveryRecord {
  TimeUs time_us = 0;        // when it finished recovering
  TimeUs fault_time_us = 0;  // the crash / power loss it recovered from
  std::string cause;         // "crash", "power_loss", "lock_takeover"
  uint32_t cluster = 0;
  uint32_t node = 0;
  bool primary = false;
  uint64_t epoch = 0;
  uint64_t index = 0;          // last_wal / last_remote_wal after recovery
  std::string index_root;      // merkle root of the recovered index
  std::string rebuilt_root;    // root rebuilt from storage ("" = not computed)
  bool storage_whole = true;   // storage holds only whole transactions
  std::string storage_detail;  // when not whole: which transaction is partial
  SnapshotData data;           // replicated state after recovery
};

// A node's replication state changed ("connecting", "merkle-diff", "merkle-sync",
// "stream-wals", "idle"), as its NodeObserver::on_state reported it.
struct StateChange {
  TimeUs time_us = 0;
  uint32_t cluster = 0;
  uint32_t node = 0;
  std::string state;
};

// A limit and the value seen against it.
struct BoundSample {
  TimeUs time_us = 0;
  uint32_t node = 0;
  std::string name;  // "wal_batch_entries", "wal_batch_bytes", "link_queue", ...
  uint64_t value = 0;
  uint64_t limit = 0;
};

// A node-to-node replication message, kept for the local-stays-local and security checks.
struct ReplicationMessage {
  TimeUs time_us = 0;
  uint32_t from = 0;
  uint32_t to = 0;
  uint32_t to_cluster = 0;
  std::string kind;                // "wal_batch", "merkle", "activation_response", ...
  bool carries_data = false;       // replicated data or keys: a non-activated cluster
                                   // must never receive one
  std::vector<std::string> paths;  // decoded paths (wal_batch)
  std::string payload;             // raw bytes (scanned for tokens / local paths)
};

// Plaintext found where only ciphertext may be (the scan happens as data is seen).
struct PlaintextSighting {
  TimeUs time_us = 0;
  std::string where;    // "wire 3->7", "disk c1 file store/data.log (durable)"
  std::string excerpt;  // the plaintext found
};

struct Observations {
  std::vector<StateSnapshot> snapshots;                  // time order
  std::vector<EpochStart> epochs;                        // time order
  std::vector<PositionRecord> positions;                 // time order
  std::vector<RecoveryRecord> recoveries;                // time order
  std::vector<BoundSample> bounds;                       // only samples worth checking (any order)
  std::vector<ReplicationMessage> replication_messages;  // time order
  std::vector<PlaintextSighting> plaintext;              // time order
  std::vector<StateChange> state_changes;                // time order
  uint64_t plaintext_scanned_bytes = 0;                  // evidence the scan ran
  // Positions a merkle-sync set ((epoch, guard) of a secondary; not per-entry applies, so not
  // in `positions`), time order.
  std::vector<PositionRecord> reconciliations;
};

// The marker every plaintext value written by a simulated client contains, so a scan for
// plaintext is a substring search (13 bytes: a chance match in ciphertext is ~2^-104/byte).
inline constexpr const char* kPlaintextMarker = "~plain~value~";

// Appends a sighting for each occurrence of kPlaintextMarker in `bytes`.
void scan_plaintext(std::string_view bytes, TimeUs time_us, const std::string& where,
                    Observations* obs);

}  // namespace replsim::harness
