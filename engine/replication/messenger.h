// engine/replication/messenger.h — sending NodeEnvelopes, and shared replication helpers.
#pragma once

#include <string>

#include "engine/base/hex.h"
#include "engine/base/sha256.h"
#include "engine/env.h"
#include "engine/wal/wal_entry.h"
#include "proto/replication.pb.h"

namespace replsim::replication {

inline void send_envelope(Env& env, NodeId to, const proto::NodeEnvelope& envelope) {
  std::string bytes;
  envelope.SerializeToString(&bytes);
  env.send(to, std::move(bytes));
}

// SHA-256 of `data` (raw 32 bytes).
using base::from_hex;  // engine/base: the one hex codec and SHA-256 wrapper
using base::sha256;
using base::to_hex;
std::string credential_proof(const std::string& secondary_id, const std::string& credential);

// Activation key wrapping: AES-256-GCM under `wrap_key` (32 bytes), `label` authenticated.
std::string wrap(Random& random, const std::string& wrap_key, std::string_view label,
                 std::string_view plaintext);
Result<std::string> unwrap(Random& random, const std::string& wrap_key, std::string_view label,
                           std::string_view wrapped);

void to_proto(const WalEntry& entry, int64_t commit_time_us, proto::WalEntryMsg* out);
WalEntry from_proto(const proto::WalEntryMsg& msg);

// Epochs are unique per promoting cluster: (counter << 8) | (cluster & 0xff), so two clusters
// promoted from the same epoch never share one.
inline uint64_t next_epoch(uint64_t highest_seen, uint32_t cluster) {
  return (((highest_seen >> 8) + 1) << 8) | (cluster & 0xff);
}

}  // namespace replsim::replication
