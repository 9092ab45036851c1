#include "engine/replication/credentials.h"

#include "engine/storage/barrier.h"

namespace replsim::replication {

std::string credential_proof(const std::string& secondary_id, const std::string& credential) {
  return sha256("cred|" + secondary_id + "|" + credential);
}

std::string wrap(Random& random, const std::string& wrap_key, std::string_view label,
                 std::string_view plaintext) {
  Keyring ring;
  ring.add_key(1, wrap_key);
  Barrier barrier(std::move(ring), random);
  return barrier.encrypt(label, plaintext);
}

Result<std::string> unwrap(Random& random, const std::string& wrap_key, std::string_view label,
                           std::string_view wrapped) {
  Keyring ring;
  ring.add_key(1, wrap_key);
  Barrier barrier(std::move(ring), random);
  return barrier.decrypt(label, wrapped);
}

}  // namespace replsim::replication
