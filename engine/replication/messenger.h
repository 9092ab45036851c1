// engine/replication/messenger.h — compatibility umbrella: include the topic headers instead.
//   envelope.h     send_envelope
//   credentials.h  sha256, hex, credential proofs, activation key wrapping
//   wal_proto.h    WalEntry <-> WalEntryMsg
//   epochs.h       next_epoch
#pragma once

#include "engine/replication/credentials.h"
#include "engine/replication/envelope.h"
#include "engine/replication/epochs.h"
#include "engine/replication/wal_proto.h"
