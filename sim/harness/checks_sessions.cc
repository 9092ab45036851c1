// Checker 4 of docs/design.md §4: read-after-write through a secondary, and secondary positions
// that never go backwards within an epoch.
#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "sim/harness/checkers.h"
#include "sim/harness/checks_common.h"
#include "sim/harness/write_model.h"

namespace replsim::harness {

using detail::fail_at;
using detail::fail_event;
using detail::pass;

// An epoch whose lineage does not hold write `w` started between w's invocation and `to`: the
// session's secondary may have moved to that branch (an unplanned promotion, or two
// promotions a few ms apart), and losing w there is the declared loss window that durability
// measures, not a read-after-write violation. An epoch that starts before the acknowledgement
// counts too: the promotion of another cluster 1.5 ms before the old primary acknowledged w
// forked without it. An epoch that holds w (forked after it) exempts nothing.
static bool branch_without_write_started(const WriteModel& m, const Observations& o,
                                         const WriteRecord& w, TimeUs to) {
  for (const EpochStart& e : o.epochs) {
    if (e.time_us < w.invoke_time_us || e.time_us > to) continue;
    if (!m.contains(e.epoch, UINT64_MAX, w.epoch, w.index)) return true;
  }
  return false;
}

// Each cluster's epoch over time, from every record that names it: commits and applies of its
// lock holder, merkle-sync positions, samples and epoch starts.
class EpochTimeline {
 public:
  explicit EpochTimeline(const Observations& o) {
    for (const PositionRecord& p : o.positions) {
      if (p.lock_holder) add(p.cluster, p.time_us, p.epoch);
    }
    for (const PositionRecord& p : o.reconciliations) add(p.cluster, p.time_us, p.epoch);
    for (const StateSnapshot& s : o.snapshots) add(s.cluster, s.time_us, s.epoch);
    for (const EpochStart& e : o.epochs) add(e.primary_cluster, e.time_us, e.epoch);
    for (auto& [cluster, points] : by_cluster_) {
      std::stable_sort(points.begin(), points.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }
  // The cluster's last known epoch at or before `t`; 0 when none is known.
  uint64_t at(uint32_t cluster, TimeUs t) const {
    auto it = by_cluster_.find(cluster);
    if (it == by_cluster_.end()) return 0;
    const auto& points = it->second;
    auto after = std::upper_bound(points.begin(), points.end(), t,
                                  [](TimeUs v, const auto& p) { return v < p.first; });
    return after == points.begin() ? 0 : std::prev(after)->second;
  }

 private:
  void add(uint32_t cluster, TimeUs t, uint64_t epoch) {
    if (epoch != 0) by_cluster_[cluster].emplace_back(t, epoch);
  }
  std::map<uint32_t, std::vector<std::pair<TimeUs, uint64_t>>> by_cluster_;
};

// A warning-free acknowledgement of a forwarded write promises that a read on that cluster
// sees it: the cluster's state must be able to hold it, so its epoch's lineage must contain
// the write's position (a sibling branch, or a newer epoch that forked before the write,
// cannot). "" when it can.
static std::string acked_outside_lineage(const WriteModel& m, const EpochTimeline& t,
                                         const WriteRecord& w) {
  const uint64_t mine = t.at(w.cluster, w.ack_time_us);
  if (mine == 0 || m.contains(mine, UINT64_MAX, w.epoch, w.index)) return "";
  std::ostringstream s;
  s << "client " << w.client << " wrote " << w.key << " through node " << w.node << " of cluster "
    << w.cluster << ", acknowledged without a warning at e" << w.epoch << "/" << w.index
    << " while that cluster was at epoch " << mine << ", whose lineage cannot contain it";
  return s.str();
}

// May a read of `key` that follows write `w` return `v`? Yes if v is w's value, or the value
// of a write that is not known to precede w (later position, or unknown outcome).
static bool read_sees_write(const WriteModel& m, const WriteRecord& w,
                            const std::optional<std::string>& v) {
  if (v == w.value) return true;
  for (const WriteRecord* other : m.writes_to(w.key)) {
    if (other == &w || other->value != v) continue;
    if (other->outcome == WriteOutcome::kUnknown) return true;
    if (other->outcome == WriteOutcome::kKnown && position_before(w, *other)) return true;
  }
  return false;
}

CheckerResult check_read_after_write(const History& h, const Observations& o,
                                     const CheckContext& c) {
  const char* name = kCheckReadAfterWrite;
  WriteModel m(h, o);
  const EpochTimeline timeline(o);
  std::map<uint64_t, const WriteRecord*> write_by_completion;
  for (const WriteRecord& w : m.writes()) {
    if (w.completion_index >= 0) write_by_completion[w.completion_index] = &w;
  }
  // (client, key) → the client's last warning-free write acknowledged through a secondary.
  std::map<std::pair<int64_t, std::string>, const WriteRecord*> pending;
  // (client, op id) → invocation time of reads still open. A read invoked before the write
  // was acknowledged is concurrent with it (open-loop clients overlap operations): it need
  // not see the write, and the next read invoked after the acknowledgement is checked.
  std::map<std::pair<int64_t, uint64_t>, TimeUs> read_invoked;
  size_t checked = 0;
  for (const HistoryEvent& e : h.events()) {
    TimeUs invoked_us = e.time_us;
    if (e.client >= 0 && e.f == kOpRead) {
      auto invoked = read_invoked.find({e.client, e.op_id});
      if (e.type == EventType::kInvoke) {
        read_invoked[{e.client, e.op_id}] = e.time_us;
      } else if (invoked != read_invoked.end()) {  // any completion closes the read
        invoked_us = invoked->second;
        read_invoked.erase(invoked);
      }
    }
    if (e.client < 0 || e.type != EventType::kOk) continue;
    auto key = std::make_pair(e.client, e.key);
    if (is_write_op(e.f)) {
      const WriteRecord* w = write_by_completion[e.index];
      bool through_secondary = w && w->served_by_cluster != w->cluster;
      if (w && through_secondary && w->warning.empty() && w->outcome == WriteOutcome::kKnown) {
        std::string why = acked_outside_lineage(m, timeline, *w);
        if (!why.empty()) return fail_event(name, c, e, why);
        pending[key] = w;
      } else {
        pending.erase(key);
      }
      continue;
    }
    if (e.f != kOpRead) continue;
    auto it = pending.find(key);
    if (it == pending.end()) continue;
    const WriteRecord* w = it->second;
    if (invoked_us < w->ack_time_us) continue;  // concurrent with the write
    pending.erase(it);
    if (e.node != w->node) continue;  // the property is about the same secondary node
    if (branch_without_write_started(m, o, *w, e.time_us)) continue;
    ++checked;
    if (!read_sees_write(m, *w, e.value)) {
      std::ostringstream s;
      s << "client " << e.client << " wrote " << w->key << " through secondary node " << w->node
        << " (acknowledged without a warning at e" << w->epoch << "/" << w->index << ", event #"
        << w->completion_index << ") but its next read there returned "
        << (e.value ? "\"" + e.value->substr(0, 48) + "\"" : std::string("nothing"));
      return fail_event(name, c, e, s.str());
    }
  }
  return pass(name, c, std::to_string(checked) + " reads after warning-free forwarded writes");
}

CheckerResult check_monotonic_positions(const History& h, const Observations& o,
                                        const CheckContext& c) {
  const char* name = kCheckMonotonicPositions;
  const WriteModel m(h, o);
  struct Last {
    uint64_t epoch = 0;
    uint64_t index = 0;
    TimeUs time_us = 0;
  };
  std::map<uint32_t, Last> last;  // secondary cluster → last applied position seen
  auto see = [&](uint32_t cluster, uint64_t epoch, uint64_t index, TimeUs t,
                 const char* source) -> std::string {
    Last& l = last[cluster];
    std::ostringstream s;
    // Another epoch is a step forward unless it is an ancestor of the one held (a superseded
    // primary's): a sibling branch, whatever its number, is where the operator pointed the
    // cluster (docs/epochs.md).
    if (epoch != l.epoch && l.epoch != 0 && m.contains(l.epoch, UINT64_MAX, epoch, 0)) {
      s << "cluster " << cluster << " went back from epoch " << l.epoch << " to its ancestor "
        << epoch << " (" << source << ")";
    } else if (epoch == l.epoch && index < l.index) {
      s << "cluster " << cluster << " applied position went back within epoch " << epoch << " from "
        << l.index << " (t=" << l.time_us << "us) to " << index << " (" << source << ")";
    } else {
      l = {epoch, index, t};
    }
    return s.str();
  };
  size_t i = 0;
  size_t j = 0;
  // Merge positions and secondary snapshots in time order. At equal times the snapshot goes
  // first: a sample and an apply completion in the same microsecond ran in an order not
  // recorded, and "apply first" flags a sample taken just before it as a step back.
  while (i < o.positions.size() || j < o.snapshots.size()) {
    bool take_position =
        j >= o.snapshots.size() ||
        (i < o.positions.size() && o.positions[i].time_us < o.snapshots[j].time_us);
    std::string why;
    TimeUs t = 0;
    if (take_position) {
      const PositionRecord& p = o.positions[i++];
      if (p.committed || !p.lock_holder) continue;
      t = p.time_us;
      why = see(p.cluster, p.epoch, p.index, t, "wal applied");
    } else {
      const StateSnapshot& s = o.snapshots[j++];
      if (s.primary || s.epoch == 0) continue;
      t = s.time_us;
      why = see(s.cluster, s.epoch, s.index, t, "status last_remote_wal");
    }
    if (!why.empty()) return fail_at(name, c, t, why);
  }
  return pass(name, c, std::to_string(last.size()) + " secondaries never went backwards");
}

}  // namespace replsim::harness
