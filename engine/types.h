// Strong types for identifiers and positions that must not mix.
//
// Each is a thin wrapper over an integer: ordered, hashable, printable with .value.
// Use them in every interface; unwrap (.value) only at serialization boundaries.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace replsim {

template <typename Tag, typename Rep = uint64_t>
struct StrongId {
  Rep value = 0;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

struct NodeIdTag {};
struct ClusterIdTag {};
struct WalIndexTag {};
struct EpochTag {};
struct LsnTag {};
struct LockGenerationTag {};

using NodeId = StrongId<NodeIdTag, uint32_t>;        // one simulated or real process
using ClusterId = StrongId<ClusterIdTag, uint32_t>;  // a group of nodes sharing one storage
using WalIndex = StrongId<WalIndexTag>;              // position in a cluster's replication WAL
using Epoch = StrongId<EpochTag>;                    // primary lineage; a promotion starts one
using Lsn = StrongId<LsnTag>;                        // ARIES log sequence number
using LockGeneration = StrongId<LockGenerationTag>;  // HA lock term; fences stale actives

// A position in a primary lineage: WAL entry `index` of epoch `epoch` (Vault's index state).
// Ordered by epoch, then index: numeric order only, which says nothing about ancestry (an
// epoch's entries past its fork point are not in a later epoch's lineage). Position{} (epoch 0)
// means "unknown".
struct Position {
  Epoch epoch;
  WalIndex index;
  constexpr auto operator<=>(const Position&) const = default;
  constexpr bool known() const { return epoch.value != 0; }
};

// Virtual or real time, in microseconds. Units last in every name that holds one.
using TimeUs = int64_t;
constexpr TimeUs kUsPerMs = 1000;
constexpr TimeUs kUsPerSec = 1000 * 1000;

}  // namespace replsim

template <typename Tag, typename Rep>
struct std::hash<replsim::StrongId<Tag, Rep>> {
  size_t operator()(const replsim::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>()(id.value);
  }
};
