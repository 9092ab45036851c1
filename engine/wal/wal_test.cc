#include "engine/wal/wal.h"

#include <gtest/gtest.h>

#include "engine/base/crc32c.h"

namespace replsim {
namespace {

WalEntry entry(uint64_t index, size_t value_bytes = 8) {
  return WalEntry{WalIndex(index),
                  Epoch(1),
                  {{"secret/k" + std::to_string(index), std::string(value_bytes, 'x'), false},
                   {"secret/gone", "", true}}};
}

WalBuffer filled(WalOptions options, uint64_t first, uint64_t last) {
  WalBuffer wal(options);
  if (first > 1) wal.reset(WalIndex(first - 1));
  for (uint64_t i = first; i <= last; ++i) wal.append(entry(i), 0);
  return wal;
}

TEST(Crc32c, MatchesKnownVectors) {
  EXPECT_EQ(crc32c::value("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c::unmask(crc32c::mask(0x12345678u)), 0x12345678u);
}

// Every length and split point agrees with a bitwise reference (the hardware path works 8
// bytes at a time, then byte by byte).
TEST(Crc32c, AgreesWithBitwiseReferenceAtEveryLengthAndSplit) {
  auto reference = [](std::string_view d) {
    uint32_t c = 0xffffffffu;
    for (unsigned char b : d) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return ~c;
  };
  std::string data;
  for (int i = 0; i < 70; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t n = 0; n <= data.size(); ++n) {
    const std::string_view d(data.data(), n);
    ASSERT_EQ(crc32c::value(d), reference(d)) << n;
    for (size_t split = 0; split <= n; split += 3) {
      EXPECT_EQ(crc32c::extend(crc32c::value(d.substr(0, split)), d.substr(split)), reference(d));
    }
  }
}

TEST(WalEntry, EncodingRoundTripsAndSizeIsExact) {
  const WalEntry e = entry(42, 1000);
  const std::string bytes = encode_wal_entry(e);
  EXPECT_EQ(bytes.size(), wal_entry_encoded_bytes(e));
  Result<WalEntry> back = decode_wal_entry(bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, e);
}

// Found by fuzz/store_recovery_fuzz: an entry (or a store record) with WAL index 0 passed its
// checksum, and recovery restarted the WAL buffer at index 0 - 1, then tripped its order
// assertion. Indexes start at 1: 0 is corruption.
TEST(WalEntry, IndexZeroIsCorruption) {
  Result<WalEntry> back = decode_wal_entry(encode_wal_entry(entry(0)));
  EXPECT_EQ(back.status().code(), StatusCode::kCorruption);
  EXPECT_NE(back.status().message().find("index 0"), std::string::npos);
}

TEST(WalEntry, EveryFlippedBitIsDetected) {
  const std::string bytes = encode_wal_entry(entry(7));
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string bad = bytes;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(decode_wal_entry(bad).status().code(), StatusCode::kCorruption) << bit;
  }
  EXPECT_FALSE(decode_wal_entry(bytes.substr(0, bytes.size() - 1)).is_ok());
}

TEST(WalBuffer, GcNeverExceedsTheBound) {
  WalOptions o;
  o.buffer_entries_max = 10;
  WalBuffer wal(o);
  for (uint64_t i = 1; i <= 100; ++i) {
    wal.append(entry(i), 0);
    ASSERT_LE(wal.size(), 10u);
    ASSERT_EQ(wal.last_index(), WalIndex(i));
  }
  EXPECT_EQ(wal.first_index(), WalIndex(91));
  EXPECT_EQ(wal.stats().gc_entries, 90u);
}

TEST(WalBuffer, TooOldExactlyBeforeTheOldestRetained) {
  WalOptions o;
  o.buffer_entries_max = 10;
  WalBuffer wal = filled(o, 1, 25);  // retains 16..25
  EXPECT_EQ(wal.read_batch(WalIndex(15)).status().code(), StatusCode::kTooOld);
  Result<WalBatch> oldest = wal.read_batch(WalIndex(16));
  ASSERT_TRUE(oldest.is_ok());
  EXPECT_EQ(oldest->entries.size(), 10u);
  EXPECT_EQ(oldest->entries.front().index, WalIndex(16));
  Result<WalBatch> caught_up = wal.read_batch(WalIndex(26));
  ASSERT_TRUE(caught_up.is_ok());
  EXPECT_TRUE(caught_up->entries.empty());
  EXPECT_EQ(caught_up->next, WalIndex(26));
  EXPECT_EQ(wal.read_batch(WalIndex(27)).status().code(), StatusCode::kInvalidArgument);
}

TEST(WalBuffer, EmptyBufferIsCaughtUpAtOne) {
  WalBuffer wal;
  Result<WalBatch> b = wal.read_batch(WalIndex(1));
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(b->entries.empty());
  EXPECT_EQ(wal.read_batch(WalIndex(0)).status().code(), StatusCode::kTooOld);
}

TEST(WalBuffer, BatchesBoundedByEntriesAndBytes) {
  WalOptions o;
  o.batch_entries_max = 63;
  o.batch_bytes_max = 128 * 1024;
  WalBuffer wal = filled(o, 1, 200);
  Result<WalBatch> b = wal.read_batch(WalIndex(1));
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->entries.size(), 63u);

  WalBuffer big(o);
  for (uint64_t i = 1; i <= 10; ++i) big.append(entry(i, 50 * 1024), 0);
  b = big.read_batch(WalIndex(1));
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->entries.size(), 2u);  // a third would pass 128 KiB
  EXPECT_LE(b->bytes, o.batch_bytes_max);

  WalBuffer huge(o);
  huge.append(entry(1, 300 * 1024), 0);
  huge.append(entry(2), 0);
  b = huge.read_batch(WalIndex(1));
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->entries.size(), 1u);  // an oversized entry ships alone
  EXPECT_EQ(b->next, WalIndex(2));
}

TEST(WalCursor, ReadsEveryEntryOnceInOrder) {
  WalOptions o;
  o.batch_entries_max = 7;
  WalBuffer wal = filled(o, 1, 50);
  WalCursor cursor(wal, WalIndex(1));
  uint64_t expect = 1;
  for (int round = 0; round < 20; ++round) {
    Result<WalBatch> b = cursor.next_batch();
    ASSERT_TRUE(b.is_ok());
    for (const WalEntry& e : b->entries) EXPECT_EQ(e.index, WalIndex(expect++));
  }
  EXPECT_EQ(expect, 51u);
  EXPECT_EQ(cursor.position(), WalIndex(51));
}

TEST(WalBuffer, GuardPinsEntriesUpToTheHardBound) {
  WalOptions o;
  o.buffer_entries_max = 10;
  o.guard_entries_extra_max = 5;
  WalBuffer wal = filled(o, 1, 10);
  Result<WalGuardId> g = wal.add_guard(WalIndex(3), 0);
  ASSERT_TRUE(g.is_ok());
  for (uint64_t i = 11; i <= 12; ++i) wal.append(entry(i), 0);
  EXPECT_EQ(wal.first_index(), WalIndex(3));  // 1..2 gone, 3 pinned
  for (uint64_t i = 13; i <= 17; ++i) wal.append(entry(i), 0);
  EXPECT_EQ(wal.size(), 15u);
  EXPECT_EQ(wal.first_index(), WalIndex(3));
  EXPECT_TRUE(wal.read_batch(WalIndex(3)).is_ok());
  wal.append(entry(18), 0);  // passing the hard bound breaks the guard
  EXPECT_FALSE(wal.guard_live(*g));
  EXPECT_EQ(wal.stats().guards_broken, 1u);
  EXPECT_LE(wal.size(), 10u);
  EXPECT_EQ(wal.read_batch(WalIndex(3)).status().code(), StatusCode::kTooOld);
}

TEST(WalBuffer, GuardExpiresAfterItsTtlAndReleaseFreesEntries) {
  WalOptions o;
  o.buffer_entries_max = 10;
  o.guard_ttl_us = 1000;
  WalBuffer wal = filled(o, 1, 10);
  Result<WalGuardId> g = wal.add_guard(WalIndex(1), 0);
  ASSERT_TRUE(g.is_ok());
  wal.append(entry(11), 999);
  EXPECT_TRUE(wal.guard_live(*g));
  EXPECT_EQ(wal.first_index(), WalIndex(1));
  wal.append(entry(12), 1000);
  EXPECT_FALSE(wal.guard_live(*g));
  EXPECT_EQ(wal.stats().guards_expired, 1u);
  EXPECT_EQ(wal.size(), 10u);

  Result<WalGuardId> g2 = wal.add_guard(WalIndex(3), 1000);
  ASSERT_TRUE(g2.is_ok());
  wal.append(entry(13), 1001);
  EXPECT_EQ(wal.size(), 11u);
  wal.release_guard(*g2);
  EXPECT_EQ(wal.size(), 10u);
}

TEST(WalBuffer, GuardsAreBoundedInCountAndRefuseGoneIndices) {
  WalOptions o;
  o.buffer_entries_max = 10;
  o.guards_max = 2;
  WalBuffer wal = filled(o, 1, 20);
  EXPECT_EQ(wal.add_guard(WalIndex(5), 0).status().code(), StatusCode::kTooOld);
  EXPECT_TRUE(wal.add_guard(WalIndex(11), 0).is_ok());
  EXPECT_TRUE(wal.add_guard(WalIndex(21), 0).is_ok());
  EXPECT_EQ(wal.add_guard(WalIndex(15), 0).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(wal.guards(), 2u);
}

TEST(WalBuffer, GapStartsANewRun) {
  WalBuffer wal = filled({}, 1, 5);
  wal.append(entry(9), 0);
  EXPECT_EQ(wal.first_index(), WalIndex(9));
  EXPECT_EQ(wal.size(), 1u);
  EXPECT_EQ(wal.stats().gap_resets, 1u);
  EXPECT_EQ(wal.read_batch(WalIndex(6)).status().code(), StatusCode::kTooOld);
}

}  // namespace
}  // namespace replsim
