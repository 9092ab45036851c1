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
#include "engine/types.h"

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

// LSNs are Lsn (engine/types.h): byte offsets in a generation's log; Lsn{} (0) means none.
struct DptEntry {
  uint32_t page = 0;
  Lsn rec_lsn;
};

struct TxnEntry {
  uint64_t txn = 0;
  Lsn last_lsn;
  Lsn undo_next;
};

struct LogRecord {
  RecordType type = RecordType::kEnd;
  Lsn lsn;
  uint64_t txn = 0;
  Lsn prev_lsn;
  // kUpdate, kClr
  uint32_t page = 0;
  uint64_t position = 0;
  std::string path;
  std::optional<merkle::Hash160> before;  // kUpdate only
  std::optional<merkle::Hash160> after;
  Lsn undo_next;  // kClr
  // kCommit, kEndCheckpoint
  uint64_t wal_index = 0;
  // kEndCheckpoint
  Lsn begin_lsn;
  std::vector<DptEntry> dpt;
  std::vector<TxnEntry> txns;
};

// REQUIRES: record.lsn set; path shorter than 64 KiB.
std::string encode_record(const LogRecord& record);
// Decodes the record at the start of `bytes`, which was read at `lsn`. Returns its encoded
// length, or 0 when no valid record starts there (torn, corrupt, or stale bytes).
size_t decode_record(std::string_view bytes, Lsn lsn, LogRecord* out);
// Length field of a record header (first 4 bytes), 0 when fewer than 8 bytes.
uint32_t peek_record_length(std::string_view bytes);

}  // namespace replsim::aries
