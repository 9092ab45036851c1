// Internal: the on-disk record formats of the Store (not part of its public API).
//
// Frame: fixed32 payload bytes | fixed32 masked CRC-32C of (type byte, payload) | u8 type |
// payload. A frame is valid only whole and with a matching checksum; a torn or zeroed tail
// never parses as a frame.
//
// data.log holds kTransaction frames, one per transaction, with consecutive sequence numbers.
// snapshot holds kSnapshotHeader, kSnapshotKeys*, kSnapshotWal*, kSnapshotFooter: the state
// after every transaction with seq <= header.seq.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/storage/store.h"
#include "engine/wal/wal_entry.h"

namespace replsim {

enum class RecordType : uint8_t {
  kTransaction = 1,
  kSnapshotHeader = 2,
  kSnapshotKeys = 3,
  kSnapshotWal = 4,
  kSnapshotFooter = 5,
};

constexpr size_t kFrameHeaderBytes = 9;
constexpr uint32_t kFramePayloadMax = 256u << 20;

struct Frame {
  RecordType type;
  std::string_view payload;
  size_t bytes = 0;  // whole frame
};

void append_frame(std::string* out, RecordType type, std::string_view payload);
// The frame at the front of `in`, or nullopt when there is no whole valid frame there.
std::optional<Frame> parse_frame(std::string_view in);

struct StoredMutation {
  Mutation mutation;
  bool in_wal = false;  // part of this record's WAL entry
};

// One transaction, as written to data.log.
struct StoreRecord {
  uint64_t seq = 0;
  std::vector<StoredMutation> mutations;
  std::optional<WalIndex> wal_index;  // the WAL entry = the in_wal mutations, in order
  Epoch wal_epoch;
  std::optional<LockGeneration> new_generation;
  std::optional<Epoch> new_epoch;
  std::optional<RemotePosition> last_remote;

  WalEntry wal_entry() const;  // REQUIRES: wal_index
};

std::string encode_record(const StoreRecord& record);
Result<StoreRecord> decode_record(std::string_view payload);

struct SnapshotHeader {
  uint64_t seq = 0;
  LockGeneration generation;
  Epoch epoch;
  WalIndex last_wal_index;
  std::optional<RemotePosition> last_remote;
  uint64_t key_count = 0;
  uint64_t wal_count = 0;
};

std::string encode_snapshot_header(const SnapshotHeader& header);
Result<SnapshotHeader> decode_snapshot_header(std::string_view payload);

}  // namespace replsim
