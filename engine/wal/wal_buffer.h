// The replication WAL buffer: the recent entries a primary can ship, bounded and GC'd.
//
// Contract:
// - Entries are appended in strictly increasing index order, only once durable (the Store
//   appends at acknowledgement). An append whose index is not last + 1 starts a new run: the
//   earlier entries are dropped (they no longer connect; a reader before the gap is "too old").
// - Retention: at most `buffer_entries_max` entries, oldest GC'd first. A *guard* (a
//   reconciling secondary pinning the index it will resume streaming from) holds entries from
//   its index even past that bound, but never past the hard bound
//   buffer_entries_max + guard_entries_extra_max; reaching it breaks (drops) the guard.
//   Guards are bounded in count (guards_max) and time (guard_ttl_us, then they expire).
//   Invariant after every call: size() <= retained_entries_max().
// - Reading from index i: i < first_index() is kTooOld (the reader must reconcile);
//   i == last_index() + 1 is an empty batch (caught up); i > last_index() + 1 is
//   kInvalidArgument (the reader is ahead of this WAL, e.g. across a promotion).
// - Batches are bounded by batch_entries_max and batch_bytes_max (encoded bytes); a single
//   entry larger than batch_bytes_max is shipped alone so a reader always makes progress.
// Time is passed in (now_us from the owner's Env) so this class has no Env of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"
#include "engine/wal/wal_entry.h"

namespace replsim {

struct WalOptions {
  size_t buffer_entries_max = 16384;
  size_t batch_entries_max = 63;
  size_t batch_bytes_max = 128 * 1024;
  size_t guards_max = 8;
  TimeUs guard_ttl_us = 60 * kUsPerSec;
  size_t guard_entries_extra_max = 16384;
};

struct WalBatch {
  std::vector<WalEntry> entries;  // consecutive indices starting at the requested one
  size_t bytes = 0;               // sum of encoded bytes
  WalIndex next;                  // where the next read starts
};

using WalGuardId = uint64_t;

struct WalStats {
  uint64_t appended = 0;
  uint64_t gc_entries = 0;      // dropped by the bound
  uint64_t gap_resets = 0;      // appends that started a new run
  uint64_t guards_expired = 0;  // by time
  uint64_t guards_broken = 0;   // by the hard bound
};

class WalBuffer {
 public:
  explicit WalBuffer(WalOptions options = {});

  // REQUIRES: entry.index > last_index().
  void append(WalEntry entry, TimeUs now_us);
  // Drops every entry and guard and sets last_index() to `last`: the next append continuing
  // without a gap is last + 1 (the Store calls it at open before reloading its entries).
  void reset(WalIndex last);

  // Index of the oldest retained entry; last_index() + 1 when empty.
  WalIndex first_index() const;
  // Index of the newest entry ever appended to the current run (0 before any).
  WalIndex last_index() const { return last_index_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t retained_entries_max() const;

  // Up to the batch bounds from `from`. See the contract above for kTooOld/kInvalidArgument.
  Result<WalBatch> read_batch(WalIndex from) const;
  // The retained entry at `index`, or nullptr.
  const WalEntry* find(WalIndex index) const;
  // Every retained entry in order (for snapshotting into storage and index roll-forward).
  const std::deque<WalEntry>& entries() const { return entries_; }

  // Pins `from` (first_index() <= from <= last_index() + 1) until release or expiry.
  // kTooOld when `from` is already gone; kUnavailable when guards_max guards are live.
  Result<WalGuardId> add_guard(WalIndex from, TimeUs now_us);
  void release_guard(WalGuardId id);
  // Drops guards older than guard_ttl_us, then GCs. Called by append; call it from a timer
  // too if appends are rare.
  void expire_guards(TimeUs now_us);
  size_t guards() const { return guards_.size(); }
  bool guard_live(WalGuardId id) const { return guards_.count(id) != 0; }

  const WalOptions& options() const { return options_; }
  const WalStats& stats() const { return stats_; }

 private:
  struct Guard {
    WalIndex from;
    TimeUs expires_us;
  };
  void gc();

  WalOptions options_;
  std::deque<WalEntry> entries_;
  std::deque<size_t> entry_bytes_;
  WalIndex last_index_;
  std::map<WalGuardId, Guard> guards_;
  WalGuardId next_guard_id_ = 1;
  WalStats stats_;
};

// Reads a WalBuffer forward from a position. Holds a reference: the buffer must outlive it.
class WalCursor {
 public:
  WalCursor(const WalBuffer& buffer, WalIndex next) : buffer_(buffer), next_(next) {}
  // The next batch (possibly empty when caught up); advances on success.
  Result<WalBatch> next_batch();
  WalIndex position() const { return next_; }

 private:
  const WalBuffer& buffer_;
  WalIndex next_;
};

}  // namespace replsim
