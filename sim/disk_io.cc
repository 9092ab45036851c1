// The simulated disk: file content operations (write, append, read, truncate, sync).
//
// Writes and truncates change the page cache (`cached`) at issue and join the file's ordered
// unsynced list; sync() moves the prefix issued before it into the durable image when it
// completes (or drops it for good when the fsync fails). Reads serve the page cache, with
// latent sector errors and bit rot. See sim/disk.cc for the choices made.
#include <algorithm>

#include "sim/disk_impl.h"

namespace replsim::sim {

namespace {

// The sectors of [offset, offset + len) lose their latent errors: they were rewritten.
void clear_bad_sectors(Inode* inode, uint64_t offset, uint64_t len) {
  if (len == 0 || inode->bad_sectors.empty()) return;
  auto first = inode->bad_sectors.lower_bound(offset / kSectorBytes);
  auto last = inode->bad_sectors.upper_bound((offset + len - 1) / kSectorBytes);
  inode->bad_sectors.erase(first, last);
}

// Whether growing the cached total by `growth` bytes passes `capacity`. `used` is only
// computed (a walk of the namespace) when the disk has a capacity and the file grows.
template <typename UsedFn>
bool passes_capacity(const UsedFn& used_fn, uint64_t growth, uint64_t capacity) {
  if (growth == 0 || capacity == UINT64_MAX) return false;
  const uint64_t used = used_fn();
  return used >= capacity || growth > capacity - used;
}

}  // namespace

void SimDisk::Impl::write(const InodePtr& inode, const std::string& path, const Caller& caller,
                          std::optional<uint64_t> offset, std::string data, IoCallback done) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return;
  const TimeUs latency_us = disk_.options_.write_latency_us;
  FileImage& cached = inode->cached;
  const uint64_t at = offset.value_or(cached.size());
  const uint64_t len = data.size();
  const uint64_t digest = op_digest(path, at, len);
  const uint64_t new_size = len == 0 ? cached.size() : std::max<uint64_t>(cached.size(), at + len);
  if (passes_capacity([this] { return used_bytes(); }, new_size - cached.size(),
                      disk_.options_.capacity_bytes)) {
    std::string message = target(path) + ": disk full writing " + std::to_string(len) + " bytes";
    complete_after(
        latency_us, caller, "disk_write", digest, [message] { return Status::no_space(message); },
        std::move(done));
    return;
  }
  if (len > 0) {
    uint64_t lands_at = at;
    const double p = disk_.options_.misdirected_write_probability;
    if (p > 0.0 && prng_.bernoulli(p)) {
      // Sector-aligned places that keep the bytes inside the file's new size, except `at`.
      const uint64_t places = (new_size - len) / kSectorBytes + 1;
      const bool at_is_place = at % kSectorBytes == 0 && at / kSectorBytes < places;
      const uint64_t choices = places - (at_is_place ? 1 : 0);
      if (choices > 0) {
        uint64_t pick = prng_.uniform(choices);
        if (at_is_place && pick >= at / kSectorBytes) ++pick;
        lands_at = pick * kSectorBytes;
        record_fault("misdirected_write", path,
                     "offset " + std::to_string(at) + " landed at " + std::to_string(lands_at) +
                         ", " + std::to_string(len) + " bytes");
      }
    }
    if (cached.size() < new_size) cached.resize(new_size);
    REPLSIM_ASSERT(lands_at + len <= cached.size());
    cached.write(lands_at, data);
    clear_bad_sectors(inode.get(), lands_at, len);
    add_unsynced(inode.get(), PendingWrite{*seq, false, lands_at, at + len, std::move(data)});
  }
  complete_after(latency_us, caller, "disk_write", digest, nullptr, std::move(done));
}

Status SimDisk::Impl::read(const InodePtr& inode, const std::string& path, uint64_t offset,
                           size_t n, std::string* out) {
  out->clear();
  const FileImage& cached = inode->cached;
  if (n == 0 || offset >= cached.size()) return Status::ok();
  const uint64_t len = std::min<uint64_t>(n, cached.size() - offset);
  const uint64_t first = offset / kSectorBytes;
  const uint64_t last = (offset + len - 1) / kSectorBytes;
  auto bad = inode->bad_sectors.lower_bound(first);
  if (bad != inode->bad_sectors.end() && *bad <= last) {
    return Status::io_error(target(path) + ": latent sector error at offset " +
                            std::to_string(*bad * kSectorBytes));
  }
  const double p_sector = disk_.options_.read_sector_error_probability;
  if (p_sector > 0.0 && prng_.bernoulli(p_sector)) {
    const uint64_t sector = first + prng_.uniform(last - first + 1);
    inode->bad_sectors.insert(sector);
    record_fault("sector_error", path, "offset " + std::to_string(sector * kSectorBytes));
    return Status::io_error(target(path) + ": latent sector error at offset " +
                            std::to_string(sector * kSectorBytes));
  }
  const double p_rot = disk_.options_.bit_rot_probability;
  if (p_rot > 0.0 && prng_.bernoulli(p_rot)) {
    const uint64_t byte = offset + prng_.uniform(len);
    flip_bit_at_rest(inode.get(), byte);
    record_fault("bit_rot", path, "offset " + std::to_string(byte));
  }
  cached.read(offset, len, out);
  return Status::ok();
}

Status SimDisk::Impl::truncate(const InodePtr& inode, const std::string& path, const Caller& caller,
                               uint64_t size) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return Status::ok();
  FileImage& cached = inode->cached;
  if (size > cached.size() && passes_capacity([this] { return used_bytes(); }, size - cached.size(),
                                              disk_.options_.capacity_bytes)) {
    return Status::no_space(target(path) + ": disk full extending to " + std::to_string(size));
  }
  cached.resize(size);
  // Sectors past the end are freed; a later extension reads zeros there.
  auto first_gone = inode->bad_sectors.lower_bound((size + kSectorBytes - 1) / kSectorBytes);
  inode->bad_sectors.erase(first_gone, inode->bad_sectors.end());
  add_unsynced(inode.get(), PendingWrite{*seq, true, size, size, {}});
  record_trace(caller.node, "disk_truncate", op_digest(path, size));
  return Status::ok();
}

void SimDisk::Impl::sync(const InodePtr& inode, const std::string& path, const Caller& caller,
                         IoCallback done) {
  const std::optional<uint64_t> seq = admit();
  if (!seq) return;
  const bool fails = draw_sync_failure();
  auto effect = [this, inode, path, issued = *seq, fails]() -> Status {
    size_t count = 0;
    while (!inode->unsynced.empty() && inode->unsynced.front().seq < issued) {
      if (!fails) apply_pending(&inode->durable, inode->unsynced.front());
      inode->unsynced.pop_front();
      ++count;
    }
    if (!fails) return Status::ok();
    record_fault("fsync_failure", path, std::to_string(count) + " unsynced writes lost");
    return Status::io_error(target(path) + ": fsync failed; " + std::to_string(count) +
                            " unsynced writes lost");
  };
  complete_after(disk_.options_.fsync_latency_us, caller, "disk_sync", op_digest(path, *seq),
                 std::move(effect), std::move(done));
}

}  // namespace replsim::sim
