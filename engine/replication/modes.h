// engine/replication/modes.h — Vault's names of replication modes and states, for the API edge.
//
// The engine holds modes and states as proto::ReplicationMode / proto::ReplicationState and
// compares only those values; these names appear only where a person or Vault's API reads
// them (ReplicationStatus.mode / .state, the observer's state callback, log text).
#pragma once

#include <string_view>

#include "proto/api.pb.h"

namespace replsim::replication {

// "unknown", "disabled", "primary", "secondary".
std::string_view mode_name(proto::ReplicationMode mode);
// "unknown", "idle", "connecting", "merkle-diff", "merkle-sync", "stream-wals", "running".
std::string_view state_name(proto::ReplicationState state);

}  // namespace replsim::replication
