// merkle-diff / merkle-sync: see reconcile.h for the protocol.
#include "engine/merkle/reconcile.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "engine/merkle/delta_coding.h"

namespace replsim::merkle {
namespace {

uint32_t bucket_bits(const MerkleShape& shape) { return shape.root_bits + shape.sub_bits; }

// The 32 position bits right below the bucket bits.
uint32_t key_id(const MerkleShape& shape, uint64_t position) {
  return static_cast<uint32_t>((position << bucket_bits(shape)) >> 32);
}

void append_trunc(std::string* out, const Hash160& h, uint32_t n) {
  out->append(reinterpret_cast<const char*>(h.data()), n);
}

bool is_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

Status check_hash_bytes(uint32_t n) {
  if (n < 1 || n > kHashBytes) return Status::invalid_argument("hash_bytes not in 1..20");
  return Status::ok();
}

// Appends the primary's entries of `entries` whose position lies in [lo, hi] as puts.
void put_range(const std::vector<LeafEntry>& entries, uint64_t lo, uint64_t hi,
               const ValueLookup& lookup, proto::MerkleSyncReply* reply) {
  auto it = std::lower_bound(entries.begin(), entries.end(), lo,
                             [](const LeafEntry& e, uint64_t p) { return e.position < p; });
  for (; it != entries.end() && it->position <= hi; ++it) {
    std::optional<std::string> value = lookup(it->path);
    if (!value.has_value()) continue;  // deleted since the index saw it: absent
    proto::KeyChange* c = reply->add_puts();
    c->set_path(it->path);
    c->set_ciphertext(std::move(*value));
  }
}

}  // namespace

Result<proto::MerkleDiffReply> answer_diff(MerkleIndex& primary, WalIndex guard,
                                           const proto::MerkleDiffRequest& request) {
  const MerkleShape& shape = primary.shape();
  if (request.root_bits() != shape.root_bits || request.sub_bits() != shape.sub_bits) {
    return Status::invalid_argument("merkle shapes differ between replica and primary");
  }
  const uint32_t hb = request.hash_bytes();
  REPLSIM_RETURN_IF_ERROR(check_hash_bytes(hb));
  if (request.root_slots().size() != static_cast<size_t>(shape.root_slots()) * hb) {
    return Status::invalid_argument("root page of the wrong size");
  }
  proto::MerkleDiffReply reply;
  const Hash160 root = primary.root();
  reply.set_primary_root(root.data(), kHashBytes);
  reply.set_guard_index(guard.value);
  reply.set_hash_bytes(hb);
  std::string* sub_hashes = reply.mutable_subpage_hashes();
  for (uint32_t s = 0; s < shape.root_slots(); ++s) {
    const Hash160 mine = primary.subpage_hash(s);
    const std::string_view theirs(request.root_slots().data() + static_cast<size_t>(s) * hb, hb);
    if (std::memcmp(mine.data(), theirs.data(), hb) == 0) continue;
    if (mine == kEmptyHash) {
      reply.add_primary_empty_slots(s);
    } else if (is_zero(theirs)) {
      reply.add_replica_empty_slots(s);
    } else {
      reply.add_subpage_slots(s);
      for (uint32_t t = 0; t < shape.sub_slots(); ++t) {
        append_trunc(sub_hashes, primary.bucket_hash(s * shape.sub_slots() + t), hb);
      }
    }
  }
  return reply;
}

Result<proto::MerkleBucketsReply> answer_buckets(MerkleIndex& primary,
                                                 const proto::MerkleBucketsRequest& request) {
  const MerkleShape& shape = primary.shape();
  const uint32_t hb = request.hash_bytes();
  REPLSIM_RETURN_IF_ERROR(check_hash_bytes(hb));
  const std::vector<uint32_t> buckets = from_deltas<uint32_t>(request.bucket_deltas());
  proto::MerkleBucketsReply reply;
  std::string* out = reply.mutable_entries();
  for (uint32_t b : buckets) {
    if (b >= shape.bucket_count()) return Status::invalid_argument("bucket out of range");
    const std::vector<LeafEntry>& entries = primary.bucket(b);
    reply.add_counts(static_cast<uint32_t>(entries.size()));
    for (const LeafEntry& e : entries) {
      const uint32_t id = key_id(shape, e.position);
      for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(id >> (8 * i)));
      append_trunc(out, e.leaf, hb);
    }
  }
  *reply.mutable_bucket_deltas() = request.bucket_deltas();
  return reply;
}

Result<proto::MerkleSyncReply> answer_sync(MerkleIndex& primary,
                                           const proto::MerkleSyncRequest& request,
                                           const ValueLookup& lookup) {
  const MerkleShape& shape = primary.shape();
  proto::MerkleSyncReply reply;
  for (uint32_t s : request.whole_slots()) {
    if (s >= shape.root_slots()) return Status::invalid_argument("slot out of range");
    for (uint32_t t = 0; t < shape.sub_slots(); ++t) {
      put_range(primary.bucket(s * shape.sub_slots() + t), 0, UINT64_MAX, lookup, &reply);
    }
  }
  for (uint32_t b : from_deltas<uint32_t>(request.whole_bucket_deltas())) {
    if (b >= shape.bucket_count()) return Status::invalid_argument("bucket out of range");
    put_range(primary.bucket(b), 0, UINT64_MAX, lookup, &reply);
  }
  const uint32_t prefix_shift = 32 - bucket_bits(shape);
  for (uint64_t prefix : from_deltas<uint64_t>(request.key_prefix_deltas())) {
    const uint64_t b = prefix >> 32;
    if (b >= shape.bucket_count()) return Status::invalid_argument("key prefix out of range");
    const uint64_t lo = prefix << prefix_shift;
    const uint64_t hi = lo | ((uint64_t{1} << prefix_shift) - 1);
    put_range(primary.bucket(static_cast<uint32_t>(b)), lo, hi, lookup, &reply);
  }
  return reply;
}

}  // namespace replsim::merkle
