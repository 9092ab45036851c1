// Transit: Vault's encryption-as-a-service over named keys (the aes256-gcm96 subset).
//
// Contract:
// - A key is a proto::TransitKey record (proto/transit.proto). Key changes (create, rotate,
//   config) are pure functions from one record to the next; the caller stores the result as a
//   replicated write on the primary, so secondaries learn new versions by replication.
// - encrypt() answers "vault:v<N>:<base64(nonce | ciphertext | tag)>" with Vault's layout:
//   a 12-byte random nonce, AES-256-GCM, a 16-byte tag. `context`, when given, is the GCM
//   associated data: a ciphertext decrypts only with the same context.
// - decrypt() never returns a wrong plaintext: a version this record lacks (not replicated
//   yet, or never made) is kNotFound "key version unknown"; a version below
//   min_decryption_version is kPermissionDenied; malformed or unauthentic input is
//   kInvalidArgument / kCorruption with what was wrong.
// - Deterministic under simulation: nonces and key material come from the caller's Random.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/env.h"
#include "engine/status.h"
#include "proto/transit.pb.h"

namespace replsim::transit {

inline constexpr std::string_view kKeyType = "aes256-gcm96";
inline constexpr std::string_view kKeysPrefix = "transit/keys/";
inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kKeyNameBytesMax = 128;
inline constexpr size_t kKeyVersionsMax = 1024;  // rotations kept per key

// The replicated path of a key's record.
std::string key_path(std::string_view name);
// kInvalidArgument unless 1..kKeyNameBytesMax of [A-Za-z0-9_.-].
Status validate_key_name(std::string_view name);

// A new key with version 1. kInvalidArgument for a bad name or a type other than kKeyType.
Result<proto::TransitKey> create_key(std::string_view name, std::string_view type, Random& random,
                                     TimeUs now_us);
// Adds version latest + 1. kInvalidArgument past kKeyVersionsMax.
Result<proto::TransitKey> rotate_key(proto::TransitKey key, Random& random, TimeUs now_us);
// min_decryption_version must be in [1, latest]; 0 leaves it unchanged.
Result<proto::TransitKey> configure_key(proto::TransitKey key, uint32_t min_decryption_version,
                                        bool deletion_allowed);
uint32_t latest_version(const proto::TransitKey& key);

// "vault:v<latest>:<base64>".
Result<std::string> encrypt(const proto::TransitKey& key, std::string_view plaintext,
                            std::string_view context, Random& random);
Result<std::string> decrypt(const proto::TransitKey& key, std::string_view ciphertext,
                            std::string_view context);
// Decrypts and encrypts again under the latest version.
Result<std::string> rewrap(const proto::TransitKey& key, std::string_view ciphertext,
                           std::string_view context, Random& random);
// The version a ciphertext names (kInvalidArgument when it is not "vault:v<N>:...").
Result<uint32_t> version_of(std::string_view ciphertext);

// Standard base64 with padding (Vault's plaintext and ciphertext encoding).
std::string base64_encode(std::string_view bytes);
// kInvalidArgument on a character outside the alphabet or a bad length/padding.
Result<std::string> base64_decode(std::string_view text);

}  // namespace replsim::transit
