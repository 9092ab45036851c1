#include "engine/merkle/merkle_index.h"

#include <algorithm>
#include <cstring>

#include "engine/assert.h"

namespace replsim::merkle {
namespace {

// Buckets below this size are changed in place; larger ones take changes into `pending`,
// merged once more than kPendingMin + size/16 accumulate (or on read).
constexpr size_t kDirectEntriesMax = 256;
constexpr size_t kPendingMin = 64;

bool entry_less(const LeafEntry& e, uint64_t position, std::string_view path) {
  return e.position != position ? e.position < position : std::string_view(e.path) < path;
}

void append_u64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

Hash160 bucket_hash_of(const std::vector<LeafEntry>& entries) {
  if (entries.empty()) return kEmptyHash;
  std::string buf;
  buf.reserve(entries.size() * (8 + kHashBytes));
  for (const LeafEntry& e : entries) {
    append_u64(&buf, e.position);
    buf.append(reinterpret_cast<const char*>(e.leaf.data()), kHashBytes);
  }
  return hash_bytes(buf);
}

MerkleIndex::MerkleIndex(MerkleShape shape) : shape_(shape) {
  REPLSIM_ASSERT(shape.root_bits >= 1 && shape.root_bits <= 12);
  REPLSIM_ASSERT(shape.sub_bits >= 1 && shape.sub_bits <= 12);
  buckets_.resize(shape_.bucket_count());
  subpage_hashes_.assign(shape_.root_slots(), kEmptyHash);
  subpage_dirty_.assign(shape_.root_slots(), 0);
}

void MerkleIndex::clear() {
  buckets_.assign(shape_.bucket_count(), Bucket{});
  subpage_hashes_.assign(shape_.root_slots(), kEmptyHash);
  subpage_dirty_.assign(shape_.root_slots(), 0);
  root_ = kEmptyHash;
  root_dirty_ = false;
  size_ = 0;
}

void MerkleIndex::mark_dirty(uint32_t b) {
  buckets_[b].dirty = true;
  subpage_dirty_[b >> shape_.sub_bits] = 1;
  root_dirty_ = true;
}

MerkleIndex::Bucket& MerkleIndex::loaded_bucket(uint32_t b) {
  REPLSIM_ASSERT(b < buckets_.size());
  Bucket& bucket = buckets_[b];
  if (!bucket.loaded) {
    REPLSIM_ASSERT_MSG(loader_ != nullptr, "unloaded bucket without a loader");
    bucket.entries = loader_(b);
    bucket.loaded = true;
    // A loader that failed reports through its own channel; the sizes stay consistent.
    size_ -= bucket.unloaded_size;
    size_ += bucket.entries.size();
    bucket.unloaded_size = 0;
  }
  return bucket;
}

uint32_t MerkleIndex::put(std::string_view path, std::string_view ciphertext) {
  const uint64_t position = key_position(path);
  set_leaf(position, path, leaf_hash(path, ciphertext));
  return shape_.bucket_of(position);
}

uint32_t MerkleIndex::erase(std::string_view path) {
  const uint64_t position = key_position(path);
  set_leaf(position, path, std::nullopt);
  return shape_.bucket_of(position);
}

std::optional<Hash160> MerkleIndex::set_leaf(uint64_t position, std::string_view path,
                                             std::optional<Hash160> leaf) {
  const uint32_t b = shape_.bucket_of(position);
  Bucket& bucket = loaded_bucket(b);
  std::vector<LeafEntry>& entries = bucket.entries;
  auto it = std::lower_bound(entries.begin(), entries.end(), 0, [&](const LeafEntry& e, int) {
    return entry_less(e, position, path);
  });
  const bool found = it != entries.end() && it->position == position && it->path == path;
  std::optional<Hash160> stored;  // what `entries` says
  if (found) stored = it->leaf;
  std::optional<Hash160> previous = stored;
  auto pending = bucket.pending.end();
  if (!bucket.pending.empty()) {
    pending = bucket.pending.find(PendingKey(position, path));
    if (pending != bucket.pending.end()) previous = pending->second;
  }
  if (previous == leaf) return previous;
  if (previous.has_value() != leaf.has_value()) {
    if (leaf.has_value()) {
      ++size_;
    } else {
      --size_;
    }
  }
  mark_dirty(b);
  if (entries.size() < kDirectEntriesMax && bucket.pending.empty()) {
    // Small bucket: change the sorted vector in place (cheapest for ~15 entries).
    if (leaf.has_value() && found) {
      it->leaf = *leaf;
    } else if (leaf.has_value()) {
      entries.insert(it, LeafEntry{position, std::string(path), *leaf});
    } else {
      entries.erase(it);
    }
    return previous;
  }
  if (leaf == stored) {
    if (pending != bucket.pending.end()) bucket.pending.erase(pending);
  } else if (pending != bucket.pending.end()) {
    pending->second = leaf;
  } else {
    bucket.pending.emplace(PendingKey(position, path), leaf);
  }
  if (bucket.pending.size() > kPendingMin + entries.size() / 16) merge_pending(bucket);
  return previous;
}

void MerkleIndex::merge_pending(Bucket& bucket) {
  if (bucket.pending.empty()) return;
  std::vector<LeafEntry> merged;
  merged.reserve(bucket.entries.size() + bucket.pending.size());
  auto e = bucket.entries.begin();
  for (auto& [key, leaf] : bucket.pending) {
    while (e != bucket.entries.end() && entry_less(*e, key.first, key.second)) {
      merged.push_back(std::move(*e++));
    }
    const bool same =
        e != bucket.entries.end() && e->position == key.first && e->path == key.second;
    if (same) ++e;  // replaced or removed
    if (leaf.has_value()) merged.push_back(LeafEntry{key.first, key.second, *leaf});
  }
  for (; e != bucket.entries.end(); ++e) merged.push_back(std::move(*e));
  bucket.entries = std::move(merged);
  bucket.pending.clear();
}

MerkleIndex::Bucket& MerkleIndex::merged_bucket(uint32_t b) {
  Bucket& bucket = loaded_bucket(b);
  merge_pending(bucket);
  return bucket;
}

void MerkleIndex::set_bucket(uint32_t b, std::vector<LeafEntry> entries) {
  REPLSIM_ASSERT(b < buckets_.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    REPLSIM_ASSERT(shape_.bucket_of(entries[i].position) == b);
    if (i > 0) REPLSIM_ASSERT(entry_less(entries[i - 1], entries[i].position, entries[i].path));
  }
  Bucket& bucket = buckets_[b];
  size_ -= bucket.loaded ? bucket_size(b) : bucket.unloaded_size;
  size_ += entries.size();
  bucket.entries = std::move(entries);
  bucket.pending.clear();
  bucket.loaded = true;
  bucket.unloaded_size = 0;
  mark_dirty(b);
}

void MerkleIndex::set_bucket_unloaded(uint32_t b, const Hash160& h, uint32_t size) {
  REPLSIM_ASSERT(b < buckets_.size());
  Bucket& bucket = buckets_[b];
  size_ -= bucket.loaded ? bucket_size(b) : bucket.unloaded_size;
  size_ += size;
  bucket.pending.clear();
  bucket.entries.clear();
  bucket.entries.shrink_to_fit();
  bucket.loaded = false;
  bucket.unloaded_size = size;
  bucket.hash = h;
  bucket.dirty = false;
  subpage_dirty_[b >> shape_.sub_bits] = 1;
  root_dirty_ = true;
}

Hash160 MerkleIndex::bucket_hash(uint32_t b) {
  REPLSIM_ASSERT(b < buckets_.size());
  Bucket& bucket = buckets_[b];
  if (bucket.dirty) {
    REPLSIM_ASSERT(bucket.loaded);
    merge_pending(bucket);
    bucket.hash = bucket_hash_of(bucket.entries);
    bucket.dirty = false;
  }
  return bucket.hash;
}

Hash160 MerkleIndex::subpage_hash(uint32_t s) {
  REPLSIM_ASSERT(s < subpage_hashes_.size());
  if (subpage_dirty_[s]) {
    const uint32_t n = shape_.sub_slots();
    std::string buf(static_cast<size_t>(n) * kHashBytes, '\0');
    bool any = false;
    for (uint32_t t = 0; t < n; ++t) {
      const Hash160 h = bucket_hash(s * n + t);
      if (h != kEmptyHash) any = true;
      std::memcpy(&buf[static_cast<size_t>(t) * kHashBytes], h.data(), kHashBytes);
    }
    subpage_hashes_[s] = any ? hash_bytes(buf) : kEmptyHash;
    subpage_dirty_[s] = 0;
  }
  return subpage_hashes_[s];
}

Hash160 MerkleIndex::root() {
  if (root_dirty_) {
    const uint32_t n = shape_.root_slots();
    std::string buf(static_cast<size_t>(n) * kHashBytes, '\0');
    bool any = false;
    for (uint32_t s = 0; s < n; ++s) {
      const Hash160 h = subpage_hash(s);
      if (h != kEmptyHash) any = true;
      std::memcpy(&buf[static_cast<size_t>(s) * kHashBytes], h.data(), kHashBytes);
    }
    root_ = any ? hash_bytes(buf) : kEmptyHash;
    root_dirty_ = false;
  }
  return root_;
}

const std::vector<LeafEntry>& MerkleIndex::bucket(uint32_t b) { return merged_bucket(b).entries; }

std::optional<Hash160> MerkleIndex::find(std::string_view path) {
  const uint64_t position = key_position(path);
  const std::vector<LeafEntry>& entries = bucket(shape_.bucket_of(position));
  auto it = std::lower_bound(entries.begin(), entries.end(), 0, [&](const LeafEntry& e, int) {
    return entry_less(e, position, path);
  });
  if (it != entries.end() && it->position == position && it->path == path) return it->leaf;
  return std::nullopt;
}

uint32_t MerkleIndex::bucket_size(uint32_t b) const {
  REPLSIM_ASSERT(b < buckets_.size());
  const Bucket& bucket = buckets_[b];
  if (!bucket.loaded) return bucket.unloaded_size;
  uint64_t n = bucket.entries.size();
  for (const auto& [key, leaf] : bucket.pending) {
    auto it = std::lower_bound(
        bucket.entries.begin(), bucket.entries.end(), 0,
        [&](const LeafEntry& e, int) { return entry_less(e, key.first, key.second); });
    const bool stored =
        it != bucket.entries.end() && it->position == key.first && it->path == key.second;
    n = n + (leaf.has_value() ? 1 : 0) - (stored ? 1 : 0);
  }
  return static_cast<uint32_t>(n);
}

bool MerkleIndex::bucket_loaded(uint32_t b) const {
  REPLSIM_ASSERT(b < buckets_.size());
  return buckets_[b].loaded;
}

}  // namespace replsim::merkle
