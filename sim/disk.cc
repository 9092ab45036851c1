// The simulated disk: public API, file handles and shared helpers.
//
// Fault model (the contract is in sim/disk.h; the state is described in sim/disk_impl.h).
// Choices made here, beyond the header:
// - Every mutating call (write, append, truncate, sync, create, rename, remove, sync_dir) takes
//   the next op index, also when it then fails (kNotFound, kNoSpace); freeze_after_ops(n)
//   drops every op with index >= n: nothing applied, no callback, and a create returns a
//   handle to an orphan file that no name reaches. power_loss() also thaws.
// - Completions run on the EventLoop after the latency (+ uniform jitter); the device
//   completes an op whatever happens to the process (a sync still makes data durable after a
//   crash), only the callback needs the attach() token alive. A power loss cancels every
//   completion still in flight (effects and callbacks).
// - fsync failure is drawn when sync/sync_dir is issued and acts when it completes: the
//   unsynced writes (or namespace changes) issued before it are dropped for good. The page
//   cache still shows them until a power loss (as Linux does after a failed fsync).
// - A sector error is drawn per read touching the file and stays (latent) until a write or a
//   truncate covers the sector; power loss keeps it. Bit rot flips a bit at rest: in the cache,
//   in the durable image and in any unsynced write covering the byte.
// - A misdirected write lands its bytes at another sector-aligned offset of the same file
//   (never past the size the intended write gives the file); the file still grows to the
//   intended end, the intended range keeps its old bytes (zeros if new).
// - Power loss keeps names as in the recovered namespace; power_loss_with(plan) names files as
//   the page cache does now (file_names()); power_loss() draws every choice from the PRNG.
// Lifetime: the SimDisk must outlive every FileSystem and File obtained from attach().
#include "sim/disk.h"

#include <algorithm>
#include <cstring>

#include "sim/disk_impl.h"

namespace replsim::sim {

// --- handles ---

class SimFile final : public File {
 public:
  SimFile(SimDisk::Impl* impl, InodePtr inode, std::string path, SimDisk::Impl::Caller caller)
      : impl_(impl), inode_(std::move(inode)), path_(std::move(path)), caller_(caller) {}

  Status read(uint64_t offset, size_t n, std::string* out) override {
    return impl_->read(inode_, path_, offset, n, out);
  }
  void write(uint64_t offset, std::string data, IoCallback done) override {
    impl_->write(inode_, path_, caller_, offset, std::move(data), std::move(done));
  }
  void append(std::string data, IoCallback done) override {
    impl_->write(inode_, path_, caller_, std::nullopt, std::move(data), std::move(done));
  }
  void sync(IoCallback done) override { impl_->sync(inode_, path_, caller_, std::move(done)); }
  Status truncate(uint64_t size) override { return impl_->truncate(inode_, path_, caller_, size); }
  uint64_t size() const override { return inode_->cached.size(); }
  const std::string& path() const override { return path_; }

 private:
  SimDisk::Impl* impl_;
  InodePtr inode_;
  std::string path_;
  SimDisk::Impl::Caller caller_;
};

class SimFileSystem final : public FileSystem {
 public:
  SimFileSystem(SimDisk::Impl* impl, SimDisk::Impl::Caller caller)
      : impl_(impl), caller_(std::move(caller)) {}

  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override {
    Result<InodePtr> inode = impl_->open(path, create, caller_);
    if (!inode.is_ok()) return inode.status();
    return std::unique_ptr<File>(
        std::make_unique<SimFile>(impl_, std::move(inode.value()), path, caller_));
  }
  bool exists(const std::string& path) const override { return impl_->cache_ns_.count(path) > 0; }
  Status remove(const std::string& path) override { return impl_->remove(path, caller_); }
  Status rename(const std::string& from, const std::string& to) override {
    return impl_->rename(from, to, caller_);
  }
  void sync_dir(IoCallback done) override { impl_->sync_dir(caller_, std::move(done)); }
  std::vector<std::string> list(const std::string& prefix) const override {
    std::vector<std::string> names;
    for (auto it = impl_->cache_ns_.lower_bound(prefix); it != impl_->cache_ns_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      names.push_back(it->first);
    }
    return names;
  }

 private:
  SimDisk::Impl* impl_;
  SimDisk::Impl::Caller caller_;
};

// --- shared helpers ---

uint64_t op_digest(const std::string& path, uint64_t a, uint64_t b) {
  uint64_t h = fnv1a64(path);
  for (uint64_t v : {a, b}) {
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    h = fnv1a64(std::string_view(bytes, sizeof(bytes)), h);
  }
  return h;
}

SimDisk::Impl::Impl(SimDisk& disk, EventLoop& loop, Prng prng, FaultRecorder* faults, Trace* trace)
    : disk_(disk), loop_(loop), prng_(prng), faults_(faults), trace_(trace) {}

SimDisk::Impl::~Impl() { *alive_ = false; }

std::optional<uint64_t> SimDisk::Impl::admit() {
  const uint64_t index = ops_issued_++;
  if (freeze_at_ && index >= *freeze_at_) return std::nullopt;
  return index;
}

void SimDisk::Impl::complete_after(TimeUs latency_us, const Caller& caller, const char* kind,
                                   uint64_t digest, std::function<Status()> effect,
                                   IoCallback done) {
  TimeUs delay_us = latency_us;
  const TimeUs jitter_us = disk_.options_.latency_jitter_us;
  if (jitter_us > 0) delay_us += static_cast<TimeUs>(prng_.uniform(jitter_us + 1));
  std::weak_ptr<bool> disk_alive = alive_;
  const uint64_t epoch = power_epoch_;
  loop_.after(delay_us, [this, disk_alive, epoch, caller, kind, digest, effect = std::move(effect),
                         done = std::move(done)] {
    if (disk_alive.expired()) return;   // the disk is gone
    if (epoch != power_epoch_) return;  // a power loss came first
    Status status = effect ? effect() : Status::ok();
    record_trace(caller.node, kind, digest);
    if (done && !caller.alive.expired()) done(std::move(status));
  });
}

void SimDisk::Impl::add_unsynced(Inode* inode, PendingWrite w) {
  inode->unsynced.push_back(std::move(w));
  if (inode->unsynced.size() > kUnsyncedWritesMax) {
    apply_pending(&inode->durable, inode->unsynced.front());
    inode->unsynced.pop_front();
  }
}

void SimDisk::Impl::add_unsynced_ns(NsOp op) {
  unsynced_ns_.push_back(std::move(op));
  if (unsynced_ns_.size() > kUnsyncedNamespaceOpsMax) {
    apply_ns_op(&durable_ns_, unsynced_ns_.front());
    unsynced_ns_.pop_front();
  }
}

bool SimDisk::Impl::draw_sync_failure() {
  if (syncs_to_fail_ > 0) {
    --syncs_to_fail_;
    return true;
  }
  const double p = disk_.options_.fsync_failure_probability;
  return p > 0.0 && prng_.bernoulli(p);
}

uint64_t SimDisk::Impl::used_bytes() const {
  uint64_t used = 0;
  for (const auto& [name, inode] : cache_ns_) used += inode->cached.size();
  return used;
}

std::string SimDisk::Impl::target(const std::string& path) const {
  return "disk " + disk_.name_ + ":" + path;
}

void SimDisk::Impl::record_fault(const char* kind, const std::string& path, std::string detail) {
  if (faults_ != nullptr) faults_->record(loop_.now(), kind, target(path), std::move(detail));
  record_trace(0, kind, op_digest(path));
}

void SimDisk::Impl::record_trace(uint32_t node, const char* kind, uint64_t digest) {
  if (trace_ != nullptr) trace_->record(loop_.now(), node, kind, digest);
}

void SimDisk::Impl::flip_bit_at_rest(Inode* inode, uint64_t offset) {
  const char mask = static_cast<char>(1u << prng_.uniform(8));
  if (offset < inode->cached.size()) inode->cached.flip(offset, mask);
  if (offset < inode->durable.size()) inode->durable.flip(offset, mask);
  for (PendingWrite& w : inode->unsynced) {
    if (w.is_truncate) continue;
    if (offset >= w.offset && offset - w.offset < w.bytes.size())
      w.bytes[offset - w.offset] ^= mask;
  }
}

// --- SimDisk ---

SimDisk::SimDisk(EventLoop& loop, Prng prng, std::string name, DiskOptions options,
                 FaultRecorder* faults, Trace* trace)
    : name_(std::move(name)), options_(options) {
  impl_ = std::make_unique<Impl>(*this, loop, prng, faults, trace);
}

SimDisk::~SimDisk() = default;

std::unique_ptr<FileSystem> SimDisk::attach(std::weak_ptr<void> process_alive, uint32_t node) {
  return std::make_unique<SimFileSystem>(impl_.get(), Impl::Caller{node, std::move(process_alive)});
}

void SimDisk::fail_next_syncs(int count) {
  REPLSIM_ASSERT(count >= 0);
  impl_->syncs_to_fail_ += count;
}

void SimDisk::inject_sector_error(const std::string& path, uint64_t offset) {
  auto it = impl_->cache_ns_.find(path);
  REPLSIM_ASSERT_MSG(it != impl_->cache_ns_.end(), "inject_sector_error: no such file");
  it->second->bad_sectors.insert(offset / kSectorBytes);
  impl_->record_fault("sector_error", path, "offset " + std::to_string(offset));
}

void SimDisk::inject_bit_rot(const std::string& path, uint64_t offset) {
  auto it = impl_->cache_ns_.find(path);
  REPLSIM_ASSERT_MSG(it != impl_->cache_ns_.end(), "inject_bit_rot: no such file");
  impl_->flip_bit_at_rest(it->second.get(), offset);
  impl_->record_fault("bit_rot", path, "offset " + std::to_string(offset));
}

void SimDisk::freeze_after_ops(uint64_t n) { impl_->freeze_at_ = n; }
void SimDisk::thaw() { impl_->freeze_at_.reset(); }
uint64_t SimDisk::ops_issued() const { return impl_->ops_issued_; }

std::vector<std::string> SimDisk::file_names() const {
  std::vector<std::string> names;
  for (const auto& [name, inode] : impl_->cache_ns_) names.push_back(name);
  return names;
}

std::vector<std::string> SimDisk::durable_file_names() const {
  std::vector<std::string> names;
  for (const auto& [name, inode] : impl_->durable_ns_) names.push_back(name);
  return names;
}

std::string SimDisk::cached_contents(const std::string& path) const {
  auto it = impl_->cache_ns_.find(path);
  return it == impl_->cache_ns_.end() ? std::string() : it->second->cached.to_string();
}

std::string SimDisk::durable_contents(const std::string& path) const {
  auto it = impl_->durable_ns_.find(path);
  return it == impl_->durable_ns_.end() ? std::string() : it->second->durable.to_string();
}

uint64_t SimDisk::used_bytes() const { return impl_->used_bytes(); }

void SimDisk::visit_stored_bytes(
    const std::function<void(const std::string& path, const std::string& bytes)>& fn) const {
  std::set<uint64_t> seen;
  auto visit = [&](const std::string& name, const Inode& inode) {
    if (!seen.insert(inode.id).second) return;
    fn(name, inode.cached.to_string());
    fn(name, inode.durable.to_string());
    for (const PendingWrite& w : inode.unsynced) fn(name, w.bytes);
  };
  for (const Namespace* ns : {&impl_->cache_ns_, &impl_->durable_ns_}) {
    for (const auto& [name, inode] : *ns) visit(name, *inode);
  }
  // A created-then-removed file comes back if a power loss keeps only the create.
  for (const NsOp& op : impl_->unsynced_ns_) {
    if (op.inode) visit(op.path, *op.inode);
  }
}

void SimDisk::visit_stored_runs(const std::function<void(const std::string& path, const char* kind,
                                                         std::string_view bytes)>& fn) const {
  std::set<uint64_t> seen;
  auto visit = [&](const std::string& name, const Inode& inode) {
    if (!seen.insert(inode.id).second) return;
    inode.cached.visit_held([&](uint64_t, std::string_view b) { fn(name, "cache", b); });
    inode.durable.visit_held([&](uint64_t, std::string_view b) { fn(name, "durable", b); });
    for (const PendingWrite& w : inode.unsynced) fn(name, "unsynced", w.bytes);
  };
  for (const Namespace* ns : {&impl_->cache_ns_, &impl_->durable_ns_}) {
    for (const auto& [name, inode] : *ns) visit(name, *inode);
  }
  for (const NsOp& op : impl_->unsynced_ns_) {
    if (op.inode) visit(op.path, *op.inode);
  }
}

}  // namespace replsim::sim
