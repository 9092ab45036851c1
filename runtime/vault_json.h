// runtime/vault_json.h — request and response JSON of the Vault HTTP API (nlohmann::json).
//
// Strict by contract: a body that is not one JSON object (malformed, trailing bytes, an array)
// and a known field of the wrong type are errors (the caller answers 400 and writes nothing).
// Unknown fields are ignored, as Vault does. Type rules follow Vault's weak decoding where
// clients rely on it: an int field takes a JSON integer or a string of digits; a duration takes
// seconds (integer or digit string) or a Go-style "90s" / "5m" / "1h" / "1h30m"; a string list
// takes a JSON array of strings or a comma-separated string.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace replsim::runtime {

using Json = nlohmann::json;

// An empty (or all-whitespace) body is the empty object.
Result<Json> parse_json_object(std::string_view body);

// Field readers: absent or null → nullopt; present with a wrong type → InvalidArgument naming
// the field.
Result<std::optional<std::string>> json_opt_string(const Json& object, const char* key);
Result<std::optional<int64_t>> json_opt_int(const Json& object, const char* key);
Result<std::optional<bool>> json_opt_bool(const Json& object, const char* key);
Result<std::optional<int64_t>> json_opt_duration_s(const Json& object, const char* key);
Result<std::optional<std::vector<std::string>>> json_opt_strings(const Json& object,
                                                                 const char* key);
Result<std::optional<std::vector<int64_t>>> json_opt_ints(const Json& object, const char* key);
// A JSON object field (e.g. KV v2 "data", "options").
Result<std::optional<Json>> json_opt_object(const Json& object, const char* key);

// "90s", "5m", "1h30m", "3600" → seconds; nullopt when malformed or negative.
std::optional<int64_t> parse_duration_s(std::string_view text);

// Serializes compactly with a trailing newline (the shape curl users expect).
std::string json_text(const Json& value);

}  // namespace replsim::runtime
