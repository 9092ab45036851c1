// Checker 9 of docs/design.md §4: a read that requires an index state (epoch, index) is answered
// from a state at or after that position in the primary lineage, or refused ("not yet") —
// never from a state of another branch or from before the position.
//
// The read's invocation carries the required (epoch, index) and its ok completion the index
// state it was served at (the serving node's epoch and applied / committed index). The lineage
// (EpochStart records: parent epoch and fork index) says whether the served state contains the
// required position. A served epoch the harness never recorded as a lineage step cannot be
// placed: such reads are counted as unverified, not judged.
#include <map>
#include <sstream>

#include "sim/harness/checkers.h"
#include "sim/harness/checks_common.h"
#include "sim/harness/write_model.h"

namespace replsim::harness {

using detail::fail_event;
using detail::pass;

CheckerResult check_index_state(const History& h, const Observations& o, const CheckContext& c) {
  const char* name = kCheckIndexState;
  WriteModel m(h, o);
  // (client, op id) → the required (epoch, index) of a read still open.
  std::map<std::pair<int64_t, uint64_t>, std::pair<uint64_t, uint64_t>> required;
  size_t checked = 0;
  size_t unverified = 0;
  for (const HistoryEvent& e : h.events()) {
    if (e.client < 0 || e.f != kOpRead) continue;
    const auto id = std::make_pair(e.client, e.op_id);
    if (e.type == EventType::kInvoke) {
      if (e.epoch != 0) required[id] = {e.epoch, e.wal_index};
      continue;
    }
    auto it = required.find(id);
    if (it == required.end()) continue;
    const auto [epoch, index] = it->second;
    required.erase(it);                      // any completion closes the read
    if (e.type != EventType::kOk) continue;  // refused ("not yet") is allowed
    if (e.epoch != epoch && m.epoch_start(e.epoch) == nullptr) {
      ++unverified;
      continue;
    }
    ++checked;
    if (m.contains(e.epoch, e.wal_index, epoch, index)) continue;
    std::ostringstream s;
    s << "client " << e.client << " read " << e.key << " requiring index state e" << epoch << "/"
      << index << " and was served by cluster " << e.served_by_cluster << " at e" << e.epoch << "/"
      << e.wal_index << ", which does not contain that position in the primary lineage"
      << (e.epoch > epoch ? " (another branch, or forked before it)" : " (behind it)");
    return fail_event(name, c, e, s.str());
  }
  std::string message = std::to_string(checked) + " reads with a required index state";
  if (unverified > 0) {
    message += ", " + std::to_string(unverified) + " served at an epoch the lineage never recorded";
  }
  return pass(name, c, message);
}

}  // namespace replsim::harness
