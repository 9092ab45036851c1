// The merkle root of a cluster's replicated data as stored (path → ciphertext), rebuilt by
// the harness independently of the engine's merkle index, so index_consistency can compare
// the recovered index with what storage actually holds (docs/design.md §4.6).
#pragma once

#include <map>
#include <string>

#include "engine/merkle/merkle_index.h"

namespace replsim::harness {

// Root (hex, as Node::merkle_root_hex) of a fresh tree of `shape` over every (path,
// ciphertext) of `stored`. REQUIRES: `stored` holds replicated paths only.
std::string merkle_root_from_storage(const std::map<std::string, std::string>& stored,
                                     merkle::MerkleShape shape);

}  // namespace replsim::harness
