// Shared by aries_restart_fuzz.cc and the seed generator: the ARIES index options and the
// storage (IndexSource) both use, so that captured index files match the storage they are
// restarted against.
#pragma once

#include <string>

#include "engine/aries/aries_index.h"
#include "engine/aries/aries_test_util.h"

namespace replsim::fuzz {

inline aries::AriesOptions aries_fuzz_options() {
  aries::AriesOptions o;
  o.dir = "merkle";
  o.shape = merkle::MerkleShape{2, 2};  // 16 pages
  o.page_frame_bytes = 512;             // a page file of 8 KiB: small fuzz inputs
  o.flush_interval_us = 10 * kUsPerMs;
  o.flush_fraction = 0.25;
  o.checkpoint_log_bytes = 2048;
  o.log_segment_bytes = 1024;
  return o;
}

constexpr int kAriesFuzzEntries = 40;

// WAL entry i (1-based) of the storage every aries_restart input is restarted against.
inline std::vector<proto::KeyChange> aries_fuzz_entry(int i) {
  if (i % 7 == 0) return {aries::testing::del("k" + std::to_string(i % 11))};
  return {aries::testing::put("k" + std::to_string(i % 11), "v" + std::to_string(i)),
          aries::testing::put("j" + std::to_string(i % 5), std::to_string(i))};
}

// Storage after `entries` entries, the first `gc_through` garbage-collected.
inline void fill_aries_fuzz_storage(aries::testing::ModelStorage* storage, int entries,
                                    uint64_t gc_through) {
  for (int i = 1; i <= entries; ++i) storage->commit(aries_fuzz_entry(i));
  storage->gc_through(gc_through);
}

}  // namespace replsim::fuzz
