#include "sim/harness/write_model.h"

#include <set>
#include <sstream>

namespace replsim::harness {

bool is_write_op(const std::string& f) { return f == kOpWrite || f == kOpDelete; }

bool position_before(const WriteRecord& a, const WriteRecord& b) {
  return a.epoch != b.epoch ? a.epoch < b.epoch : a.index < b.index;
}

WriteModel::WriteModel(const History& history, const Observations& obs) : epochs_(obs.epochs) {
  std::map<uint64_t, size_t> by_op;
  for (const HistoryEvent& e : history.events()) {
    // Replicated workload keys only: local paths have their own, per-cluster positions.
    if (e.client < 0 || !is_write_op(e.f) || e.key.compare(0, 3, "kv/") != 0) continue;
    if (e.type == EventType::kInvoke) {
      WriteRecord w;
      w.invoke_index = e.index;
      w.invoke_time_us = e.time_us;
      w.client = e.client;
      w.node = e.node;
      w.cluster = e.cluster;
      w.key = e.key;
      if (e.f == kOpWrite) w.value = e.value.value_or("");
      by_op[e.op_id] = writes_.size();
      writes_.push_back(std::move(w));
      continue;
    }
    auto it = by_op.find(e.op_id);
    if (it == by_op.end()) continue;
    WriteRecord& w = writes_[it->second];
    if (w.completion_index >= 0) continue;  // only the first completion counts
    w.completion_index = e.index;
    w.ack_time_us = e.time_us;
    w.served_by_cluster = e.served_by_cluster;
    w.warning = e.warning;
    w.forwarded = e.forwarded;
    if (e.type == EventType::kOk && e.epoch != 0) {  // no index state: position unknown
      w.outcome = WriteOutcome::kKnown;
      w.epoch = e.epoch;
      w.index = e.wal_index;
    } else if (e.type == EventType::kFail) {
      w.outcome = WriteOutcome::kFailed;
    }
  }
  for (size_t i = 0; i < writes_.size(); ++i) {
    if (writes_[i].value.has_value()) by_value_.emplace(*writes_[i].value, i);
    by_key_[writes_[i].key].push_back(i);
  }
}

const WriteRecord* WriteModel::by_value(const std::string& value) const {
  auto it = by_value_.find(value);
  return it == by_value_.end() ? nullptr : &writes_[it->second];
}

std::vector<const WriteRecord*> WriteModel::writes_to(const std::string& key) const {
  std::vector<const WriteRecord*> out;
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return out;
  for (size_t i : it->second) out.push_back(&writes_[i]);
  return out;
}

const EpochStart* WriteModel::epoch_start(uint64_t epoch) const {
  const EpochStart* found = nullptr;
  for (const EpochStart& e : epochs_) {
    if (e.epoch == epoch) found = &e;  // the latest record of an epoch wins
  }
  return found;
}

bool WriteModel::contains(uint64_t state_epoch, uint64_t state_index, uint64_t epoch,
                          uint64_t index) const {
  uint64_t e = state_epoch;
  uint64_t limit = state_index;
  for (size_t hops = 0; hops <= epochs_.size() + 1; ++hops) {
    if (e == epoch) return index <= limit;
    if (e < epoch) return false;
    const EpochStart* start = epoch_start(e);
    if (start == nullptr || start->parent_epoch == 0) return false;
    limit = start->fork_index;
    e = start->parent_epoch;
  }
  return false;
}

static std::string show(const std::optional<std::string>& v) {
  return v.has_value() ? "\"" + v->substr(0, 48) + "\"" : "absent";
}

std::string WriteModel::disallowed(const std::string& key, const std::optional<std::string>& v,
                                   uint64_t epoch, uint64_t index, TimeUs time_us) const {
  const WriteRecord* latest = nullptr;
  bool unknown_delete = false;
  for (const WriteRecord* w : writes_to(key)) {
    if (w->outcome == WriteOutcome::kUnknown && !w->value && w->invoke_time_us <= time_us) {
      unknown_delete = true;
    }
    if (w->outcome != WriteOutcome::kKnown) continue;
    if (!contains(epoch, index, w->epoch, w->index)) continue;
    if (latest == nullptr || position_before(*latest, *w)) latest = w;
  }
  std::ostringstream why;
  const std::string at = " in a state at e" + std::to_string(epoch) + "/" +
                         std::to_string(index);
  if (v.has_value()) {
    const WriteRecord* w = by_value(*v);
    if (w == nullptr || w->key != key) {
      why << key << " holds " << show(v) << ", a value no client wrote to it";
    } else if (w->outcome == WriteOutcome::kFailed) {
      why << key << " holds " << show(v) << " of a write that failed (event #"
          << w->completion_index << ")";
    } else if (w->invoke_time_us > time_us) {
      why << key << " holds " << show(v) << " before its write was invoked";
    } else if (w->outcome == WriteOutcome::kKnown && !contains(epoch, index, w->epoch, w->index)) {
      why << key << " holds " << show(v) << " committed at e" << w->epoch << "/" << w->index
          << ", which is not in the primary prefix" << at;
    } else if (w->outcome == WriteOutcome::kKnown && latest != w) {
      why << key << " holds " << show(v) << " from e" << w->epoch << "/" << w->index
          << " but e" << latest->epoch << "/" << latest->index << " wrote "
          << show(latest->value) << " later within the prefix" << at;
    }
    return why.str();
  }
  if (latest != nullptr && latest->value.has_value() && !unknown_delete) {
    why << key << " is absent" << at << " but e" << latest->epoch << "/" << latest->index
        << " wrote " << show(latest->value) << " (event #" << latest->completion_index << ")";
  }
  return why.str();
}

std::string WriteModel::state_disallowed(const std::map<std::string, std::string>& data,
                                         uint64_t epoch, uint64_t index,
                                         TimeUs time_us) const {
  auto workload = [](const std::string& k) { return k.compare(0, 3, "kv/") == 0; };
  std::set<std::string> keys;
  for (const auto& [k, v] : data) {
    if (workload(k)) keys.insert(k);
  }
  for (const auto& [k, ws] : by_key_) {
    if (workload(k)) keys.insert(k);
  }
  for (const std::string& k : keys) {
    auto it = data.find(k);
    std::optional<std::string> v;
    if (it != data.end()) v = it->second;
    std::string why = disallowed(k, v, epoch, index, time_us);
    if (!why.empty()) return why;
  }
  return "";
}

}  // namespace replsim::harness
