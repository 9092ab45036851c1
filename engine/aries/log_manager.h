// The ARIES log of one index generation: segment files, an append buffer, group forcing.
//
// LSN = byte offset in the generation's log. Segment files are named
// <dir>/log.<gen>.<start LSN, 16 hex digits>; a record never spans two segments. Records are
// appended to memory; force() writes them and syncs (and syncs the directory after a segment
// was created). A failed sync loses nothing in memory: the next force rewrites the same bytes.
//
// Restart: a record is valid when its length, CRC and LSN field match where it lies, so bytes
// an earlier incarnation wrote at the same LSN decode as valid too. After set_end() cut the log,
// the cut (truncation, removal of segments past it) and every byte before it are made durable
// before any new record is written: otherwise a power loss could keep the new records while
// losing the cut, and a stale segment of a lost incarnation would decode right after them (a
// spliced log). Until then durable_lsn() is the log's start, so the WAL rule also holds pages
// that recovery redid from log bytes found only in the page cache.
// Internal to engine/aries.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/aries/log_record.h"
#include "engine/env.h"

namespace replsim::aries {

constexpr Lsn kFirstLsn{16};  // Lsn{} (0) means "no LSN"

class LogManager {
 public:
  LogManager(Env& env, std::string dir, uint32_t gen, uint64_t segment_bytes);
  ~LogManager();

  static std::string segment_prefix(const std::string& dir, uint32_t gen);

  // Opens the existing segments of the generation (or creates the first one at kFirstLsn).
  Status open();
  // Reads valid records from `from` on, in order, stopping at the first invalid one; returns
  // the LSN just past the last valid record (the end of the log). kCorruption when `from`
  // lies in no segment.
  Result<Lsn> scan(Lsn from, const std::function<void(const LogRecord&)>& fn);
  // Reads the record at `lsn` (undo). kCorruption when none is valid there.
  Result<LogRecord> read_at(Lsn lsn);
  // After recovery: drops everything at and after `end` (torn tail, stale segments), and
  // appends from there on. The next force first makes the cut and the log before it durable.
  Status set_end(Lsn end);

  // Appends `record` (its lsn and the prevLSN the caller chose); returns its LSN.
  Lsn append(LogRecord* record);
  // `done` after every record appended before this call (at least up to `up_to`) is durable.
  void force(Lsn up_to, IoCallback done);
  void force_all(IoCallback done) { force(Lsn(end_lsn_), std::move(done)); }

  // Removes segments that lie wholly before `keep_from` (never the last one).
  void reclaim(Lsn keep_from);

  Lsn end_lsn() const { return Lsn(end_lsn_); }
  Lsn durable_lsn() const { return Lsn(durable_lsn_); }
  uint64_t bytes_on_disk() const;
  Lsn first_lsn() const;

 private:
  struct Segment {
    uint64_t start = 0;
    uint64_t bytes = 0;  // appended (in memory or on disk)
    std::unique_ptr<File> file;
  };
  struct PendingWrite {
    size_t segment;  // index into segments_ at the time of append (stable: front removal
                     // adjusts it)
    uint64_t offset;
    std::string data;
  };
  struct Waiter {
    uint64_t up_to;
    IoCallback done;
  };
  Segment* segment_of(uint64_t lsn);
  Status roll_segment();
  void start_force();
  // The first force after set_end(): syncs every segment and the directory, then forces.
  void start_cut_barrier();
  void finish_force(Status status, uint64_t target, std::vector<PendingWrite> writes);

  Env& env_;
  std::string dir_;
  uint32_t gen_;
  uint64_t segment_bytes_;
  std::deque<Segment> segments_;
  size_t segments_removed_ = 0;  // so PendingWrite::segment stays meaningful
  std::vector<PendingWrite> pending_;
  std::vector<Waiter> waiters_;
  bool forcing_ = false;
  bool dir_dirty_ = false;
  bool cut_unsynced_ = false;  // set_end() cut the log; not yet durable
  uint64_t cut_lsn_ = 0;       // where set_end() cut it
  // Internally LSNs are the byte offsets they stand for (segment arithmetic).
  uint64_t end_lsn_ = kFirstLsn.value;
  uint64_t durable_lsn_ = kFirstLsn.value;
  std::shared_ptr<int> alive_;
};

}  // namespace replsim::aries
