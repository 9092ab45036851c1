// Lower-case hexadecimal text of bytes and numbers: the one hex codec of the engine (merkle
// roots, activation-token digests, trace hashes, file names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace replsim::base {

std::string to_hex(std::string_view bytes);
// Two digits per byte, lower or upper case; kInvalidArgument on an odd length or a non-digit.
Result<std::string> from_hex(std::string_view hex);
// Exactly 16 digits, most significant first ("%016" PRIx64).
std::string hex_u64(uint64_t v);

}  // namespace replsim::base
