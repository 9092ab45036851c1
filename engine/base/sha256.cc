#define OPENSSL_SUPPRESS_DEPRECATED  // the low-level interface: no per-call EVP fetch
#include "engine/base/sha256.h"

#include <openssl/sha.h>

#include "engine/assert.h"

namespace replsim::base {

static_assert(sizeof(SHA256_CTX) <= 112, "Sha256::ctx_ too small for SHA256_CTX");
static_assert(SHA256_DIGEST_LENGTH == kSha256Bytes);

Sha256::Sha256() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(ctx_)); }

Sha256& Sha256::update(std::string_view bytes) {
  REPLSIM_ASSERT(!finished_);
  SHA256_Update(reinterpret_cast<SHA256_CTX*>(ctx_), bytes.data(), bytes.size());
  return *this;
}

Sha256Digest Sha256::finish() {
  REPLSIM_ASSERT(!finished_);
  finished_ = true;
  Sha256Digest d;
  SHA256_Final(d.data(), reinterpret_cast<SHA256_CTX*>(ctx_));
  return d;
}

Sha256Digest sha256_digest(std::string_view bytes) { return Sha256().update(bytes).finish(); }

std::string sha256(std::string_view bytes) {
  const Sha256Digest d = sha256_digest(bytes);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace replsim::base
