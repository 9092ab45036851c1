// engine/replication/epochs.h — epoch numbers of primary lineages.
#pragma once

#include <cstdint>

namespace replsim::replication {

// Epochs are unique per promoting cluster: (counter << 8) | (cluster & 0xff), so two clusters
// promoted from the same epoch never share one.
inline uint64_t next_epoch(uint64_t highest_seen, uint32_t cluster) {
  return (((highest_seen >> 8) + 1) << 8) | (cluster & 0xff);
}

}  // namespace replsim::replication
