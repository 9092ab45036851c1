// Merkle hashes over the engine's one SHA-256 wrapper (engine/base/sha256.h).
#include "engine/merkle/hash.h"

#include <cstring>

#include "engine/base/hex.h"
#include "engine/base/sha256.h"

namespace replsim::merkle {
namespace {

Hash160 truncate(const base::Sha256Digest& full) {
  Hash160 h;
  std::memcpy(h.data(), full.data(), kHashBytes);
  return h;
}

}  // namespace

Hash160 leaf_hash(std::string_view path, std::string_view ciphertext) {
  const uint32_t n = static_cast<uint32_t>(path.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  return truncate(
      base::Sha256().update(std::string_view(len, 4)).update(path).update(ciphertext).finish());
}

uint64_t key_position(std::string_view path) {
  const base::Sha256Digest full = base::Sha256().update("pos").update(path).finish();
  uint64_t p = 0;
  for (int i = 0; i < 8; ++i) p = (p << 8) | full[i];
  return p;
}

Hash160 hash_bytes(std::string_view bytes) { return truncate(base::sha256_digest(bytes)); }

std::string to_hex(const Hash160& h) {
  return base::to_hex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

}  // namespace replsim::merkle
