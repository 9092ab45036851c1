// engine/replication/credentials.h — hashes, hex and key wrapping for activation and streams.
//
// A secondary proves its stream credential with credential_proof() (a SHA-256, never the
// credential itself); the keyring and the credential cross clusters only wrapped
// (AES-256-GCM) under a key derived from the activation token's secret.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/hex.h"
#include "engine/base/sha256.h"
#include "engine/env.h"
#include "engine/status.h"

namespace replsim::replication {

// engine/base: the one SHA-256 wrapper and hex codec.
using base::from_hex;
using base::sha256;
using base::to_hex;
std::string credential_proof(const std::string& secondary_id, const std::string& credential);

// Activation key wrapping: AES-256-GCM under `wrap_key` (32 bytes), `label` authenticated.
std::string wrap(Random& random, const std::string& wrap_key, std::string_view label,
                 std::string_view plaintext);
Result<std::string> unwrap(Random& random, const std::string& wrap_key, std::string_view label,
                           std::string_view wrapped);

}  // namespace replsim::replication
