// Which paths are local to a cluster and which are replicated.
//
// Contract: a path is local when it starts with one of the local prefixes ("sys/token/",
// "sys/lease/" by default, plus any configured). Local paths are never written into a WAL
// entry, never shipped and never enter the replicated merkle index; everything else is
// replicated. The table is a plain value: each cluster keeps its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace replsim {

class MountTable {
 public:
  static constexpr std::string_view kTokenPrefix = "sys/token/";
  static constexpr std::string_view kLeasePrefix = "sys/lease/";

  // The default table: tokens and leases are local.
  MountTable();
  // The defaults plus `extra_local_prefixes`.
  explicit MountTable(std::vector<std::string> extra_local_prefixes);

  // REQUIRES: !prefix.empty() (an empty prefix would make everything local).
  void add_local(std::string prefix);
  bool is_local(std::string_view path) const;
  bool is_replicated(std::string_view path) const { return !is_local(path); }
  const std::vector<std::string>& local_prefixes() const { return local_prefixes_; }

 private:
  std::vector<std::string> local_prefixes_;  // sorted, no duplicates
};

}  // namespace replsim
