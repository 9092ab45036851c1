#include "sim/harness/stored_root.h"

namespace replsim::harness {

std::string merkle_root_from_storage(const std::map<std::string, std::string>& stored,
                                     merkle::MerkleShape shape) {
  merkle::MerkleIndex tree(shape);
  for (const auto& [path, ciphertext] : stored) tree.put(path, ciphertext);
  return tree.root_hex();
}

}  // namespace replsim::harness
