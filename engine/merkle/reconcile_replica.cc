// The replica side of merkle-diff / merkle-sync (protocol in reconcile.h).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "engine/merkle/delta_coding.h"
#include "engine/merkle/reconcile.h"

namespace replsim::merkle {
namespace {

uint32_t bucket_bits(const MerkleShape& shape) { return shape.root_bits + shape.sub_bits; }

uint32_t key_id(const MerkleShape& shape, uint64_t position) {
  return static_cast<uint32_t>((position << bucket_bits(shape)) >> 32);
}

void delete_entries(const std::vector<LeafEntry>& entries, std::vector<proto::KeyChange>* out) {
  for (const LeafEntry& e : entries) {
    proto::KeyChange& c = out->emplace_back();
    c.set_path(e.path);
    c.set_deleted(true);
  }
}

bool is_zero(const char* p, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Per key id of one bucket: the multiset of truncated leaves (sorted).
using IdLeaves = std::map<uint32_t, std::vector<std::string>>;

}  // namespace

ReplicaReconcile::ReplicaReconcile(uint32_t hash_bytes) : hash_bytes_(hash_bytes) {
  REPLSIM_ASSERT(hash_bytes >= 1 && hash_bytes <= kHashBytes);
}

proto::MerkleDiffRequest ReplicaReconcile::start(MerkleIndex& replica) {
  const MerkleShape& shape = replica.shape();
  proto::MerkleDiffRequest request;
  request.set_root_bits(shape.root_bits);
  request.set_sub_bits(shape.sub_bits);
  request.set_hash_bytes(hash_bytes_);
  std::string* slots = request.mutable_root_slots();
  slots->reserve(static_cast<size_t>(shape.root_slots()) * hash_bytes_);
  for (uint32_t s = 0; s < shape.root_slots(); ++s) {
    const Hash160 h = replica.subpage_hash(s);
    slots->append(reinterpret_cast<const char*>(h.data()), hash_bytes_);
  }
  stats_.diff_bytes += request.ByteSizeLong();
  return request;
}

Result<ReplicaStep> ReplicaReconcile::on_diff_reply(MerkleIndex& replica,
                                                    const proto::MerkleDiffReply& reply) {
  const MerkleShape& shape = replica.shape();
  const uint32_t hb = hash_bytes_;
  stats_.round_trips += 1;
  stats_.diff_bytes += reply.ByteSizeLong();
  if (reply.primary_root().size() != kHashBytes || reply.hash_bytes() != hb) {
    return Status::invalid_argument("malformed MerkleDiffReply");
  }
  std::memcpy(primary_root_.data(), reply.primary_root().data(), kHashBytes);
  guard_ = WalIndex(reply.guard_index());
  ReplicaStep step;
  if (primary_root_ == replica.root()) return step;  // kDone
  const size_t page_bytes = static_cast<size_t>(shape.sub_slots()) * hb;
  if (reply.subpage_hashes().size() != reply.subpage_slots_size() * page_bytes) {
    return Status::invalid_argument("subpage hashes of the wrong size");
  }
  for (uint32_t s : reply.primary_empty_slots()) {
    if (s >= shape.root_slots()) return Status::invalid_argument("slot out of range");
    for (uint32_t t = 0; t < shape.sub_slots(); ++t) {
      delete_entries(replica.bucket(s * shape.sub_slots() + t), &deletes_);
    }
  }
  for (uint32_t s : reply.replica_empty_slots()) {
    if (s >= shape.root_slots()) return Status::invalid_argument("slot out of range");
    pending_sync_.add_whole_slots(s);
  }
  std::vector<uint32_t> list_buckets;
  std::vector<uint32_t> whole_buckets;
  for (int i = 0; i < reply.subpage_slots_size(); ++i) {
    const uint32_t s = reply.subpage_slots(i);
    if (s >= shape.root_slots()) return Status::invalid_argument("slot out of range");
    const char* page = reply.subpage_hashes().data() + i * page_bytes;
    for (uint32_t t = 0; t < shape.sub_slots(); ++t) {
      const uint32_t b = s * shape.sub_slots() + t;
      const Hash160 mine = replica.bucket_hash(b);
      const char* theirs = page + static_cast<size_t>(t) * hb;
      if (std::memcmp(mine.data(), theirs, hb) == 0) continue;
      if (is_zero(theirs, hb)) {
        delete_entries(replica.bucket(b), &deletes_);
      } else if (replica.bucket_size(b) == 0) {
        whole_buckets.push_back(b);
      } else {
        list_buckets.push_back(b);
      }
    }
  }
  add_deltas(whole_buckets, pending_sync_.mutable_whole_bucket_deltas());
  if (!list_buckets.empty()) {
    step.kind = ReplicaStep::Kind::kSendBuckets;
    step.buckets.set_hash_bytes(hb);
    add_deltas(list_buckets, step.buckets.mutable_bucket_deltas());
    stats_.diff_bytes += step.buckets.ByteSizeLong();
    return step;
  }
  return next_after_listing();
}

Result<ReplicaStep> ReplicaReconcile::on_buckets_reply(MerkleIndex& replica,
                                                       const proto::MerkleBucketsReply& reply) {
  const MerkleShape& shape = replica.shape();
  const uint32_t hb = hash_bytes_;
  stats_.round_trips += 1;
  stats_.diff_bytes += reply.ByteSizeLong();
  const std::vector<uint32_t> buckets = from_deltas<uint32_t>(reply.bucket_deltas());
  if (static_cast<int>(buckets.size()) != reply.counts_size()) {
    return Status::invalid_argument("bucket listing counts do not match");
  }
  const std::string& blob = reply.entries();
  size_t offset = 0;
  std::vector<uint64_t> prefixes;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const uint32_t b = buckets[i];
    if (b >= shape.bucket_count()) return Status::invalid_argument("bucket out of range");
    IdLeaves theirs;
    for (uint32_t k = 0; k < reply.counts(i); ++k) {
      if (offset + 4 + hb > blob.size()) return Status::invalid_argument("listing truncated");
      uint32_t id = 0;
      for (int j = 0; j < 4; ++j) id = (id << 8) | static_cast<uint8_t>(blob[offset + j]);
      theirs[id].emplace_back(blob.substr(offset + 4, hb));
      offset += 4 + hb;
    }
    IdLeaves mine;
    std::map<uint32_t, std::vector<const LeafEntry*>> mine_entries;
    for (const LeafEntry& e : replica.bucket(b)) {
      const uint32_t id = key_id(shape, e.position);
      mine[id].emplace_back(reinterpret_cast<const char*>(e.leaf.data()), hb);
      mine_entries[id].push_back(&e);
    }
    for (auto& [id, leaves] : theirs) std::sort(leaves.begin(), leaves.end());
    for (auto& [id, leaves] : mine) std::sort(leaves.begin(), leaves.end());
    const uint64_t bucket_prefix = static_cast<uint64_t>(b) << 32;
    for (const auto& [id, leaves] : theirs) {
      auto it = mine.find(id);
      if (it == mine.end() || it->second != leaves) prefixes.push_back(bucket_prefix | id);
    }
    for (const auto& [id, entries] : mine_entries) {
      if (theirs.count(id) == 0) {
        for (const LeafEntry* e : entries) delete_entries({*e}, &deletes_);
      }
    }
  }
  if (offset != blob.size()) return Status::invalid_argument("listing has trailing bytes");
  std::sort(prefixes.begin(), prefixes.end());
  add_deltas(prefixes, pending_sync_.mutable_key_prefix_deltas());
  return next_after_listing();
}

Result<ReplicaStep> ReplicaReconcile::next_after_listing() {
  ReplicaStep step;
  const bool fetch = pending_sync_.whole_slots_size() > 0 ||
                     pending_sync_.whole_bucket_deltas_size() > 0 ||
                     pending_sync_.key_prefix_deltas_size() > 0;
  if (fetch) {
    step.kind = ReplicaStep::Kind::kSendSync;
    step.sync = pending_sync_;
    stats_.diff_bytes += step.sync.ByteSizeLong();
    return step;
  }
  step.kind = ReplicaStep::Kind::kApply;
  stats_.keys_deleted += deletes_.size();
  step.changes = std::move(deletes_);
  deletes_.clear();
  return step;
}

Result<ReplicaStep> ReplicaReconcile::on_sync_reply(MerkleIndex& replica,
                                                    const proto::MerkleSyncReply& reply) {
  const MerkleShape& shape = replica.shape();
  stats_.sync_round_trips += 1;
  stats_.sync_reply_bytes += reply.ByteSizeLong();
  stats_.keys_fetched += reply.puts_size();
  std::set<std::string> fetched;
  ReplicaStep step;
  step.kind = ReplicaStep::Kind::kApply;
  for (const proto::KeyChange& put : reply.puts()) {
    if (put.deleted()) return Status::invalid_argument("sync reply carries a delete");
    fetched.insert(put.path());
    step.changes.push_back(put);
  }
  // Every replica key inside a requested scope that the primary did not return is deleted.
  auto drop_missing = [&](const std::vector<LeafEntry>& entries, uint64_t lo, uint64_t hi) {
    for (const LeafEntry& e : entries) {
      if (e.position < lo || e.position > hi || fetched.count(e.path) > 0) continue;
      delete_entries({e}, &step.changes);
      stats_.keys_deleted += 1;
    }
  };
  for (uint32_t s : pending_sync_.whole_slots()) {
    for (uint32_t t = 0; t < shape.sub_slots(); ++t) {
      drop_missing(replica.bucket(s * shape.sub_slots() + t), 0, UINT64_MAX);
    }
  }
  for (uint32_t b : from_deltas<uint32_t>(pending_sync_.whole_bucket_deltas())) {
    drop_missing(replica.bucket(b), 0, UINT64_MAX);
  }
  const uint32_t shift = 32 - bucket_bits(shape);
  for (uint64_t prefix : from_deltas<uint64_t>(pending_sync_.key_prefix_deltas())) {
    const uint64_t lo = prefix << shift;
    drop_missing(replica.bucket(static_cast<uint32_t>(prefix >> 32)), lo,
                 lo | ((uint64_t{1} << shift) - 1));
  }
  stats_.keys_deleted += deletes_.size();
  for (proto::KeyChange& d : deletes_) step.changes.push_back(std::move(d));
  deletes_.clear();
  pending_sync_.Clear();
  return step;
}

bool ReplicaReconcile::verify(MerkleIndex& replica) const {
  return replica.root() == primary_root_;
}

}  // namespace replsim::merkle
