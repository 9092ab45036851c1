// ARIES log records of the merkle page store, and their checksummed encoding.
//
// Encoding: [u32 total length][u32 CRC32C of the rest][u64 lsn][u8 type][u64 txn][u64 prevLSN]
// then the type's payload. A record decodes only when its length is sane, its CRC matches and
// its lsn field equals the offset it was read at (which also catches misdirected writes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/merkle/hash.h"

namespace replsim::aries {

constexpr uint64_t kRecordBytesMax = 64ull << 20;

enum class RecordType : uint8_t {
  kUpdate = 1,  // redo: set (position, path) to `after`; undo: to `before`
  kClr = 2,     // compensation: redo sets `after`; never undone; undo_next
  kCommit = 3,  // the transaction (one WAL entry) committed; it is also its end
  kEnd = 4,     // a rolled-back transaction is finished
  kBeginCheckpoint = 5,
  kEndCheckpoint = 6,  // dirty page table, transaction table, applied WAL index
};

struct DptEntry {
  uint32_t page = 0;
  uint64_t rec_lsn = 0;
};

struct TxnEntry {
  uint64_t txn = 0;
  uint64_t last_lsn = 0;
  uint64_t undo_next = 0;
};

struct LogRecord {
  RecordType type = RecordType::kEnd;
  uint64_t lsn = 0;
  uint64_t txn = 0;
  uint64_t prev_lsn = 0;
  // kUpdate, kClr
  uint32_t page = 0;
  uint64_t position = 0;
  std::string path;
  std::optional<merkle::Hash160> before;  // kUpdate only
  std::optional<merkle::Hash160> after;
  uint64_t undo_next = 0;  // kClr
  // kCommit, kEndCheckpoint
  uint64_t wal_index = 0;
  // kEndCheckpoint
  uint64_t begin_lsn = 0;
  std::vector<DptEntry> dpt;
  std::vector<TxnEntry> txns;
};

// REQUIRES: record.lsn set; path shorter than 64 KiB.
std::string encode_record(const LogRecord& record);
// Decodes the record at the start of `bytes`, which was read at `lsn`. Returns its encoded
// length, or 0 when no valid record starts there (torn, corrupt, or stale bytes).
size_t decode_record(std::string_view bytes, uint64_t lsn, LogRecord* out);
// Length field of a record header (first 4 bytes), 0 when fewer than 8 bytes.
uint32_t peek_record_length(std::string_view bytes);

}  // namespace replsim::aries
