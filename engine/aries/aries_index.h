// The ARIES-managed merkle index: the durable form of merkle::MerkleIndex.
//
// Files (in env.fs(), names under options.dir):
//   <dir>/master          two 512-byte slots, written alternately: {seq, generation,
//                         checkpoint LSN, crc}; the valid slot with the highest seq wins.
//   <dir>/pages.<gen>     page_frame_bytes slots: slot b is bucket b's primary frame; a bucket
//                         whose image does not fit one frame (long paths, many entries)
//                         continues in an extent of overflow slots after the primary ones
//                         (page_frame.h has the layout). An all-zero primary is an empty page.
//   <dir>/dw.<gen>        double-write area: a flush writes its frames here as one checksummed
//                         batch and syncs before writing them in place, so a torn in-place
//                         write is repaired (after the batch is durable, extent_allocator.h).
//   <dir>/log.<gen>.<lsn> log segments; LSN = byte offset in the generation's log.
// Log records (CRC32C each): update (txn, prevLSN, page, position, path, before/after leaf),
// CLR (… undoNextLSN), commit (txn, WAL index), end, begin/end checkpoint (dirty page table,
// transaction table, applied WAL index).
//
// Normal operation: apply() is one transaction = one replication WAL entry: update records,
// then a commit record, all in the log buffer; the in-memory tree changes at once. No-force: a
// commit does not wait for the log. Steal: a background flush (flush_fraction of the dirty pages
// every flush_interval_us) writes dirty pages whatever their transactions' state, after forcing
// the log up to their pageLSN (the WAL rule, REPLSIM_ASSERTed at the page write). Fuzzy
// checkpoints every checkpoint_log_bytes of log; the master record moves when the end record is
// durable, and log segments wholly behind min(recLSN, checkpoint) are removed.
//
// open(): analysis from the master's checkpoint, redo from the minimum recLSN (repeating
// history, pageLSN decides), undo of losers writing CLRs (undoNextLSN makes a crash during undo
// resume, never undo twice); then roll forward from the IndexSource past the recovered applied
// WAL index, or — when those entries are gone, or a page/log check failed — rebuild from the
// source into a new generation (counted in RecoveryStats::rebuilt). Pages not touched by
// recovery are loaded on first access (their hash is read from the frame header at open).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/aries/index_source.h"
#include "engine/env.h"
#include "engine/merkle/merkle_index.h"
#include "engine/status.h"
#include "engine/types.h"
#include "proto/common.pb.h"

namespace replsim::aries {

struct AriesOptions {
  std::string dir = "merkle";
  merkle::MerkleShape shape;
  uint32_t page_frame_bytes = 4096;  // slot size; >= kFrameBytesMin (256). Any bucket fits:
                                     // a larger image spans overflow slots
  TimeUs flush_interval_us = 200 * kUsPerMs;
  double flush_fraction = 0.02;  // of the dirty pages, per interval (at least 1 page)
  uint32_t flush_batch_pages_max = 4096;
  uint64_t checkpoint_log_bytes = 1ull << 20;  // log growth that triggers a checkpoint
  uint64_t log_segment_bytes = 1ull << 20;
  bool background = true;      // run the flush/checkpoint timers (tests may drive them by hand)
  bool force_rebuild = false;  // open(): rebuild from the source whatever the files say (after
                               // health() reported corruption)
};

struct RecoveryStats {
  bool fresh = false;    // no master record: a new index
  bool rebuilt = false;  // rebuilt from the source (WAL gone, or corruption found)
  std::string rebuild_reason;
  uint64_t log_records_analyzed = 0;
  uint64_t records_redone = 0;
  uint64_t records_undone = 0;  // CLRs written
  uint64_t losers = 0;
  uint64_t pages_repaired = 0;  // torn in-place pages restored from the double-write area
  uint64_t overflow_pages = 0;  // pages found at open whose image spans overflow frames
  uint64_t wal_entries_rolled_forward = 0;
  // The state ARIES restart reached before rolling forward: exactly the transactions whose
  // commit record was durable (losers undone). Not set by a rebuild.
  WalIndex recovered_index{};
  merkle::Hash160 recovered_root{};
  Lsn checkpoint_lsn{};
  Lsn redo_lsn{};
  Lsn end_of_log{};
};

class AriesIndex {
 public:
  // Opens the index in `env`, recovers it and brings it up to `source`. Reads are synchronous;
  // the writes recovery issues (CLRs, a checkpoint, a rebuilt generation) complete in the
  // background: a crash before they are durable is survived by the next open().
  // `source` must outlive the call only. Errors: only I/O errors that a rebuild cannot avoid.
  static Result<std::unique_ptr<AriesIndex>> open(Env& env, AriesOptions options,
                                                  IndexSource& source);
  ~AriesIndex();
  AriesIndex(const AriesIndex&) = delete;
  AriesIndex& operator=(const AriesIndex&) = delete;

  // One transaction: applies WAL entry `index`'s replicated changes to the tree and logs them.
  // REQUIRES: index > applied_index(), and the entry is durable in storage (its commit
  // completed): the index must never be ahead of what storage can give back after a crash.
  void apply(WalIndex index, const std::vector<proto::KeyChange>& changes);

  WalIndex applied_index() const;  // last WAL entry applied (in memory)
  WalIndex durable_index() const;  // last WAL entry whose commit record is durable
  merkle::MerkleIndex& tree();     // for diff/sync; mutate only through apply()
  merkle::Hash160 root();
  const RecoveryStats& recovery_stats() const;
  // False while a rebuilt generation is not yet the one the master record names (a crash
  // now would recover the previous generation).
  bool rebuild_durable() const;
  // Ok, or the first I/O error / corruption met since open (a page that failed its checksum
  // on load, a failed page write). Not ok → the owner reopens with force_rebuild.
  const Status& health() const;

  // --- durability controls (the timers call these; tests call them directly) ---
  // Forces the log; `done` after every record appended so far is durable.
  void force_log(IoCallback done);
  // Flushes up to `pages_max` dirty pages (oldest recLSN first) under the WAL rule.
  void flush_pages(uint32_t pages_max, IoCallback done);
  // A fuzzy checkpoint; `done` after the master record points at it durably.
  void checkpoint(IoCallback done);
  uint64_t dirty_pages() const;
  uint64_t log_bytes_on_disk() const;  // sum of live segment sizes (space reclamation)

  // Test hook for the WAL-rule check: writes page `bucket`'s current image in place without
  // forcing the log first. Must trip REPLSIM_ASSERT when the log is behind its pageLSN.
  void write_page_unforced_for_test(uint32_t bucket);

 private:
  class Impl;
  explicit AriesIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace replsim::aries
