// engine/cluster/ha_lock.h — the cluster's HA lock: a lease record in the shared storage.
//
// Protocol:
// - The record lives in file "ha/lock" of the cluster FileSystem: magic, holder NodeId,
//   LockGeneration, renewal counter, CRC. Absent or unreadable → generation 0, no holder.
// - The holder rewrites it (renewals + 1) every renew_interval_us of its own clock.
// - A standby reads it every renew_interval_us; when the (generation, renewals) pair has not
//   changed for lease_us of the standby's OWN clock, the lease is considered expired and the
//   standby takes the lock: holder = self, generation + 1. Only durations on one clock are
//   compared, so clock offsets between nodes do not matter (bounded drift does not either,
//   because fencing — not timing — gives safety).
// - Safety comes from fencing (fenced_fs.h): every storage write of the holder re-reads the
//   record first and is refused unless the generation is still the holder's. Reading and
//   writing the record happen in one event-loop callback, so check-then-write is atomic.
// - A holder that reads a record with another generation has lost the lock (on_lost).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/env.h"

namespace replsim::cluster {

inline constexpr const char* kLockPath = "ha/lock";

struct LockRecord {
  NodeId holder;
  LockGeneration generation;
  uint64_t renewals = 0;
};

// The record now in the page cache of `fs` (generation 0 when absent or corrupt).
LockRecord read_lock_record(FileSystem& fs);

class HaLock {
 public:
  using Acquired = std::function<void(LockGeneration)>;
  using Lost = std::function<void()>;

  // `fs` is the raw (unfenced) cluster FileSystem; both must outlive the lock.
  HaLock(Env& env, FileSystem& fs, TimeUs renew_interval_us, TimeUs lease_us, Acquired acquired,
         Lost lost);
  ~HaLock();

  void start();
  // The generation held, or 0. Re-reads the record (a paused holder learns it lost here).
  LockGeneration held();
  // True when the record still names this node with `generation` (page-cache read).
  bool still_holds(LockGeneration generation);
  // The holder as last read (NodeId 0 when none): where standbys forward.
  NodeId holder_hint();
  // Gives the lock up: marks the record expired for others (used by tests / shutdown).
  void release();

 private:
  void tick();
  LockRecord read();
  void write_record(const LockRecord& record);

  Env& env_;
  FileSystem& fs_;
  TimeUs renew_interval_us_;
  TimeUs lease_us_;
  Acquired acquired_;
  Lost lost_;
  LockGeneration held_;
  LockRecord last_seen_;
  TimeUs last_change_us_ = 0;
  bool seen_any_ = false;
  TimerId timer_ = kNoTimer;
  std::unique_ptr<File> file_;
};

}  // namespace replsim::cluster
