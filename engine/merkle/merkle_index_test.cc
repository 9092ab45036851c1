#include "engine/merkle/merkle_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace replsim::merkle {
namespace {

TEST(MerkleIndex, EmptyRootIsZeroAndHexIs40Digits) {
  MerkleIndex index;
  EXPECT_EQ(index.root(), kEmptyHash);
  EXPECT_EQ(index.root_hex().size(), 40u);
}

TEST(MerkleIndex, PutThenEraseRestoresRoot) {
  MerkleIndex index;
  index.put("a", "1");
  const Hash160 one = index.root();
  index.put("b", "2");
  EXPECT_NE(index.root(), one);
  index.erase("b");
  EXPECT_EQ(index.root(), one);
  index.erase("a");
  EXPECT_EQ(index.root(), kEmptyHash);
  EXPECT_EQ(index.size(), 0u);
}

TEST(MerkleIndex, ValueChangeChangesRoot) {
  MerkleIndex index;
  index.put("a", "1");
  const Hash160 one = index.root();
  index.put("a", "2");
  EXPECT_NE(index.root(), one);
  EXPECT_EQ(index.size(), 1u);
}

RC_GTEST_PROP(MerkleIndex, RootDependsOnlyOnFinalEntriesNotWriteOrder,
              (std::vector<std::pair<uint8_t, uint8_t>> ops, uint64_t seed)) {
  const MerkleShape shape{3, 2};
  MerkleIndex a(shape);
  std::map<std::string, std::string> final_state;
  for (auto [k, v] : ops) {
    const std::string path = "k" + std::to_string(k % 64);
    if (v % 5 == 0) {
      a.erase(path);
      final_state.erase(path);
    } else {
      a.put(path, std::to_string(v));
      final_state[path] = std::to_string(v);
    }
  }
  std::vector<std::pair<std::string, std::string>> entries(final_state.begin(), final_state.end());
  std::mt19937_64 g(seed);
  std::shuffle(entries.begin(), entries.end(), g);
  MerkleIndex b(shape);
  for (auto& [p, v] : entries) b.put(p, v);
  RC_ASSERT(a.root() == b.root());
  RC_ASSERT(a.size() == final_state.size());
  for (uint32_t i = 0; i < shape.bucket_count(); ++i) RC_ASSERT(a.bucket(i) == b.bucket(i));
}

TEST(MerkleIndex, UnloadedBucketsLoadOnFirstAccess) {
  const MerkleShape shape{2, 2};
  MerkleIndex full(shape);
  for (int i = 0; i < 100; ++i) full.put("p" + std::to_string(i), "v");
  MerkleIndex lazy(shape);
  int loads = 0;
  lazy.set_loader([&](uint32_t b) {
    ++loads;
    return full.bucket(b);
  });
  for (uint32_t b = 0; b < shape.bucket_count(); ++b) {
    lazy.set_bucket_unloaded(b, full.bucket_hash(b), full.bucket_size(b));
  }
  EXPECT_EQ(lazy.root(), full.root());
  EXPECT_EQ(loads, 0);
  EXPECT_EQ(lazy.size(), 100u);
  lazy.put("p1", "w");
  EXPECT_EQ(loads, 1);
  full.put("p1", "w");
  EXPECT_EQ(lazy.root(), full.root());
}

// A bucket large enough to take changes through its pending map (1 bucket in a {1,1} shape
// gets ~1/4 of 4,000 keys) reads, sizes and hashes exactly as a model of its entries does,
// whichever mix of inserts, updates, removals and reads reached it.
TEST(MerkleIndex, LargeBucketWithPendingChangesEqualsAModel) {
  const MerkleShape shape{1, 1};
  MerkleIndex index(shape);
  std::map<std::string, std::string> model;
  std::mt19937_64 rnd(5);
  for (int step = 0; step < 40'000; ++step) {
    const std::string path = "p/" + std::to_string(rnd() % 4000);
    const uint64_t what = rnd() % 100;
    if (what < 60) {
      const std::string v = std::to_string(rnd() % 3);
      EXPECT_EQ(index.set_leaf(key_position(path), path, leaf_hash(path, v)).has_value(),
                model.count(path) == 1);
      model[path] = v;
    } else if (what < 90) {
      index.erase(path);
      model.erase(path);
    } else if (what < 95) {
      EXPECT_EQ(index.find(path).has_value(), model.count(path) == 1);
    } else {
      const uint32_t b = static_cast<uint32_t>(rnd() % shape.bucket_count());
      (void)index.bucket(b);  // a read merges what is pending
    }
    ASSERT_EQ(index.size(), model.size());
  }
  MerkleIndex rebuilt(shape);
  for (const auto& [p, v] : model) rebuilt.put(p, v);
  for (uint32_t b = 0; b < shape.bucket_count(); ++b) {
    EXPECT_GT(rebuilt.bucket_size(b), 256u);  // the pending path was taken
    EXPECT_EQ(index.bucket_size(b), rebuilt.bucket_size(b));
    EXPECT_EQ(index.bucket_hash(b), rebuilt.bucket_hash(b));
    EXPECT_EQ(index.bucket(b), rebuilt.bucket(b));
  }
  EXPECT_EQ(index.root(), rebuilt.root());
}

}  // namespace
}  // namespace replsim::merkle
