// Hashes of the merkle index.
//
// Choice: SHA-256 (OpenSSL, which uses the SHA-NI instructions of this machine's CPU), truncated
// to 160 bits. Why: the index decides what reconciliation transfers, so a collision would hide a
// difference for good; paths are chosen by clients, so a non-cryptographic 128-bit hash (whose
// collisions can be constructed) would let a client plant two values with one leaf. SHA-256 with
// SHA-NI costs ~0.3 µs for a leaf of a 100-byte value, and 160 bits is what Vault shows for its
// root (40 hex digits) with a 2^-80 birthday bound. Checksums of log records and page frames
// are CRC32C (they guard against media faults, not adversaries).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace replsim::merkle {

constexpr size_t kHashBytes = 20;
using Hash160 = std::array<uint8_t, kHashBytes>;

// The all-zero hash stands for an empty slot (no key below it).
inline constexpr Hash160 kEmptyHash{};

// hash(len(path) || path || ciphertext): the leaf of one replicated entry.
Hash160 leaf_hash(std::string_view path, std::string_view ciphertext);
// The position of `path` in the tree: the first 8 bytes of SHA-256("pos" || path), big-endian.
// Depends on the path only, so a key stays in one bucket whatever its value.
uint64_t key_position(std::string_view path);
// SHA-256 of `bytes`, truncated to 160 bits (internal nodes hash their children this way).
Hash160 hash_bytes(std::string_view bytes);

std::string to_hex(const Hash160& h);

}  // namespace replsim::merkle
