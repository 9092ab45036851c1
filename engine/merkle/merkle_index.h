// The merkle index: a paged tree over the replicated entries (docs/design.md §1).
//
// Shape (deterministic: a function of the set of entries only, never of the order of writes):
//   root page  — 2^root_bits slots; slot s holds the hash of subpage s;
//   subpages   — 2^sub_bits slots each; slot t of subpage s holds the hash of bucket
//                b = s * 2^sub_bits + t;
//   buckets    — the leaf pages: entries (position, path, leaf) sorted by (position, path), where
//                position = key_position(path) picks the bucket by its top root_bits + sub_bits
//                bits and leaf = leaf_hash(path, ciphertext).
// bucket hash  = hash of its sorted (position, leaf) pairs; empty bucket → kEmptyHash.
// subpage hash = hash of its slot hashes; all slots empty → kEmptyHash. Same for the root.
// Defaults (8, 8): 256-slot pages, 65,536 buckets, ~15 keys per bucket at 1 M keys.
//
// Updates change a bucket in memory and mark its path dirty; hashes are recomputed lazily by
// root()/subpage_hash()/bucket_hash(), so a group of commits pays for each page hash once.
// Buckets may be *unloaded* (their contents still on disk, their hash known): the ARIES layer
// installs a loader, and the first access to such a bucket loads it. Not thread-safe (engine
// code is single-threaded).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/merkle/hash.h"
#include "engine/status.h"

namespace replsim::merkle {

struct MerkleShape {
  uint32_t root_bits = 8;  // root page slots = 2^root_bits. REQUIRES: 1..12
  uint32_t sub_bits = 8;   // subpage slots = 2^sub_bits. REQUIRES: 1..12
  uint32_t root_slots() const { return 1u << root_bits; }
  uint32_t sub_slots() const { return 1u << sub_bits; }
  uint32_t bucket_count() const { return 1u << (root_bits + sub_bits); }
  uint32_t bucket_of(uint64_t position) const {
    return static_cast<uint32_t>(position >> (64 - root_bits - sub_bits));
  }
  bool operator==(const MerkleShape&) const = default;
};

struct LeafEntry {
  uint64_t position = 0;
  std::string path;
  Hash160 leaf{};
  bool operator==(const LeafEntry&) const = default;
};

// Loads bucket `b`'s entries (sorted) from durable pages. An error is fatal to the index
// (the owner rebuilds it), so the loader reports it through its own channel and returns {}.
using BucketLoader = std::function<std::vector<LeafEntry>(uint32_t bucket)>;

class MerkleIndex {
 public:
  explicit MerkleIndex(MerkleShape shape = {});

  const MerkleShape& shape() const { return shape_; }

  // --- updates (in memory) ---
  // Sets `path` to leaf_hash(path, ciphertext). Returns the bucket touched.
  uint32_t put(std::string_view path, std::string_view ciphertext);
  // Removes `path`; a no-op when absent. Returns the bucket touched.
  uint32_t erase(std::string_view path);
  // Low level (ARIES redo/undo): sets the entry for (position, path) to `leaf`, or removes it
  // when `leaf` is nullopt. Returns the previous leaf (nullopt when absent).
  std::optional<Hash160> set_leaf(uint64_t position, std::string_view path,
                                  std::optional<Hash160> leaf);
  // Replaces bucket `b` wholesale (page load, page image redo). REQUIRES: sorted, in bucket b.
  void set_bucket(uint32_t b, std::vector<LeafEntry> entries);
  // Marks bucket `b` unloaded with known hash `h` and `size` entries: its contents come from the
  // loader on first access.
  void set_bucket_unloaded(uint32_t b, const Hash160& h, uint32_t size);
  void set_loader(BucketLoader loader) { loader_ = std::move(loader); }
  void clear();

  // --- reads ---
  Hash160 root();
  std::string root_hex() { return to_hex(root()); }
  Hash160 subpage_hash(uint32_t s);  // = root page slot s
  Hash160 bucket_hash(uint32_t b);   // = subpage slot (b mod 2^sub_bits) of page b / 2^sub_bits
  const std::vector<LeafEntry>& bucket(uint32_t b);  // loads it if unloaded
  std::optional<Hash160> find(std::string_view path);
  uint64_t size() const { return size_; }  // number of entries
  uint32_t bucket_size(uint32_t b) const;  // without loading
  bool bucket_loaded(uint32_t b) const;

 private:
  // A large bucket takes changes into `pending` (newer than `entries`: a leaf, or nullopt for
  // a removal) and merges them in one pass when read or when pending grows past a bound, so a
  // write costs O(log n) amortized rather than an O(n) insert into the sorted vector — a
  // client choosing paths that collide on one bucket must not make every write slow.
  using PendingKey = std::pair<uint64_t, std::string>;
  struct Bucket {
    std::vector<LeafEntry> entries;
    std::map<PendingKey, std::optional<Hash160>> pending;
    Hash160 hash{};
    uint32_t unloaded_size = 0;
    bool loaded = true;
    bool dirty = false;  // hash stale
  };
  Bucket& loaded_bucket(uint32_t b);
  Bucket& merged_bucket(uint32_t b);  // loaded, pending merged
  static void merge_pending(Bucket& bucket);
  void mark_dirty(uint32_t b);

  MerkleShape shape_;
  std::vector<Bucket> buckets_;
  std::vector<Hash160> subpage_hashes_;
  std::vector<uint8_t> subpage_dirty_;
  Hash160 root_{};
  bool root_dirty_ = false;
  uint64_t size_ = 0;
  BucketLoader loader_;
};

// Hash of a bucket's sorted entries (exposed for tests and page checks).
Hash160 bucket_hash_of(const std::vector<LeafEntry>& entries);

}  // namespace replsim::merkle
