// SHA-256 through OpenSSL's low-level interface: it takes the SHA-NI path like EVP does, without
// EVP's per-call context setup, which matters at ~15 hashes per bucket update.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "engine/merkle/hash.h"

#include <openssl/sha.h>

#include <cstring>

namespace replsim::merkle {
namespace {

Hash160 truncate(const unsigned char (&full)[SHA256_DIGEST_LENGTH]) {
  Hash160 h;
  std::memcpy(h.data(), full, kHashBytes);
  return h;
}

}  // namespace

Hash160 leaf_hash(std::string_view path, std::string_view ciphertext) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  const uint32_t n = static_cast<uint32_t>(path.size());
  const unsigned char len[4] = {static_cast<unsigned char>(n >> 24),
                                static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  SHA256_Update(&ctx, len, 4);
  SHA256_Update(&ctx, path.data(), path.size());
  SHA256_Update(&ctx, ciphertext.data(), ciphertext.size());
  unsigned char full[SHA256_DIGEST_LENGTH];
  SHA256_Final(full, &ctx);
  return truncate(full);
}

uint64_t key_position(std::string_view path) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, "pos", 3);
  SHA256_Update(&ctx, path.data(), path.size());
  unsigned char full[SHA256_DIGEST_LENGTH];
  SHA256_Final(full, &ctx);
  uint64_t p = 0;
  for (int i = 0; i < 8; ++i) p = (p << 8) | full[i];
  return p;
}

Hash160 hash_bytes(std::string_view bytes) {
  unsigned char full[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), full);
  return truncate(full);
}

std::string to_hex(const Hash160& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kHashBytes);
  for (uint8_t b : h) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

namespace {

uint32_t crc32c_soft(std::string_view bytes, uint32_t crc) {
  static const auto kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (unsigned char b : bytes) crc = kTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(std::string_view bytes, uint32_t crc) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
  return c32;
}

}  // namespace

uint32_t crc32c(std::string_view bytes, uint32_t seed) {
  static const bool kHardware = __builtin_cpu_supports("sse4.2");
  const uint32_t crc = ~seed;
  return ~(kHardware ? crc32c_hw(bytes, crc) : crc32c_soft(bytes, crc));
}

}  // namespace replsim::merkle
