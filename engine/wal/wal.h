// The replication WAL: entries (wal_entry.h) and the bounded buffer with cursors and guards
// (wal_buffer.h). Include this one header.
#pragma once

#include "engine/wal/wal_buffer.h"
#include "engine/wal/wal_entry.h"
