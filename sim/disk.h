// The simulated disk: one per simulated host (a cluster's shared storage is one SimDisk).
//
// Fault model (docs/design.md §3):
// - Writes enter the OS page cache when issued: read() and size() see them at once. Their
//   callback fires after the write latency.
// - A *process crash* keeps everything written (the OS cache survives): only the crashed
//   process's pending callbacks are dropped (its attach() token expired).
// - A *power loss* keeps, per file, everything synced plus an in-order prefix of the later
//   writes, the last of which may be torn at 512-byte sector granularity. Namespace changes
//   (create, rename, remove) since the last sync_dir() are kept as an in-order prefix too.
// - fsync latency; fsync failure: the writes that were not durable are lost for good (a later
//   sync does not make them durable; a power loss drops them).
// - Latent sector errors (read returns kIoError) and bit rot (read returns flipped bits) on
//   read; misdirected writes (the data lands at another sector-aligned offset of the file).
// - Disk full: a write, append or create that would pass capacity fails with kNoSpace and
//   changes nothing.
// - Every injected fault goes to the FaultRecorder; every completed operation to the Trace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/env.h"
#include "sim/event_loop.h"
#include "sim/prng.h"
#include "sim/trace.h"

namespace replsim::sim {

constexpr size_t kSectorBytes = 512;

struct DiskOptions {
  TimeUs write_latency_us = 10;          // per write/append, until its callback
  TimeUs fsync_latency_us = 1000;        // per sync/sync_dir
  TimeUs latency_jitter_us = 0;          // uniform extra [0, jitter] per op
  uint64_t capacity_bytes = UINT64_MAX;  // sum of file sizes
  // Random fault rates (per operation); all zero by default.
  double fsync_failure_probability = 0.0;
  double read_sector_error_probability = 0.0;  // latent sector error: read → kIoError
  double bit_rot_probability = 0.0;            // read returns one flipped bit
  double misdirected_write_probability = 0.0;
};

// What a power loss keeps of one file's unsynced writes (for exhaustive enumeration).
struct KeepPlan {
  size_t writes_kept = 0;           // an in-order prefix of the unsynced writes
  size_t torn_sectors_of_next = 0;  // sectors of the next write that also land (0 = none)
};

class SimDisk {
 public:
  SimDisk(EventLoop& loop, Prng prng, std::string name, DiskOptions options,
          FaultRecorder* faults = nullptr, Trace* trace = nullptr);
  ~SimDisk();
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  const std::string& name() const { return name_; }
  DiskOptions& options() { return options_; }

  // A FileSystem for one process incarnation. I/O callbacks issued through it fire only
  // while `process_alive` has not expired (a crashed process hears nothing back), but the
  // data it wrote stays in the page cache. `node` labels trace events.
  std::unique_ptr<FileSystem> attach(std::weak_ptr<void> process_alive, uint32_t node = 0);

  // --- faults ---
  // Power loss with random choices from this disk's PRNG (torn last write allowed).
  void power_loss();
  // Power loss keeping exactly `plan` per file (files not named keep no unsynced write).
  // Files are named as the page cache names them now (file_names()); REQUIRES: each plan
  // fits unsynced_writes_sectors(): writes_kept <= count, torn_sectors_of_next <= sectors of
  // the next one (0 when there is none). A power loss also thaws a frozen disk.
  void power_loss_with(const std::map<std::string, KeepPlan>& plan);
  // As above, also keeping the first `namespace_ops_kept` unsynced namespace changes
  // (REQUIRES: <= unsynced_namespace_ops()). The overload above keeps none.
  void power_loss_with(const std::map<std::string, KeepPlan>& plan, size_t namespace_ops_kept);
  // Creates, renames and removes issued since the last completed sync_dir (what
  // power_loss_with can keep a prefix of).
  size_t unsynced_namespace_ops() const;
  // Number of unsynced writes per file (what power_loss_with can choose from), and the size
  // in sectors of each of them. A truncate is an unsynced write of 0 sectors (never torn);
  // an empty write is not recorded. Writes lost to a failed sync are not listed.
  std::map<std::string, std::vector<size_t>> unsynced_writes_sectors() const;
  // The next `count` sync/sync_dir calls fail with kIoError.
  void fail_next_syncs(int count);
  // The sector holding `offset` of `path` reads as kIoError until rewritten.
  void inject_sector_error(const std::string& path, uint64_t offset);
  // Flips one bit of the durable and cached content at `offset` (bit rot at rest).
  void inject_bit_rot(const std::string& path, uint64_t offset);
  void set_capacity(uint64_t capacity_bytes) { options_.capacity_bytes = capacity_bytes; }

  // Crash-point enumeration: operations with index >= n (0-based, counting every write,
  // append, sync, sync_dir, truncate, rename, remove and create) are silently not applied and
  // their callbacks never fire — the machine stopped there. Call power_loss() or thaw() after.
  void freeze_after_ops(uint64_t n);
  void thaw();
  uint64_t ops_issued() const;

  // --- inspection (checkers, tests) ---
  std::vector<std::string> file_names() const;                  // as the page cache sees them
  std::string cached_contents(const std::string& path) const;   // what a read sees
  std::string durable_contents(const std::string& path) const;  // what survives power loss
  std::vector<std::string> durable_file_names() const;  // names as the durable image has them
  // Every byte image the disk holds for every file reachable by a cached or durable name:
  // cached content, durable content and each unsynced write (for "no plaintext" scans).
  void visit_stored_bytes(
      const std::function<void(const std::string& path, const std::string& bytes)>& fn) const;
  // visit_stored_bytes without the holes: each image as its runs of stored bytes, `kind`
  // "cache", "durable" or "unsynced". Holes read as zeros, so a search for a pattern with no
  // zero byte finds the same matches as over visit_stored_bytes, at the cost of the bytes
  // stored rather than the file sizes.
  void visit_stored_runs(const std::function<void(const std::string& path, const char* kind,
                                                  std::string_view bytes)>& fn) const;
  uint64_t used_bytes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  DiskOptions options_;
  friend class SimFile;
  friend class SimFileSystem;
};

}  // namespace replsim::sim
