// Internal to sim/disk_*.cc: the state behind SimDisk. Not for use outside the disk.
//
// Model. A file is an inode (shared by the names that reach it and by open handles). Each
// inode has a `cached` image (what reads see), a `durable` image (what survives power loss)
// and the ordered list of `unsynced` changes issued since its last completed sync — writes and
// truncates; replaying all of them over `durable` gives `cached`, except for writes lost to an
// fsync failure (dropped from the list, still in the cache until power loss). The namespace
// has the same shape: `cache_ns_`, `durable_ns_` and the ordered `unsynced_ns_` creates,
// renames and removes since the last completed sync_dir.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/disk.h"
#include "sim/disk_image.h"

namespace replsim::sim {

// One unsynced change to a file's content. A write lands `bytes` at `offset` and leaves the
// file at least `extend_to` long (the intended end: a misdirected write lands elsewhere but
// the file still grows); a truncate sets the size to `offset`.
struct PendingWrite {
  uint64_t seq = 0;  // the op index (ops_issued) of the call that issued it
  bool is_truncate = false;
  uint64_t offset = 0;
  uint64_t extend_to = 0;
  std::string bytes;
};

struct Inode {
  uint64_t id = 0;
  FileImage cached;  // sparse, chunks shared copy-on-write with `durable`
  FileImage durable;
  std::deque<PendingWrite> unsynced;
  std::set<uint64_t> bad_sectors;  // latent sector errors (sector index in the file)
};
using InodePtr = std::shared_ptr<Inode>;
using Namespace = std::map<std::string, InodePtr>;

enum class NsKind { kCreate, kRename, kRemove };
struct NsOp {
  uint64_t seq = 0;
  NsKind kind = NsKind::kCreate;
  std::string path;  // create/remove: the name; rename: from
  std::string to;    // rename only
  InodePtr inode;    // create only
};

// Bounds on the unsynced lists. Past them the OS "writes back" the oldest change on its own
// (it becomes durable without a sync) — a behaviour the power-loss model already allows,
// since a power loss may keep any in-order prefix — so memory stays bounded for files that
// are written and never synced.
constexpr size_t kUnsyncedWritesMax = 1 << 14;        // per file
constexpr size_t kUnsyncedNamespaceOpsMax = 1 << 14;  // per disk

// Sectors touched by a write (0 for a truncate or an empty write).
size_t write_sectors(const PendingWrite& w);
// Applies `w` to `image`, keeping only its first `sectors_kept` sectors when given (a torn
// write: bytes up to the sector boundary, relative to the file's sector grid).
void apply_pending(FileImage* image, const PendingWrite& w,
                   std::optional<size_t> sectors_kept = std::nullopt);
// Applies a namespace change; a rename or remove of a missing name does nothing (its create
// was lost to a failed sync_dir).
void apply_ns_op(Namespace* ns, const NsOp& op);

class SimDisk::Impl {
 public:
  Impl(SimDisk& disk, EventLoop& loop, Prng prng, FaultRecorder* faults, Trace* trace);
  ~Impl();

  // Who issued an operation: the trace label and the process token for its callback.
  struct Caller {
    uint32_t node = 0;
    std::weak_ptr<void> alive;
  };

  // --- file operations (sim/disk_io.cc) ---
  // `offset` empty = append at the cached end.
  void write(const InodePtr& inode, const std::string& path, const Caller& caller,
             std::optional<uint64_t> offset, std::string data, IoCallback done);
  Status read(const InodePtr& inode, const std::string& path, uint64_t offset, size_t n,
              std::string* out);
  Status truncate(const InodePtr& inode, const std::string& path, const Caller& caller,
                  uint64_t size);
  void sync(const InodePtr& inode, const std::string& path, const Caller& caller, IoCallback done);

  // --- namespace operations (sim/disk_namespace.cc) ---
  Result<InodePtr> open(const std::string& path, bool create, const Caller& caller);
  Status remove(const std::string& path, const Caller& caller);
  Status rename(const std::string& from, const std::string& to, const Caller& caller);
  void sync_dir(const Caller& caller, IoCallback done);

  // --- power loss (sim/disk_power_loss.cc) ---
  using ChooseKeep = std::function<KeepPlan(const Inode&)>;
  void power_loss_apply(size_t namespace_ops_kept, const ChooseKeep& choose);
  KeepPlan random_keep(const Inode& inode);

  // --- shared helpers (sim/disk.cc) ---
  // Counts a mutating op; its index, or nothing when the disk is frozen at it.
  std::optional<uint64_t> admit();
  // Runs `effect` after `latency_us` (+ jitter) unless a power loss came first, records the
  // completion in the trace, then calls `done` with the effect's status if the caller lives.
  void complete_after(TimeUs latency_us, const Caller& caller, const char* kind, uint64_t digest,
                      std::function<Status()> effect, IoCallback done);
  // Appends to the unsynced lists, writing back the oldest change past the bounds.
  void add_unsynced(Inode* inode, PendingWrite w);
  void add_unsynced_ns(NsOp op);
  // Whether the next sync/sync_dir fails (fail_next_syncs or fsync_failure_probability).
  bool draw_sync_failure();
  uint64_t used_bytes() const;
  void record_fault(const char* kind, const std::string& path, std::string detail);
  void record_trace(uint32_t node, const char* kind, uint64_t digest);
  std::string target(const std::string& path) const;
  // Flips one random bit of byte `offset` at rest: cache, durable and unsynced writes.
  void flip_bit_at_rest(Inode* inode, uint64_t offset);

  SimDisk& disk_;
  EventLoop& loop_;
  Prng prng_;
  FaultRecorder* faults_;
  Trace* trace_;

  Namespace cache_ns_;
  Namespace durable_ns_;
  std::deque<NsOp> unsynced_ns_;
  uint64_t next_inode_id_ = 1;
  uint64_t ops_issued_ = 0;
  std::optional<uint64_t> freeze_at_;
  int syncs_to_fail_ = 0;
  uint64_t power_epoch_ = 0;  // completions scheduled before a power loss never run
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // events outliving the disk
};

// Digest for trace events: the path and up to two numbers (offset, length, ...).
uint64_t op_digest(const std::string& path, uint64_t a = 0, uint64_t b = 0);

}  // namespace replsim::sim
