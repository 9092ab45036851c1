// Reconciliation between two in-memory indexes, exchanging serialized messages directly.
#include "engine/merkle/reconcile.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

namespace replsim::merkle {
namespace {

using KV = std::map<std::string, std::string>;

template <typename M>
M wire(const M& m) {  // serialize and parse, as the network would
  std::string bytes;
  m.SerializeToString(&bytes);
  M out;
  EXPECT_TRUE(out.ParseFromString(bytes));
  return out;
}

struct Outcome {
  ReconcileStats stats;
  bool verified = false;
  int attempts = 0;
};

// Runs attempts until the replica verifies (at most 2: truncated, then full hashes).
Outcome reconcile(const MerkleShape& shape, const KV& primary_kv, KV* replica_kv) {
  MerkleIndex primary(shape);
  MerkleIndex replica(shape);
  for (auto& [p, v] : primary_kv) primary.put(p, v);
  for (auto& [p, v] : *replica_kv) replica.put(p, v);
  const ValueLookup lookup = [&](std::string_view path) -> std::optional<std::string> {
    auto it = primary_kv.find(std::string(path));
    if (it == primary_kv.end()) return std::nullopt;
    return it->second;
  };
  Outcome out;
  uint32_t hash_bytes = kDefaultHashBytes;
  for (out.attempts = 1; out.attempts <= 2; ++out.attempts) {
    ReplicaReconcile session(hash_bytes);
    auto r1 = answer_diff(primary, WalIndex(7), wire(session.start(replica)));
    EXPECT_TRUE(r1.is_ok());
    auto step = session.on_diff_reply(replica, wire(*r1));
    EXPECT_TRUE(step.is_ok());
    if (step->kind == ReplicaStep::Kind::kSendBuckets) {
      auto r2 = answer_buckets(primary, wire(step->buckets));
      EXPECT_TRUE(r2.is_ok());
      step = session.on_buckets_reply(replica, wire(*r2));
      EXPECT_TRUE(step.is_ok());
    }
    if (step->kind == ReplicaStep::Kind::kSendSync) {
      auto r3 = answer_sync(primary, wire(step->sync), lookup);
      EXPECT_TRUE(r3.is_ok());
      step = session.on_sync_reply(replica, wire(*r3));
      EXPECT_TRUE(step.is_ok());
    }
    for (const proto::KeyChange& c : step->changes) {
      if (c.deleted()) {
        replica.erase(c.path());
        replica_kv->erase(c.path());
      } else {
        replica.put(c.path(), c.ciphertext());
        (*replica_kv)[c.path()] = c.ciphertext();
      }
    }
    out.stats = session.stats();
    EXPECT_EQ(session.guard_index(), WalIndex(7));
    if (session.verify(replica)) {
      out.verified = true;
      break;
    }
    hash_bytes = session.next_hash_bytes();
  }
  return out;
}

RC_GTEST_PROP(Reconcile, RandomPairsBecomeEqualFetchingExactlyTheDifferingKeys, ()) {
  const auto shape = *rc::gen::element(MerkleShape{2, 2}, MerkleShape{3, 3}, MerkleShape{8, 8});
  const int universe = *rc::gen::inRange(1, 400);
  KV primary_kv, replica_kv;
  const auto keys = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, universe), rc::gen::inRange(0, 6)));
  for (auto [k, which] : keys) {
    const std::string path = "secret/k" + std::to_string(k);
    // which: 0 primary only, 1 replica only, 2 both same, 3 both different, else nothing.
    if (which == 0 || which == 2 || which == 3) primary_kv[path] = "v" + std::to_string(k);
    if (which == 1 || which == 2) replica_kv[path] = "v" + std::to_string(k);
    if (which == 3) replica_kv[path] = "old" + std::to_string(k);
  }
  uint64_t need_fetch = 0, need_delete = 0;
  for (auto& [p, v] : primary_kv) {
    auto it = replica_kv.find(p);
    if (it == replica_kv.end() || it->second != v) ++need_fetch;
  }
  for (auto& [p, v] : replica_kv) need_delete += primary_kv.count(p) == 0;
  const Outcome out = reconcile(shape, primary_kv, &replica_kv);
  RC_ASSERT(out.verified);
  RC_ASSERT(replica_kv == primary_kv);
  RC_ASSERT(out.attempts == 1);  // 32-bit truncation never collided here
  RC_ASSERT(out.stats.keys_fetched == need_fetch);
  RC_ASSERT(out.stats.keys_deleted == need_delete);
  RC_ASSERT(out.stats.round_trips <= 2u);
  RC_TAG(out.stats.round_trips);
}

TEST(Reconcile, EqualSetsTakeOneRoundTripAndNoFetch) {
  KV kv{{"a", "1"}, {"b", "2"}};
  KV replica = kv;
  const Outcome out = reconcile(MerkleShape{}, kv, &replica);
  EXPECT_TRUE(out.verified);
  EXPECT_EQ(out.stats.round_trips, 1u);
  EXPECT_EQ(out.stats.keys_fetched, 0u);
}

TEST(Reconcile, OneByteHashesCollideAndTheFullRootCheckRetries) {
  // With 1-byte truncation, some differences hide; verify() must catch it and the full-hash
  // attempt must finish the job.
  KV primary_kv, replica_kv;
  for (int i = 0; i < 3000; ++i) primary_kv["k" + std::to_string(i)] = "v";
  replica_kv = primary_kv;
  for (int i = 0; i < 3000; i += 3) replica_kv["k" + std::to_string(i)] = "x";
  MerkleShape shape{2, 2};
  MerkleIndex primary(shape), replica(shape);
  for (auto& [p, v] : primary_kv) primary.put(p, v);
  for (auto& [p, v] : replica_kv) replica.put(p, v);
  ReplicaReconcile session(1);
  auto r1 = answer_diff(primary, WalIndex(1), session.start(replica));
  ASSERT_TRUE(r1.is_ok());
  auto step = session.on_diff_reply(replica, *r1);
  ASSERT_TRUE(step.is_ok());
  ASSERT_EQ(step->kind, ReplicaStep::Kind::kSendBuckets);
  auto r2 = answer_buckets(primary, step->buckets);
  step = session.on_buckets_reply(replica, *r2);
  ASSERT_TRUE(step.is_ok());
  const ValueLookup lookup = [&](std::string_view p) -> std::optional<std::string> {
    return primary_kv.at(std::string(p));
  };
  auto r3 = answer_sync(primary, step->sync, lookup);
  step = session.on_sync_reply(replica, *r3);
  for (auto& c : step->changes) replica.put(c.path(), c.ciphertext());
  EXPECT_FALSE(session.verify(replica));  // ~1/256 of 1000 changed leaves collide
  EXPECT_EQ(session.next_hash_bytes(), kHashBytes);
}

TEST(Reconcile, ShapeMismatchIsAnError) {
  MerkleIndex a(MerkleShape{2, 2}), b(MerkleShape{3, 2});
  ReplicaReconcile session;
  auto r = answer_diff(a, WalIndex(0), session.start(b));
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace replsim::merkle
