#include "sim/harness/snapshot_cache.h"

#include "engine/storage/store.h"

namespace replsim::harness {

// What Replica::replicated_plaintext() makes of one stored replicated value.
static std::string open_value(const Barrier& b, const std::string& path,
                              const std::string& stored) {
  auto plain = b.decrypt(path, stored);
  return plain.is_ok() ? std::move(plain.value()) : std::string("<undecryptable>");
}

const std::string* SnapshotCache::intern(std::string plain) {
  auto it = plain_.find(plain);
  if (it != plain_.end()) return it->second;
  const std::string* s = arena_->add(std::move(plain));
  plain_.emplace(*s, s);
  return s;
}

bool SnapshotCache::take(uint32_t cluster, const cluster::Node& n, SnapshotData* data,
                         SnapshotPaths* local_paths) {
  const Store* store = n.store();
  const Barrier* barrier = n.barrier();
  if (store == nullptr || barrier == nullptr) return false;
  Slot& slot = slots_[cluster];
  const MountTable& mounts = store->mounts();
  if (!(slot.keyring == barrier->keyring()) || slot.local_prefixes != mounts.local_prefixes()) {
    slot.keyring = barrier->keyring();
    slot.local_prefixes = mounts.local_prefixes();
    slot.entries.clear();
    slot.local.clear();
  }
  data->clear();
  data->reserve(slot.entries.size() + 1);
  local_paths->clear();
  local_paths->reserve(slot.local.size() + 1);
  // Both the store's index and the cache are in path order: one merge walk. A cached path
  // passed over is gone from the store; a cached path is replicated (same mount table).
  auto e = slot.entries.begin();
  auto l = slot.local.begin();  // the same merge walk over the local paths seen
  for (const auto& [path, stored] : store->contents()) {
    int order = 1;  // e's path against `path`
    while (e != slot.entries.end() && (order = e->first.compare(path)) < 0) {
      e = slot.entries.erase(e);
    }
    const bool cached = e != slot.entries.end() && order == 0;
    if (!cached && !mounts.is_replicated(path)) {
      int local_order = 1;
      while (l != slot.local.end() && (local_order = l->first.compare(path)) < 0) {
        l = slot.local.erase(l);
      }
      if (l == slot.local.end() || local_order != 0) {
        l = slot.local.emplace_hint(l, path, arena_->add(path));
      }
      local_paths->push_back(arena_, l->second);
      ++l;
      continue;
    }
    if (!cached) {
      e = slot.entries.emplace_hint(
          e, path, Entry{stored, arena_->add(path), intern(open_value(*barrier, path, stored))});
      ++decrypted_;
    } else if (e->second.stored != stored) {
      e->second.stored = stored;
      e->second.plain = intern(open_value(*barrier, path, stored));
      ++decrypted_;
    } else {
      ++reused_;
    }
    data->push_back(arena_, e->second.path, e->second.plain);
    ++e;
  }
  slot.entries.erase(e, slot.entries.end());
  slot.local.erase(l, slot.local.end());
  return true;
}

}  // namespace replsim::harness
