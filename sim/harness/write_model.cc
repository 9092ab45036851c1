#include "sim/harness/write_model.h"

#include <algorithm>
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
  by_value_.reserve(writes_.size());
  for (size_t i = 0; i < writes_.size(); ++i) {
    const WriteRecord& w = writes_[i];
    if (w.value.has_value()) by_value_.emplace(*w.value, i);
    KeyWrites& k = by_key_[w.key];
    k.all.push_back(i);
    if (w.outcome == WriteOutcome::kKnown) k.known.push_back(i);
    if (w.outcome == WriteOutcome::kUnknown && !w.value) {
      k.unknown_delete_us = std::min(k.unknown_delete_us, w.invoke_time_us);
    }
  }
  for (auto& [key, k] : by_key_) {
    std::stable_sort(k.known.begin(), k.known.end(), [this](size_t a, size_t b) {
      return position_before(writes_[a], writes_[b]);
    });
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
  for (size_t i : it->second.all) out.push_back(&writes_[i]);
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

WriteModel::Lineage WriteModel::lineage(uint64_t state_epoch, uint64_t state_index) const {
  // The walk of contains(), recorded once per state.
  Lineage l;
  uint64_t e = state_epoch;
  uint64_t limit = state_index;
  for (size_t hops = 0; hops <= epochs_.size() + 1; ++hops) {
    if (l.steps.empty() || e < l.steps.back().first) l.steps.emplace_back(e, limit);
    const EpochStart* start = epoch_start(e);
    if (start == nullptr || start->parent_epoch == 0) break;
    limit = start->fork_index;
    e = start->parent_epoch;
  }
  return l;
}

bool WriteModel::Lineage::holds(uint64_t epoch, uint64_t index) const {
  for (const auto& [e, limit] : steps) {
    if (e == epoch) return index <= limit;
    if (e < epoch) return false;
  }
  return false;
}

const WriteRecord* WriteModel::latest_within(const KeyWrites& k, const Lineage& l) const {
  // Steps come in decreasing epoch order, so the first step holding a write of the key holds
  // the latest one: the last known write at or before (epoch, limit) when it is of that epoch.
  auto before = [this](const std::pair<uint64_t, uint64_t>& p, size_t i) {
    const WriteRecord& w = writes_[i];
    return p.first != w.epoch ? p.first < w.epoch : p.second < w.index;
  };
  for (const auto& step : l.steps) {
    auto end = std::upper_bound(k.known.begin(), k.known.end(), step, before);
    if (end == k.known.begin()) continue;
    const WriteRecord& last = writes_[*(end - 1)];
    if (last.epoch != step.first) continue;
    // The first invoked of the writes at exactly that position.
    auto first = std::lower_bound(k.known.begin(), end, last, [this](size_t i,
                                                                     const WriteRecord& w) {
      return position_before(writes_[i], w);
    });
    return &writes_[*first];
  }
  return nullptr;
}

static std::string show(const std::optional<std::string>& v) {
  return v.has_value() ? "\"" + v->substr(0, 48) + "\"" : "absent";
}

std::string WriteModel::disallowed(const std::string& key, const std::optional<std::string>& v,
                                   uint64_t epoch, uint64_t index, TimeUs time_us) const {
  auto it = by_key_.find(key);
  return key_disallowed(key, it == by_key_.end() ? nullptr : &it->second, v,
                        lineage(epoch, index), epoch, index, time_us);
}

std::string WriteModel::key_disallowed(const std::string& key, const KeyWrites* k,
                                       const std::optional<std::string>& v, const Lineage& l,
                                       uint64_t epoch, uint64_t index, TimeUs time_us) const {
  const WriteRecord* latest = k == nullptr ? nullptr : latest_within(*k, l);
  const bool unknown_delete = k != nullptr && k->unknown_delete_us <= time_us;
  auto at = [&] {
    return " in a state at e" + std::to_string(epoch) + "/" + std::to_string(index);
  };
  std::ostringstream why;
  if (v.has_value()) {
    const WriteRecord* w = by_value(*v);
    if (w != nullptr && w->key == key && w->outcome != WriteOutcome::kFailed &&
        w->invoke_time_us <= time_us &&
        (w->outcome != WriteOutcome::kKnown || latest == w)) {
      return "";  // the common case: the latest write within the prefix, or one in doubt
    }
    if (w == nullptr || w->key != key) {
      why << key << " holds " << show(v) << ", a value no client wrote to it";
    } else if (w->outcome == WriteOutcome::kFailed) {
      why << key << " holds " << show(v) << " of a write that failed (event #"
          << w->completion_index << ")";
    } else if (w->invoke_time_us > time_us) {
      why << key << " holds " << show(v) << " before its write was invoked";
    } else if (!l.holds(w->epoch, w->index)) {
      why << key << " holds " << show(v) << " committed at e" << w->epoch << "/" << w->index
          << ", which is not in the primary prefix" << at();
    } else {
      why << key << " holds " << show(v) << " from e" << w->epoch << "/" << w->index
          << " but e" << latest->epoch << "/" << latest->index << " wrote "
          << show(latest->value) << " later within the prefix" << at();
    }
    return why.str();
  }
  if (latest != nullptr && latest->value.has_value() && !unknown_delete) {
    why << key << " is absent" << at() << " but e" << latest->epoch << "/" << latest->index
        << " wrote " << show(latest->value) << " (event #" << latest->completion_index << ")";
  }
  return why.str();
}

std::string WriteModel::state_disallowed(const std::map<std::string, std::string>& data,
                                         uint64_t epoch, uint64_t index,
                                         TimeUs time_us) const {
  // Both maps are in key order: merge them, checking each workload key once.
  auto workload = [](const std::string& k) { return k.compare(0, 3, "kv/") == 0; };
  const Lineage l = lineage(epoch, index);
  auto d = data.lower_bound("kv/");
  auto w = by_key_.lower_bound("kv/");
  while (true) {
    const bool d_ok = d != data.end() && workload(d->first);
    const bool w_ok = w != by_key_.end() && workload(w->first);
    if (!d_ok && !w_ok) return "";
    const bool take_d = d_ok && (!w_ok || d->first <= w->first);
    const bool take_w = w_ok && (!d_ok || w->first <= d->first);
    const std::string& key = take_d ? d->first : w->first;
    std::optional<std::string> none;
    std::string why = key_disallowed(key, take_w ? &w->second : nullptr,
                                     take_d ? std::optional<std::string>(d->second) : none, l,
                                     epoch, index, time_us);
    if (!why.empty()) return why;
    if (take_d) ++d;
    if (take_w) ++w;
  }
}

}  // namespace replsim::harness
