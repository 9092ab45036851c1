// engine/replication/credentials.h — hashes, hex and key wrapping for activation and streams.
//
// A secondary proves its stream credential with credential_proof() (a SHA-256, never the
// credential itself); the keyring and the credential cross clusters only wrapped
// (AES-256-GCM) under a key derived from the activation token's secret.
#pragma once

#include <string>
#include <string_view>

#include "engine/env.h"
#include "engine/status.h"

namespace replsim::replication {

// SHA-256 of `data` (raw 32 bytes).
std::string sha256(std::string_view data);
std::string to_hex(std::string_view bytes);
Result<std::string> from_hex(std::string_view hex);
std::string credential_proof(const std::string& secondary_id, const std::string& credential);

// Activation key wrapping: AES-256-GCM under `wrap_key` (32 bytes), `label` authenticated.
std::string wrap(Random& random, const std::string& wrap_key, std::string_view label,
                 std::string_view plaintext);
Result<std::string> unwrap(Random& random, const std::string& wrap_key, std::string_view label,
                           std::string_view wrapped);

}  // namespace replsim::replication
