// SHA-256 through OpenSSL's low-level interface (the SHA-NI path on CPUs that have it, without
// EVP's per-call algorithm fetch): the one SHA-256 wrapper of the engine (merkle leaves and
// positions, activation-token digests).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace replsim::base {

constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// Incremental: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  Sha256& update(std::string_view bytes);
  Sha256Digest finish();

 private:
  alignas(8) unsigned char ctx_[112];  // SHA256_CTX (opaque here; size checked in the .cc)
  bool finished_ = false;
};

Sha256Digest sha256_digest(std::string_view bytes);
// The digest as a 32-byte string.
std::string sha256(std::string_view bytes);

}  // namespace replsim::base
