// The simulated disk: namespace operations (create, remove, rename, sync_dir).
//
// They change the page cache's namespace at once and join the ordered unsynced namespace
// list; sync_dir() moves the prefix issued before it into the durable namespace when it
// completes (or drops it for good when the sync fails). A file's data and its name are
// durable separately: a synced file whose create was never dir-synced vanishes on power loss.
#include "sim/disk_impl.h"

namespace replsim::sim {

void apply_ns_op(Namespace* ns, const NsOp& op) {
  switch (op.kind) {
    case NsKind::kCreate:
      REPLSIM_ASSERT(op.inode != nullptr);
      (*ns)[op.path] = op.inode;
      return;
    case NsKind::kRemove:
      ns->erase(op.path);
      return;
    case NsKind::kRename: {
      auto it = ns->find(op.path);
      if (it == ns->end()) return;
      InodePtr inode = it->second;
      ns->erase(it);
      (*ns)[op.to] = std::move(inode);
      return;
    }
  }
  REPLSIM_ASSERT_MSG(false, "unknown namespace op");
}

Result<InodePtr> SimDisk::Impl::open(const std::string& path, bool create, const Caller& caller) {
  auto it = cache_ns_.find(path);
  if (it != cache_ns_.end()) return it->second;
  if (!create) return Status::not_found(target(path) + ": no such file");
  const std::optional<uint64_t> seq = admit();
  auto inode = std::make_shared<Inode>();
  inode->id = next_inode_id_++;
  if (!seq) return inode;  // frozen: an orphan that no name reaches
  if (disk_.options_.capacity_bytes != UINT64_MAX &&
      used_bytes() >= disk_.options_.capacity_bytes) {
    return Status::no_space(target(path) + ": disk full creating the file");
  }
  cache_ns_[path] = inode;
  add_unsynced_ns(NsOp{*seq, NsKind::kCreate, path, {}, inode});
  record_trace(caller.node, "disk_create", op_digest(path));
  return inode;
}

Status SimDisk::Impl::remove(const std::string& path, const Caller& caller) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return Status::ok();
  auto it = cache_ns_.find(path);
  if (it == cache_ns_.end()) return Status::not_found(target(path) + ": no such file");
  cache_ns_.erase(it);
  add_unsynced_ns(NsOp{*seq, NsKind::kRemove, path, {}, nullptr});
  record_trace(caller.node, "disk_remove", op_digest(path));
  return Status::ok();
}

Status SimDisk::Impl::rename(const std::string& from, const std::string& to, const Caller& caller) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return Status::ok();
  auto it = cache_ns_.find(from);
  if (it == cache_ns_.end()) return Status::not_found(target(from) + ": no such file");
  if (from == to) return Status::ok();
  NsOp op{*seq, NsKind::kRename, from, to, nullptr};
  apply_ns_op(&cache_ns_, op);
  add_unsynced_ns(std::move(op));
  record_trace(caller.node, "disk_rename", op_digest(from + "\n" + to));
  return Status::ok();
}

void SimDisk::Impl::sync_dir(const Caller& caller, IoCallback done) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return;
  const bool fails = draw_sync_failure();
  auto effect = [this, issued = *seq, fails]() -> Status {
    size_t count = 0;
    while (!unsynced_ns_.empty() && unsynced_ns_.front().seq < issued) {
      if (!fails) apply_ns_op(&durable_ns_, unsynced_ns_.front());
      unsynced_ns_.pop_front();
      ++count;
    }
    if (!fails) return Status::ok();
    record_fault("fsync_failure", "<dir>",
                 std::to_string(count) + " unsynced namespace changes lost");
    return Status::io_error(target("<dir>") + ": directory sync failed; " + std::to_string(count) +
                            " namespace changes lost");
  };
  complete_after(disk_.options_.fsync_latency_us, caller, "disk_sync_dir", op_digest("<dir>", *seq),
                 std::move(effect), std::move(done));
}

}  // namespace replsim::sim
