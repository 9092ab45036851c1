// engine/replication/wal_proto.h — WAL entries to and from their wire form (WalEntryMsg).
#pragma once

#include <cstdint>

#include "engine/wal/wal_entry.h"
#include "proto/replication.pb.h"

namespace replsim::replication {

void to_proto(const WalEntry& entry, int64_t commit_time_us, proto::WalEntryMsg* out);
WalEntry from_proto(const proto::WalEntryMsg& msg);

}  // namespace replsim::replication
