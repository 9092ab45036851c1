#include "engine/storage/mount_table.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim {

MountTable::MountTable() : MountTable(std::vector<std::string>{}) {}

MountTable::MountTable(std::vector<std::string> extra_local_prefixes) {
  add_local(std::string(kTokenPrefix));
  add_local(std::string(kLeasePrefix));
  for (std::string& p : extra_local_prefixes) add_local(std::move(p));
}

void MountTable::add_local(std::string prefix) {
  REPLSIM_ASSERT_MSG(!prefix.empty(), "an empty local prefix would make every path local");
  auto it = std::lower_bound(local_prefixes_.begin(), local_prefixes_.end(), prefix);
  if (it != local_prefixes_.end() && *it == prefix) return;
  local_prefixes_.insert(it, std::move(prefix));
}

bool MountTable::is_local(std::string_view path) const {
  for (const std::string& p : local_prefixes_) {
    if (path.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace replsim
