// The simulated disk: power loss.
//
// A power loss rebuilds the disk from what the device holds: the durable namespace plus an
// in-order prefix of the unsynced namespace changes; then, for each file that name reaches,
// the durable image plus an in-order prefix of its unsynced writes and truncates, the next
// write possibly torn (only its first k sectors of the file's 512-byte sector grid land).
// The page cache becomes that image; every completion still in flight is cancelled.
#include <algorithm>
#include <set>

#include "sim/disk_impl.h"

namespace replsim::sim {

size_t write_sectors(const PendingWrite& w) {
  if (w.is_truncate || w.bytes.empty()) return 0;
  const uint64_t first = w.offset / kSectorBytes;
  const uint64_t end = (w.offset + w.bytes.size() + kSectorBytes - 1) / kSectorBytes;
  return static_cast<size_t>(end - first);
}

void apply_pending(FileImage* image, const PendingWrite& w, std::optional<size_t> sectors_kept) {
  if (w.is_truncate) {
    REPLSIM_ASSERT(!sectors_kept || *sectors_kept == 0);
    if (!sectors_kept) image->resize(w.offset);
    return;
  }
  uint64_t len = w.bytes.size();
  uint64_t size_min = std::max<uint64_t>(w.extend_to, w.offset + len);
  if (sectors_kept) {
    REPLSIM_ASSERT(*sectors_kept <= write_sectors(w));
    const uint64_t boundary = (w.offset / kSectorBytes + *sectors_kept) * kSectorBytes;
    len = boundary > w.offset ? std::min<uint64_t>(len, boundary - w.offset) : 0;
    size_min = w.offset + len;
  }
  if (len == 0) return;
  if (image->size() < size_min) image->resize(size_min);
  image->write(w.offset, std::string_view(w.bytes).substr(0, len));
}

namespace {

// Rebuilds one file from its durable image and `plan`; the cache becomes that image.
void recover_inode(Inode* inode, const KeepPlan& plan) {
  REPLSIM_ASSERT_MSG(plan.writes_kept <= inode->unsynced.size(),
                     "KeepPlan keeps more writes than the file has unsynced");
  FileImage image = std::move(inode->durable);
  for (size_t i = 0; i < plan.writes_kept; ++i) apply_pending(&image, inode->unsynced[i]);
  if (plan.torn_sectors_of_next > 0) {
    REPLSIM_ASSERT_MSG(plan.writes_kept < inode->unsynced.size(),
                       "KeepPlan tears a write that does not exist");
    apply_pending(&image, inode->unsynced[plan.writes_kept], plan.torn_sectors_of_next);
  }
  inode->unsynced.clear();
  auto first_gone =
      inode->bad_sectors.lower_bound((image.size() + kSectorBytes - 1) / kSectorBytes);
  inode->bad_sectors.erase(first_gone, inode->bad_sectors.end());
  inode->cached = image;
  inode->durable = std::move(image);
}

}  // namespace

void SimDisk::Impl::power_loss_apply(size_t namespace_ops_kept, const ChooseKeep& choose) {
  REPLSIM_ASSERT_MSG(namespace_ops_kept <= unsynced_ns_.size(),
                     "power loss keeps more namespace changes than are unsynced");
  const size_t namespace_ops = unsynced_ns_.size();
  Namespace recovered = durable_ns_;
  for (size_t i = 0; i < namespace_ops_kept; ++i) apply_ns_op(&recovered, unsynced_ns_[i]);
  std::set<uint64_t> seen;
  uint64_t digest = op_digest("", namespace_ops_kept);
  for (const auto& [name, inode] : recovered) {
    if (!seen.insert(inode->id).second) continue;
    const KeepPlan plan = choose(*inode);
    if (plan.torn_sectors_of_next > 0) {
      record_fault("torn_write", name,
                   "kept " + std::to_string(plan.writes_kept) + " unsynced writes and " +
                       std::to_string(plan.torn_sectors_of_next) + " sectors of the next");
    }
    digest = op_digest(name, digest, plan.writes_kept * 1000003 + plan.torn_sectors_of_next);
    recover_inode(inode.get(), plan);
  }
  durable_ns_ = recovered;
  cache_ns_ = std::move(recovered);
  unsynced_ns_.clear();
  ++power_epoch_;
  freeze_at_.reset();
  if (faults_ != nullptr) {
    faults_->record(loop_.now(), "power_loss", "disk " + disk_.name_,
                    "kept " + std::to_string(namespace_ops_kept) + " of " +
                        std::to_string(namespace_ops) + " unsynced namespace changes");
  }
  record_trace(0, "disk_power_loss", digest);
}

KeepPlan SimDisk::Impl::random_keep(const Inode& inode) {
  KeepPlan plan;
  const size_t pending = inode.unsynced.size();
  if (pending == 0) return plan;
  plan.writes_kept = static_cast<size_t>(prng_.uniform(pending + 1));
  if (plan.writes_kept < pending) {
    const size_t sectors = write_sectors(inode.unsynced[plan.writes_kept]);
    if (sectors > 1) plan.torn_sectors_of_next = static_cast<size_t>(prng_.uniform(sectors));
  }
  return plan;
}

void SimDisk::power_loss() {
  const size_t kept = static_cast<size_t>(impl_->prng_.uniform(impl_->unsynced_ns_.size() + 1));
  impl_->power_loss_apply(kept, [this](const Inode& inode) { return impl_->random_keep(inode); });
}

void SimDisk::power_loss_with(const std::map<std::string, KeepPlan>& plan) {
  power_loss_with(plan, 0);
}

void SimDisk::power_loss_with(const std::map<std::string, KeepPlan>& plan,
                              size_t namespace_ops_kept) {
  std::map<uint64_t, KeepPlan> by_inode;
  for (const auto& [name, keep] : plan) {
    auto it = impl_->cache_ns_.find(name);
    REPLSIM_ASSERT_MSG(it != impl_->cache_ns_.end(), "power_loss_with names an unknown file");
    by_inode[it->second->id] = keep;
  }
  impl_->power_loss_apply(namespace_ops_kept, [&by_inode](const Inode& inode) {
    auto it = by_inode.find(inode.id);
    return it == by_inode.end() ? KeepPlan{} : it->second;
  });
}

size_t SimDisk::unsynced_namespace_ops() const { return impl_->unsynced_ns_.size(); }

std::map<std::string, std::vector<size_t>> SimDisk::unsynced_writes_sectors() const {
  std::map<std::string, std::vector<size_t>> out;
  for (const auto& [name, inode] : impl_->cache_ns_) {
    std::vector<size_t>& sectors = out[name];
    for (const PendingWrite& w : inode->unsynced) sectors.push_back(write_sectors(w));
  }
  return out;
}

}  // namespace replsim::sim
