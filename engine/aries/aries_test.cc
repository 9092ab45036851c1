#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "engine/aries/aries_index.h"
#include "engine/aries/aries_test_util.h"
#include "engine/aries/extent_allocator.h"
#include "engine/aries/log_record.h"
#include "engine/aries/page_frame.h"
#include "engine/base/crc32c.h"

namespace replsim::aries {
namespace {

using testing::compare_with_storage;
using testing::del;
using testing::ModelStorage;
using testing::put;
using testing::TestEnv;

AriesOptions small_options() {
  AriesOptions o;
  o.shape = merkle::MerkleShape{2, 2};
  o.page_frame_bytes = 4096;
  o.flush_interval_us = 10 * kUsPerMs;
  o.flush_fraction = 0.25;
  o.checkpoint_log_bytes = 4096;
  o.log_segment_bytes = 2048;
  return o;
}

struct Fixture {
  sim::EventLoop loop;
  sim::SimDisk disk{loop, sim::Prng(7), "d", sim::DiskOptions{}};
  ModelStorage storage;
  std::unique_ptr<TestEnv> env;
  std::unique_ptr<AriesIndex> index;
  AriesOptions options = small_options();
  uint64_t seed = 1;

  void open() {
    env = std::make_unique<TestEnv>(loop, disk, seed++);
    auto r = AriesIndex::open(*env, options, storage);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    index = std::move(r.value());
  }
  void crash() {
    index.reset();
    env.reset();
  }
  void commit(std::vector<proto::KeyChange> changes) {
    const WalIndex w = storage.commit(changes);
    index->apply(w, changes);
  }
  void run_ms(int ms) { loop.run_until(loop.now() + ms * kUsPerMs); }
};

// Frames are written unpadded: a shorter frame written over a longer one leaves the longer
// one's tail in the slot, which decoding must ignore.
TEST(PageFrame, ShorterFrameOverALongerOneDecodesAsTheShorterOne) {
  merkle::MerkleShape shape;
  merkle::MerkleIndex tree(shape);
  uint32_t bucket = tree.put("k0", "v");
  for (int i = 1; tree.bucket(bucket).size() < 3; ++i) {
    const std::string k = "k" + std::to_string(i);
    if (shape.bucket_of(merkle::key_position(k)) == bucket) tree.put(k, "v");
  }
  std::vector<merkle::LeafEntry> three = tree.bucket(bucket);
  std::vector<merkle::LeafEntry> one(three.begin(), three.begin() + 1);
  std::string slot = encode_page(bucket, Lsn(7), three, merkle::bucket_hash_of(three), 4096, 0)[0];
  const std::string shorter =
      encode_page(bucket, Lsn(9), one, merkle::bucket_hash_of(one), 4096, 0)[0];
  ASSERT_LT(shorter.size(), slot.size());
  EXPECT_EQ(shorter.size(), kFrameHeaderBytes + payload_bytes(one));
  slot.replace(0, shorter.size(), shorter);
  slot.resize(4096, '\0');
  FrameHeader h;
  std::vector<merkle::LeafEntry> got;
  ASSERT_EQ(decode_page({slot}, shape, &h, &got), FrameState::kValid);
  EXPECT_EQ(h.page_lsn, Lsn(9));
  EXPECT_EQ(got, one);
}

// An image larger than a frame spans an extent; each frame names its page, part, slot and
// pageLSN, so a frame of an older image of the same page, or of another page, is refused.
TEST(PageFrame, OverflowFramesDecodeOnlyAsTheirOwnImage) {
  merkle::MerkleShape shape{1, 1};
  std::vector<merkle::LeafEntry> entries;
  for (int i = 0; entries.size() < 40; ++i) {
    const std::string k = "key/" + std::string(50, 'x') + std::to_string(i);
    const uint64_t p = merkle::key_position(k);
    if (shape.bucket_of(p) == 1) entries.push_back({p, k, merkle::hash_bytes(k)});
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.position != b.position ? a.position < b.position : a.path < b.path;
  });
  const merkle::Hash160 h = merkle::bucket_hash_of(entries);
  const auto frames = encode_page(1, Lsn(30), entries, h, 512, 10);
  ASSERT_EQ(frames.size(), frames_needed(payload_bytes(entries), 512));
  ASSERT_GT(frames.size(), 4u);
  std::vector<std::string_view> views(frames.begin(), frames.end());
  FrameHeader primary;
  std::vector<merkle::LeafEntry> got;
  ASSERT_EQ(decode_page(views, shape, &primary, &got), FrameState::kValid);
  EXPECT_EQ(got, entries);
  EXPECT_EQ(primary.extent_start, 10u);
  const auto older = encode_page(1, Lsn(20), entries, h, 512, 10);
  views[2] = older[2];  // a frame of the previous image at the same slot
  EXPECT_EQ(decode_page(views, shape, &primary, &got), FrameState::kCorrupt);
  const auto moved = encode_page(1, Lsn(30), entries, h, 512, 11);
  views[2] = moved[1];  // the right image's content, but from another slot
  EXPECT_EQ(decode_page(views, shape, &primary, &got), FrameState::kCorrupt);
}

TEST(ExtentAllocator, FirstFitCoalescesAndRebuildsFromTheUsedExtents) {
  ExtentAllocator a(100);
  const Extent e1 = a.allocate(3), e2 = a.allocate(2), e3 = a.allocate(4);
  EXPECT_EQ(e1, (Extent{100, 3}));
  EXPECT_EQ(e2, (Extent{103, 2}));
  EXPECT_EQ(e3, (Extent{105, 4}));
  a.release(e1);
  a.release(e2);
  EXPECT_EQ(a.free_extents(), 1u);  // coalesced
  EXPECT_EQ(a.allocate(5), (Extent{100, 5}));
  a.release(e3);
  EXPECT_EQ(a.allocate(6), (Extent{105, 6}));  // the free tail grows in place
  EXPECT_EQ(a.end_slot(), 111u);
  ASSERT_TRUE(a.init({{104, 2}, {100, 1}}));
  EXPECT_EQ(a.free_slots(), 3u);
  EXPECT_EQ(a.end_slot(), 106u);
  EXPECT_FALSE(a.init({{100, 3}, {102, 1}}));  // overlap: corruption
  EXPECT_FALSE(a.init({{99, 1}}));             // inside the primary frames
}

// Found by fuzz/aries_record_fuzz: a record claiming LSN 0 ("no LSN") decoded when read at 0,
// and re-encoding it tripped encode_record's assertion.
TEST(LogRecordCodec, NoRecordDecodesAtLsnZero) {
  LogRecord rec;
  rec.type = RecordType::kCommit;
  rec.lsn = Lsn(16);
  rec.wal_index = 3;
  std::string bytes = encode_record(rec);
  LogRecord out;
  ASSERT_EQ(decode_record(bytes, Lsn(16), &out), bytes.size());
  const uint64_t zero = 0;  // the LSN field (bytes 8..16), then re-checksum
  std::memcpy(&bytes[8], &zero, 8);
  const uint32_t crc = crc32c::value(std::string_view(bytes).substr(8));
  std::memcpy(&bytes[4], &crc, 4);
  EXPECT_EQ(decode_record(bytes, Lsn{}, &out), 0u);
}

TEST(AriesIndex, ProcessCrashKeepsEverythingAndRecoversEqualToStorage) {
  Fixture f;
  f.open();
  EXPECT_TRUE(f.index->recovery_stats().fresh);
  for (int i = 0; i < 50; ++i) f.commit({put("k" + std::to_string(i), "v" + std::to_string(i))});
  f.run_ms(30);
  f.commit({del("k3"), put("k4", "w")});
  f.crash();
  f.open();
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
  EXPECT_FALSE(f.index->recovery_stats().rebuilt);
}

TEST(AriesIndex, PowerLossRecoversThenRollsForwardFromTheWal) {
  Fixture f;
  f.open();
  for (int i = 0; i < 200; ++i) {
    f.commit({put("k" + std::to_string(i % 70), "v" + std::to_string(i))});
    if (i % 20 == 0) f.run_ms(15);
  }
  f.disk.power_loss();
  f.crash();
  f.open();
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
  EXPECT_FALSE(f.index->recovery_stats().rebuilt);
  EXPECT_GT(f.index->recovery_stats().wal_entries_rolled_forward, 0u);
}

TEST(AriesIndex, GarbageCollectedWalEntriesMeanRebuildAndItIsCounted) {
  Fixture f;
  f.open();
  f.run_ms(8);  // the new index's master record lands (before the first flush tick)
  for (int i = 0; i < 30; ++i) f.commit({put("k" + std::to_string(i), "v")});
  f.disk.power_loss();  // nothing was forced: the index lost everything
  f.crash();
  f.storage.gc_through(20);
  f.open();
  EXPECT_TRUE(f.index->recovery_stats().rebuilt);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
  // The rebuilt generation survives a crash once its master record is durable.
  f.run_ms(50);
  f.disk.power_loss();
  f.crash();
  f.open();
  EXPECT_FALSE(f.index->recovery_stats().rebuilt);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

TEST(AriesIndex, LogSpaceIsReclaimedBehindTheCheckpoint) {
  Fixture f;
  f.open();
  uint64_t peak = 0;
  for (int i = 0; i < 3000; ++i) {
    f.commit({put("k" + std::to_string(i % 40), "v" + std::to_string(i))});
    if (i % 50 == 0) f.run_ms(20);
    peak = std::max(peak, f.index->log_bytes_on_disk());
  }
  // ~3000 records of ~100 bytes were logged; only a few checkpoint intervals stay on disk.
  // ~3000 records of ~100 bytes (~300 KB) were logged. What stays is bounded by the oldest
  // recLSN of the dirty page table (flushing 25 % of dirty pages per tick) and the checkpoint.
  EXPECT_LT(peak, 32u << 10);
  EXPECT_LT(f.disk.file_names().size(), 24u);
}

// Finds a written page frame that the double-write area does (or does not) hold.
uint32_t pick_frame(Fixture& f, const std::string& pages, bool in_dw) {
  const std::string p = f.disk.cached_contents(pages);
  const std::string dw = f.disk.cached_contents("merkle/dw." + pages.substr(13));
  std::set<uint32_t> dw_pages;
  for (size_t off = 0; off + 4096 <= dw.size(); off += 4096) {
    uint32_t page;
    std::memcpy(&page, dw.data() + off + 8, 4);
    dw_pages.insert(page);
  }
  for (uint32_t b = 0; b * 4096 < p.size(); ++b) {
    if (p[b * 4096] == 0) continue;
    if (dw_pages.count(b) == (in_dw ? 1u : 0u)) return b;
  }
  return UINT32_MAX;
}

std::string pages_file(Fixture& f) {
  for (const std::string& n : f.disk.file_names()) {
    if (n.rfind("merkle/pages.", 0) == 0) return n;
  }
  return "";
}

TEST(AriesIndex, CorruptPageHeaderIsDetectedAndTheIndexRebuilt) {
  Fixture f;
  f.open();
  for (int i = 0; i < 40; ++i) f.commit({put("k" + std::to_string(i), "v")});
  f.run_ms(200);  // flushes and checkpoints
  f.crash();
  const std::string pages = pages_file(f);
  ASSERT_FALSE(pages.empty());
  const uint32_t b = pick_frame(f, pages, false);
  ASSERT_NE(b, UINT32_MAX);
  f.disk.inject_bit_rot(pages, b * 4096 + 32);  // the pageLSN field of its header
  f.open();
  EXPECT_TRUE(f.index->recovery_stats().rebuilt);
  EXPECT_NE(f.index->recovery_stats().rebuild_reason.find("bad header"), std::string::npos);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

TEST(AriesIndex, DamagedPageHeldByTheDoubleWriteAreaIsRepairedWithoutRebuild) {
  Fixture f;
  f.open();
  for (int i = 0; i < 40; ++i) f.commit({put("k" + std::to_string(i), "v")});
  f.run_ms(200);
  f.crash();
  const std::string pages = pages_file(f);
  const uint32_t b = pick_frame(f, pages, true);
  ASSERT_NE(b, UINT32_MAX);
  f.disk.inject_bit_rot(pages, b * 4096 + 100);  // inside its payload
  f.open();
  EXPECT_FALSE(f.index->recovery_stats().rebuilt);
  EXPECT_EQ(f.index->recovery_stats().pages_repaired, 1u);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

TEST(AriesIndex, RottenPagePayloadIsDetectedOnLoad) {
  Fixture f;
  f.open();
  for (int i = 0; i < 40; ++i) f.commit({put("k" + std::to_string(i), "v")});
  f.run_ms(200);
  f.crash();
  const std::string pages = pages_file(f);
  const uint32_t b = pick_frame(f, pages, false);
  ASSERT_NE(b, UINT32_MAX);
  f.disk.inject_bit_rot(pages, b * 4096 + 100);
  f.open();
  (void)f.index->tree().bucket(b);  // first access loads and checks it
  EXPECT_EQ(f.index->health().code(), StatusCode::kCorruption);
  f.crash();
  f.options.force_rebuild = true;
  f.open();
  EXPECT_TRUE(f.index->recovery_stats().rebuilt);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

TEST(AriesIndex, TornLogTailIsCutAtTheLastValidRecord) {
  Fixture f;
  f.options.background = false;
  f.open();
  f.run_ms(10);
  for (int i = 0; i < 30; ++i) f.commit({put("k" + std::to_string(i), "v")});
  bool forced = false;
  f.index->force_log([&](Status s) { forced = s.is_ok(); });
  f.run_ms(10);
  ASSERT_TRUE(forced);
  for (int i = 30; i < 60; ++i) f.commit({put("k" + std::to_string(i), "v")});
  f.index->force_log([](Status) {});
  f.disk.power_loss();  // may tear the second force's write anywhere
  f.crash();
  f.open();
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

TEST(AriesIndexDeathTest, WalRuleAssertionCatchesAPageWrittenBeforeItsLogRecord) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(
      {
        Fixture f;
        f.options.background = false;
        f.open();
        f.commit({put("a", "1")});  // logged in memory only: not durable
        f.index->write_page_unforced_for_test(
            f.index->tree().shape().bucket_of(merkle::key_position("a")));
      },
      "WAL rule violated");
}

TEST(AriesIndex, WalRuleHoldsWhenTheLogIsForcedFirst) {
  Fixture f;
  f.options.background = false;
  f.open();
  f.commit({put("a", "1")});
  bool forced = false;
  f.index->force_log([&](Status s) { forced = s.is_ok(); });
  f.run_ms(5);
  ASSERT_TRUE(forced);
  f.index->write_page_unforced_for_test(
      f.index->tree().shape().bucket_of(merkle::key_position("a")));  // no death
}

}  // namespace
}  // namespace replsim::aries

namespace replsim::aries {
namespace {

// Keys whose position falls in bucket `b` of `shape`: "<prefix><i>" for increasing i.
std::vector<std::string> keys_in_bucket(const merkle::MerkleShape& shape, uint32_t b, size_t n,
                                        const std::string& prefix) {
  std::vector<std::string> out;
  for (uint64_t i = 0; out.size() < n; ++i) {
    std::string k = prefix + std::to_string(i);
    if (shape.bucket_of(merkle::key_position(k)) == b) out.push_back(std::move(k));
  }
  return out;
}

// A key longer than a page frame (issue: a 4,100-character path aborted the primary on
// every restart) is logged, flushed, survives a power loss and recovers.
TEST(AriesIndex, KeyLongerThanAPageFrameIsStoredAndRecovered) {
  Fixture f;
  f.open();
  const std::string long_key = "secret/" + std::string(4100 - 7, 'k');
  f.commit({put(long_key, "v1"), put("short", "v")});
  f.run_ms(300);  // flushed and checkpointed
  f.commit({put(long_key, "v2")});
  f.run_ms(300);
  f.disk.power_loss();
  f.crash();
  f.open();
  EXPECT_FALSE(f.index->recovery_stats().rebuilt) << f.index->recovery_stats().rebuild_reason;
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
  EXPECT_TRUE(f.index->tree().find(long_key).has_value());
}

// 100,000 keys in one bucket (a client can choose paths that collide on a bucket): the bucket
// spans many frames; flushes, a power loss, recovery and a rebuild all keep it whole.
TEST(AriesIndex, HundredThousandKeysInOneBucketAreStoredAndRecovered) {
  Fixture f;
  f.options.shape = merkle::MerkleShape{1, 1};
  f.open();
  const std::vector<std::string> keys = keys_in_bucket(f.options.shape, 2, 100'000, "hot/");
  for (size_t i = 0; i < keys.size(); i += 1000) {
    std::vector<proto::KeyChange> txn;
    for (size_t j = i; j < i + 1000; ++j) txn.push_back(put(keys[j], "v"));
    f.commit(std::move(txn));
    f.run_ms(3);
  }
  f.run_ms(500);
  f.commit({put(keys[5], "w"), del(keys[7])});
  f.disk.power_loss();
  f.crash();
  f.open();
  EXPECT_FALSE(f.index->recovery_stats().rebuilt) << f.index->recovery_stats().rebuild_reason;
  EXPECT_EQ(f.index->tree().bucket_size(2), 100'000u - 1);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
  f.crash();
  f.options.force_rebuild = true;
  f.open();
  f.run_ms(500);
  f.crash();
  f.options.force_rebuild = false;
  f.open();
  EXPECT_FALSE(f.index->recovery_stats().rebuilt);
  EXPECT_EQ(compare_with_storage(*f.index, f.storage), "");
}

}  // namespace
}  // namespace replsim::aries
