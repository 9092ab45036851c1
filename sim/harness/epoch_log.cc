#include "sim/harness/epoch_log.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::harness {

void EpochLog::hold(uint32_t cluster, uint64_t epoch, uint64_t index) {
  auto& h = held_[cluster];
  // Within an epoch the position only grows; a different epoch replaces it (whatever its
  // number: a cluster that follows a sibling branch holds that branch now).
  if (h.first != epoch) {
    h = {epoch, index};
  } else {
    h.second = std::max(h.second, index);
  }
}

std::pair<uint64_t, uint64_t> EpochLog::held(uint32_t cluster) const {
  auto it = held_.find(cluster);
  return it == held_.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
}

bool EpochLog::before_first_commit(uint64_t epoch, uint64_t index) const {
  auto it = first_commit_.find(epoch);
  return it == first_commit_.end() || index < it->second;
}

void EpochLog::on_commit(uint32_t cluster, uint64_t epoch, uint64_t index) {
  first_commit_.emplace(epoch, index);
  hold(cluster, epoch, index);
}

void EpochLog::on_landed(uint32_t cluster, uint64_t epoch, uint64_t index,
                         std::vector<EpochStart>* epochs) {
  for (auto it = epochs->rbegin(); it != epochs->rend(); ++it) {
    if (it->primary_cluster != cluster) continue;
    if (before_first_commit(it->epoch, index) && it->parent_epoch == epoch &&
        held(cluster).first == it->epoch && index > it->fork_index) {
      it->fork_index = index;
      hold(cluster, it->epoch, index);
    }
    return;
  }
}

void EpochLog::on_apply(uint32_t cluster, uint64_t epoch, uint64_t index,
                        std::vector<EpochStart>* epochs) {
  for (auto it = epochs->rbegin(); it != epochs->rend(); ++it) {
    if (it->primary_cluster != cluster) continue;
    // The cluster's latest epoch as a primary, still what it holds and without a commit of
    // its own: a parent apply landing now is part of the state it forked from.
    if (before_first_commit(it->epoch, index) && it->parent_epoch == epoch &&
        held(cluster).first == it->epoch) {
      it->fork_index = std::max(it->fork_index, index);
      hold(cluster, it->epoch, it->fork_index);
      return;
    }
    break;
  }
  hold(cluster, epoch, index);
}

static const EpochStart* find(const std::vector<EpochStart>& epochs, uint64_t epoch) {
  for (const EpochStart& e : epochs) {
    if (e.epoch == epoch) return &e;
  }
  return nullptr;
}

bool EpochLog::on_primary(TimeUs time_us, uint32_t cluster, uint64_t epoch, uint64_t remote_index,
                          bool planned, std::vector<EpochStart>* epochs) {
  REPLSIM_ASSERT(epoch != 0);
  if (find(*epochs, epoch) != nullptr) return false;
  auto [parent, fork] = held(cluster);
  // Only the primary of an epoch commits in it, and its start is recorded before its first
  // commit is held: the cluster holds the state it was promoted from.
  REPLSIM_ASSERT(parent != epoch);
  // The applied primary index kept across promotion covers entries a merkle-sync fetched. A
  // former primary promoted again forks from its own head (already `fork`); its last remote
  // index is of an older epoch.
  const EpochStart* p = find(*epochs, parent);
  if (p == nullptr || p->primary_cluster != cluster) fork = std::max(fork, remote_index);
  epochs->push_back({time_us, epoch, cluster, parent, fork, planned});
  hold(cluster, epoch, fork);
  return true;
}

}  // namespace replsim::harness
