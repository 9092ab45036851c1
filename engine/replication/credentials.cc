#include "engine/replication/credentials.h"

#include <openssl/evp.h>

#include "engine/storage/barrier.h"

namespace replsim::replication {

std::string sha256(std::string_view data) {
  // Fetched once: SHA256() in OpenSSL 3 fetches the algorithm on every call (slow).
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REPLSIM_ASSERT(md != nullptr);
  REPLSIM_ASSERT(ctx != nullptr);
  REPLSIM_ASSERT(EVP_DigestInit_ex(ctx, md, nullptr) == 1);
  REPLSIM_ASSERT(EVP_DigestUpdate(ctx, data.data(), data.size()) == 1);
  REPLSIM_ASSERT(EVP_DigestFinal_ex(ctx, digest, &len) == 1);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string to_hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::invalid_argument("odd hex length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::invalid_argument("bad hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

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
