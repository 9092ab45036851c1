// A replication WAL entry: what one committed transaction changed on replicated paths.
//
// Contract: `index` is cluster-monotonic (the primary assigns index = previous + 1 inside the
// storage transaction that holds the key changes); `epoch` is the primary lineage it was written
// in. Values are barrier ciphertext only: the WAL never sees plaintext. Local paths (tokens,
// leases, local mounts) never appear in an entry.
//
// Binary encoding (encode_wal_entry): fixed32 masked CRC-32C of the rest | fixed64 index |
// fixed64 epoch | varint count | count x (u8 deleted | length-prefixed path |
// length-prefixed ciphertext). decode_wal_entry verifies the checksum and the structure.
// The replication wire carries these bytes as-is (a `bytes` field).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace replsim {

struct KeyChange {
  std::string path;
  std::string ciphertext;  // empty when deleted
  bool deleted = false;

  bool operator==(const KeyChange&) const = default;
};

struct WalEntry {
  WalIndex index;
  Epoch epoch;
  std::vector<KeyChange> changes;

  bool operator==(const WalEntry&) const = default;
};

std::string encode_wal_entry(const WalEntry& entry);
// kCorruption when the checksum or the structure is wrong.
Result<WalEntry> decode_wal_entry(std::string_view bytes);
// Bytes of encode_wal_entry(entry), without encoding it (batch byte bounds use this).
size_t wal_entry_encoded_bytes(const WalEntry& entry);

}  // namespace replsim
