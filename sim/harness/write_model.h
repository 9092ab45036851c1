// The write model shared by the checkers: every write/delete invocation with its outcome, the
// primary lineage, and the rule for which value a key may hold in a state at (epoch, index).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/harness/history.h"
#include "sim/harness/observations.h"

namespace replsim::harness {

enum class WriteOutcome { kKnown, kFailed, kUnknown };

struct WriteRecord {
  int64_t invoke_index = -1;
  int64_t completion_index = -1;  // -1: never completed
  TimeUs invoke_time_us = 0;
  TimeUs ack_time_us = -1;
  int64_t client = 0;
  uint32_t node = 0;
  uint32_t cluster = 0;            // the session's cluster
  uint32_t served_by_cluster = 0;  // completion: the cluster that committed it
  std::string key;
  std::optional<std::string> value;  // nullopt: a delete
  WriteOutcome outcome = WriteOutcome::kUnknown;
  uint64_t epoch = 0;
  uint64_t index = 0;
  std::string warning;
  bool forwarded = false;
};

// Only writes of replicated workload keys ("kv/...") are modelled.
class WriteModel {
 public:
  WriteModel(const History& history, const Observations& obs);

  const std::vector<WriteRecord>& writes() const { return writes_; }
  // The write whose value is `value` (values are unique per invocation), or null.
  const WriteRecord* by_value(const std::string& value) const;
  // Writes and deletes of `key`, in invocation order.
  std::vector<const WriteRecord*> writes_to(const std::string& key) const;

  // True when a state at (state_epoch, state_index) contains position (epoch, index).
  // state_index = UINT64_MAX means "all of state_epoch".
  bool contains(uint64_t state_epoch, uint64_t state_index, uint64_t epoch, uint64_t index) const;
  const EpochStart* epoch_start(uint64_t epoch) const;
  const std::vector<EpochStart>& epochs() const { return epochs_; }

  // Why `value` (nullopt: absent) may not be the value of `key` in a state at (epoch, index)
  // taken at `time_us`; "" when it may. See checkers.h for the model.
  std::string disallowed(const std::string& key, const std::optional<std::string>& value,
                         uint64_t epoch, uint64_t index, TimeUs time_us) const;
  // disallowed() over every workload key ("kv/...") of `data` and of the writes, in key
  // order; "" if none.
  std::string state_disallowed(const SnapshotData& data, uint64_t epoch, uint64_t index,
                               TimeUs time_us) const;

 private:
  // The epochs a state at (epoch, index) walks back through, with the index it holds of each
  // (what contains() walks), keeping only steps to a lower epoch than every earlier one: a
  // position (e, i) is in the state iff some step has epoch e and i <= its limit.
  struct Lineage {
    std::vector<std::pair<uint64_t, uint64_t>> steps;  // (epoch, limit), epochs decreasing
    bool holds(uint64_t epoch, uint64_t index) const;
  };
  // Per key: its writes in invocation order, its known writes by position (ties in invocation
  // order), and the earliest invocation of a delete whose outcome is unknown.
  struct KeyWrites {
    std::vector<size_t> all;
    std::vector<size_t> known;
    std::vector<std::pair<uint64_t, uint64_t>> known_at;  // (epoch, index) of each `known`
    TimeUs unknown_delete_us = INT64_MAX;
  };
  using KeyIndex = std::vector<std::pair<std::string, KeyWrites>>;  // sorted by key
  Lineage lineage(uint64_t epoch, uint64_t index) const;
  // The latest known write of a key within `l` (the first invoked among equal positions).
  const WriteRecord* latest_within(const KeyWrites& k, const Lineage& l) const;
  // `v` null: the key is absent.
  std::string key_disallowed(const std::string& key, const KeyWrites* k, const std::string* v,
                             const Lineage& l, uint64_t epoch, uint64_t index,
                             TimeUs time_us) const;
  const KeyWrites* key_writes(const std::string& key) const;

  std::vector<WriteRecord> writes_;
  std::unordered_map<std::string, size_t> by_value_;
  std::vector<char> first_of_value_;  // per write: by_value(its value) is this write
  KeyIndex by_key_;
  std::vector<EpochStart> epochs_;
};

bool is_write_op(const std::string& f);
// Lexicographic (epoch, index) order of known writes.
bool position_before(const WriteRecord& a, const WriteRecord& b);

}  // namespace replsim::harness
