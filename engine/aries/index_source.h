// What the merkle index needs from storage after ARIES restart (docs/design.md §1):
// the replication WAL entries past the index's durable point (roll forward), or, when those
// were garbage-collected, every replicated (path, ciphertext) (rebuild). The replication layer
// implements it over engine/storage + engine/wal; tests implement it over a map.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"
#include "proto/common.pb.h"

namespace replsim::aries {

class IndexSource {
 public:
  virtual ~IndexSource() = default;

  // Calls `fn` for every WAL entry with index > `after`, in index order (only replicated key
  // changes; local paths are never in it). kTooOld when entry after+1 was garbage-collected.
  // An empty run (nothing after `after`) is ok.
  virtual Status for_each_entry_after(
      WalIndex after,
      const std::function<void(WalIndex, const std::vector<proto::KeyChange>&)>& fn) = 0;

  // Calls `fn` for every replicated (path, ciphertext) in storage, and sets `*as_of` to the WAL
  // index storage reflects (every entry up to it applied, none after).
  virtual Status scan(
      WalIndex* as_of,
      const std::function<void(std::string_view path, std::string_view ciphertext)>& fn) = 0;
};

}  // namespace replsim::aries
