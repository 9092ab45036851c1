// Data snapshots of active nodes that decrypt only what changed (internal to the runner).
//
// A data snapshot holds every replicated value in plaintext. Decrypting all of them on every
// snapshot dominated the harness's CPU, yet between two snapshots of a cluster only the keys
// written in between change. The cache keeps, per cluster, each replicated path's value as
// stored (ciphertext) with its plaintext, and decrypts a value only when the stored bytes at
// that path differ from the cached ones.
//
// Contract: take() returns exactly what Node::replicated_snapshot() and the paths of
// Node::local_snapshot() return at that instant. Decryption is a pure function of (keyring,
// path, stored bytes), so a cached plaintext is reused only when the path and stored bytes
// are equal and the barrier's keyring and the mount table's local prefixes are equal to
// those the cache was filled under (else the cluster's cache starts over). The runner can
// verify this on every snapshot (ScenarioConfig::cross_check_data).
//
// Memory: the snapshots it returns point into one StringArena per cache (SnapshotData), where
// each path and each distinct plaintext is stored once for the run (a value equal to one
// another cluster already decrypted is shared with it), instead of a copy per snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/cluster/node.h"
#include "engine/storage/barrier.h"
#include "sim/harness/snapshot_data.h"

namespace replsim::harness {

class SnapshotCache {
 public:
  // The node's replicated data (path → plaintext, "<undecryptable>" when decryption fails)
  // and local paths (in path order), for cache slot `cluster`. False (outputs untouched)
  // while the node is standby.
  bool take(uint32_t cluster, const cluster::Node& n, SnapshotData* data,
            SnapshotPaths* local_paths);
  // Values decrypted / reused so far (evidence for tests).
  uint64_t decrypted() const { return decrypted_; }
  uint64_t reused() const { return reused_; }

 private:
  struct Entry {
    std::string stored;        // the value as stored (ciphertext)
    const std::string* path;   // the path, in arena_
    const std::string* plain;  // what the barrier made of it, in arena_
  };
  // The arena's copy of `plain` (one per distinct plaintext of the run).
  const std::string* intern(std::string plain);
  struct Slot {
    Keyring keyring;
    std::vector<std::string> local_prefixes;
    std::map<std::string, Entry, std::less<>> entries;  // replicated paths only
    // Local paths seen, each interned in arena_ (tokens are created and expire all the time,
    // so the ones gone from the store are dropped as the snapshot walks past them).
    std::map<std::string, const std::string*, std::less<>> local;
  };
  std::map<uint32_t, Slot> slots_;
  std::shared_ptr<StringArena> arena_ = std::make_shared<StringArena>();
  // Plaintexts in arena_ by content (lookups only: never iterated).
  std::unordered_map<std::string_view, const std::string*> plain_;
  uint64_t decrypted_ = 0;
  uint64_t reused_ = 0;
};

}  // namespace replsim::harness
