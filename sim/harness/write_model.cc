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
  first_of_value_.assign(writes_.size(), 0);
  std::map<std::string, KeyWrites> by_key;
  for (size_t i = 0; i < writes_.size(); ++i) {
    const WriteRecord& w = writes_[i];
    if (w.value.has_value()) first_of_value_[i] = by_value_.emplace(*w.value, i).second;
    KeyWrites& k = by_key[w.key];
    k.all.push_back(i);
    if (w.outcome == WriteOutcome::kKnown) k.known.push_back(i);
    if (w.outcome == WriteOutcome::kUnknown && !w.value) {
      k.unknown_delete_us = std::min(k.unknown_delete_us, w.invoke_time_us);
    }
  }
  by_key_.reserve(by_key.size());
  for (auto& [key, k] : by_key) {
    std::stable_sort(k.known.begin(), k.known.end(), [this](size_t a, size_t b) {
      return position_before(writes_[a], writes_[b]);
    });
    for (size_t i : k.known) k.known_at.emplace_back(writes_[i].epoch, writes_[i].index);
    by_key_.emplace_back(key, std::move(k));
  }
}

const WriteModel::KeyWrites* WriteModel::key_writes(const std::string& key) const {
  auto it = std::lower_bound(by_key_.begin(), by_key_.end(), key,
                             [](const auto& e, const std::string& k) { return e.first < k; });
  return it == by_key_.end() || it->first != key ? nullptr : &it->second;
}

const WriteRecord* WriteModel::by_value(const std::string& value) const {
  auto it = by_value_.find(value);
  return it == by_value_.end() ? nullptr : &writes_[it->second];
}

std::vector<const WriteRecord*> WriteModel::writes_to(const std::string& key) const {
  std::vector<const WriteRecord*> out;
  const KeyWrites* k = key_writes(key);
  if (k == nullptr) return out;
  for (size_t i : k->all) out.push_back(&writes_[i]);
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
  // known_at is (epoch, index) of k.known, in the same (position) order.
  const auto& at = k.known_at;
  for (const auto& step : l.steps) {
    auto end = std::upper_bound(at.begin(), at.end(), step);
    if (end == at.begin()) continue;
    const auto last = *(end - 1);
    if (last.first != step.first) continue;
    // The first invoked of the writes at exactly that position (ties keep invocation order).
    auto first = std::lower_bound(at.begin(), end, last);
    return &writes_[k.known[static_cast<size_t>(first - at.begin())]];
  }
  return nullptr;
}

static std::string show(const std::string* v) {
  return v != nullptr ? "\"" + v->substr(0, 48) + "\"" : "absent";
}
static std::string show(const std::optional<std::string>& v) {
  return show(v.has_value() ? &*v : nullptr);
}

std::string WriteModel::disallowed(const std::string& key, const std::optional<std::string>& v,
                                   uint64_t epoch, uint64_t index, TimeUs time_us) const {
  return key_disallowed(key, key_writes(key), v.has_value() ? &*v : nullptr, lineage(epoch, index),
                        epoch, index, time_us);
}

std::string WriteModel::key_disallowed(const std::string& key, const KeyWrites* k,
                                       const std::string* v, const Lineage& l, uint64_t epoch,
                                       uint64_t index, TimeUs time_us) const {
  const WriteRecord* latest = k == nullptr ? nullptr : latest_within(*k, l);
  // The common case without hashing the value: it is the latest write within the prefix
  // and by_value(*v) is that write (what the full test below then finds).
  if (v != nullptr && latest != nullptr && latest->value.has_value() && *latest->value == *v &&
      first_of_value_[static_cast<size_t>(latest - writes_.data())] &&
      latest->invoke_time_us <= time_us) {
    return "";
  }
  const bool unknown_delete = k != nullptr && k->unknown_delete_us <= time_us;
  auto at = [&] {
    return " in a state at e" + std::to_string(epoch) + "/" + std::to_string(index);
  };
  if (v != nullptr) {
    const WriteRecord* w = by_value(*v);
    if (w != nullptr && w->key == key && w->outcome != WriteOutcome::kFailed &&
        w->invoke_time_us <= time_us && (w->outcome != WriteOutcome::kKnown || latest == w)) {
      return "";  // the common case: the latest write within the prefix, or one in doubt
    }
    std::ostringstream why;
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
      why << key << " holds " << show(v) << " from e" << w->epoch << "/" << w->index << " but e"
          << latest->epoch << "/" << latest->index << " wrote " << show(latest->value)
          << " later within the prefix" << at();
    }
    return why.str();
  }
  if (latest == nullptr || !latest->value.has_value() || unknown_delete) return "";
  std::ostringstream why;
  {
    why << key << " is absent" << at() << " but e" << latest->epoch << "/" << latest->index
        << " wrote " << show(latest->value) << " (event #" << latest->completion_index << ")";
  }
  return why.str();
}

std::string WriteModel::state_disallowed(const std::map<std::string, std::string>& data,
                                         uint64_t epoch, uint64_t index, TimeUs time_us) const {
  // Both maps are in key order: merge them, checking each workload key once.
  auto workload = [](const std::string& k) { return k.compare(0, 3, "kv/") == 0; };
  const Lineage l = lineage(epoch, index);
  auto d = data.lower_bound("kv/");
  auto w = std::lower_bound(by_key_.begin(), by_key_.end(), std::string_view("kv/"),
                            [](const auto& e, std::string_view k) { return e.first < k; });
  while (true) {
    const bool d_ok = d != data.end() && workload(d->first);
    const bool w_ok = w != by_key_.end() && workload(w->first);
    if (!d_ok && !w_ok) return "";
    const int order = !d_ok ? 1 : !w_ok ? -1 : d->first.compare(w->first);
    const bool take_d = order <= 0;
    const bool take_w = order >= 0;
    const std::string& key = take_d ? d->first : w->first;
    std::string why = key_disallowed(key, take_w ? &w->second : nullptr,
                                     take_d ? &d->second : nullptr, l, epoch, index, time_us);
    if (!why.empty()) return why;
    if (take_d) ++d;
    if (take_w) ++w;
  }
}

}  // namespace replsim::harness
