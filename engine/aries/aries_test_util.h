// Test fixtures for the ARIES index: an Env over one EventLoop and one SimDisk, a storage
// model (IndexSource over a map and a WAL with a GC horizon), and the index-consistency check.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/aries/aries_index.h"
#include "sim/disk.h"
#include "sim/disk_env.h"
#include "sim/event_loop.h"
#include "sim/prng.h"

namespace replsim::aries::testing {

using TestEnv = sim::DiskEnv;

// Storage as the index sees it: the replicated key/value state after WAL entry `last`, and
// the WAL entries retained (those after `gc_before` are kept).
class ModelStorage final : public IndexSource {
 public:
  WalIndex commit(std::vector<proto::KeyChange> changes) {
    const WalIndex index(++last_);
    for (const proto::KeyChange& c : changes) {
      if (c.deleted()) {
        kv_.erase(c.path());
      } else {
        kv_[c.path()] = c.ciphertext();
      }
    }
    history_.push_back(changes);
    wal_.emplace(index.value, std::move(changes));
    return index;
  }
  // Drops WAL entries up to and including `index`.
  void gc_through(uint64_t index) {
    while (!wal_.empty() && wal_.begin()->first <= index) wal_.erase(wal_.begin());
    gc_through_ = std::max(gc_through_, index);
  }
  const std::vector<proto::KeyChange>& entry(uint64_t index) const { return wal_.at(index); }
  uint64_t last() const { return last_; }
  const std::map<std::string, std::string>& kv() const { return kv_; }
  // The merkle root of the replicated state after WAL entry `index` (history is never GC'd).
  merkle::Hash160 root_at(uint64_t index, const merkle::MerkleShape& shape) const {
    std::map<std::string, std::string> kv;
    for (uint64_t i = 0; i < index; ++i) {
      for (const proto::KeyChange& c : history_[i]) {
        if (c.deleted()) {
          kv.erase(c.path());
        } else {
          kv[c.path()] = c.ciphertext();
        }
      }
    }
    merkle::MerkleIndex tree(shape);
    for (const auto& [p, c] : kv) tree.put(p, c);
    return tree.root();
  }

  Status for_each_entry_after(
      WalIndex after,
      const std::function<void(WalIndex, const std::vector<proto::KeyChange>&)>& fn) override {
    if (after.value < gc_through_) return Status::too_old("wal entry garbage-collected");
    for (auto it = wal_.upper_bound(after.value); it != wal_.end(); ++it) {
      fn(WalIndex(it->first), it->second);
    }
    return Status::ok();
  }
  Status scan(WalIndex* as_of,
              const std::function<void(std::string_view, std::string_view)>& fn) override {
    for (const auto& [p, c] : kv_) fn(p, c);
    *as_of = WalIndex(last_);
    return Status::ok();
  }

 private:
  uint64_t last_ = 0;
  uint64_t gc_through_ = 0;
  std::map<std::string, std::string> kv_;
  std::map<uint64_t, std::vector<proto::KeyChange>> wal_;
  std::vector<std::vector<proto::KeyChange>> history_;
};

inline proto::KeyChange put(std::string path, std::string value) {
  proto::KeyChange c;
  c.set_path(std::move(path));
  c.set_ciphertext(std::move(value));
  return c;
}
inline proto::KeyChange del(std::string path) {
  proto::KeyChange c;
  c.set_path(std::move(path));
  c.set_deleted(true);
  return c;
}

// The index equals one rebuilt from storage: every page (bucket entries and hash) and the root.
// Returns "" or a description of the first difference.
inline std::string compare_with_storage(AriesIndex& index, const ModelStorage& storage) {
  merkle::MerkleIndex& tree = index.tree();
  const RecoveryStats& st = index.recovery_stats();
  if (!st.rebuilt && !st.fresh &&
      st.recovered_root != storage.root_at(st.recovered_index.value, tree.shape())) {
    return "after restart (before roll-forward) the index is not the committed prefix " +
           std::to_string(st.recovered_index.value);
  }
  merkle::MerkleIndex rebuilt(tree.shape());
  for (const auto& [p, c] : storage.kv()) rebuilt.put(p, c);
  for (uint32_t b = 0; b < tree.shape().bucket_count(); ++b) {
    if (tree.bucket(b) != rebuilt.bucket(b)) return "page " + std::to_string(b) + " differs";
    if (tree.bucket_hash(b) != rebuilt.bucket_hash(b)) {
      return "page " + std::to_string(b) + " hash differs";
    }
  }
  if (!index.health().is_ok()) return "health: " + index.health().to_string();
  if (tree.root() != rebuilt.root()) return "root differs";
  if (index.applied_index().value != storage.last()) {
    return "applied " + std::to_string(index.applied_index().value) + " != storage " +
           std::to_string(storage.last());
  }
  return "";
}

}  // namespace replsim::aries::testing
