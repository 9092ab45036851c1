// runtime/vault_util.h — small pieces shared by the Vault API route files: storage paths,
// X-Vault-Index text, wall-clock times in Vault's formats, random ids, hashing, one-level lists.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/types.h"
#include "proto/api.pb.h"

namespace replsim::runtime {

inline constexpr std::string_view kMountsPath = "vault/mounts";
inline constexpr std::string_view kUsersPrefix = "vault/users/";
inline constexpr std::string_view kInitPath = "local/vault/init";
inline constexpr std::string_view kTokensPrefix = "local/vault/tokens/";
inline constexpr std::string_view kUnreadableRecord =
    "<unreadable: sealed under a replaced keyring>";

// Tokens are stored under their SHA-256, never in clear.
std::string token_storage_path(const std::string& token);

// X-Vault-Index: "<epoch>:<wal index>" (opaque to clients, which echo it back).
std::string format_index_state(const proto::IndexState& s);
std::optional<proto::IndexState> parse_index_state(std::string_view text);

int64_t wall_now_us();
std::string rfc3339(int64_t unix_us);  // "2026-12-06T04:39:42.123456Z"

std::string random_hex(size_t bytes);  // OpenSSL RAND_bytes
std::string random_uuid();             // 8-4-4-4-12 hex
std::string sha256_hex(std::string_view data);

// PBKDF2-HMAC-SHA256 (OpenSSL), 32 bytes as hex.
std::string pbkdf2_hex(std::string_view password, std::string_view salt, uint32_t iterations);
bool constant_time_equal(std::string_view a, std::string_view b);

// The names one level below `prefix` among full `keys` (every key starts with `prefix`):
// "a/b/c" under "a/" gives "b/", "a/x" gives "x". Sorted, without duplicates.
std::vector<std::string> one_level(const std::vector<std::string>& keys, std::string_view prefix);

}  // namespace replsim::runtime
