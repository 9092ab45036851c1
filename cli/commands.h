// The verbs of the replsim command. Each takes the arguments after the verb and returns the
// process exit code: 0 success, 1 a checker failed (or a determinism mismatch), 2 bad usage
// or a scenario file that does not load; `merge` exits 3 when seeds of the range have no
// result (and none failed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace replsim::cli {

using Args = std::vector<std::string>;

int run_command(const std::string& binary, const Args& args);
int swarm_command(const std::string& binary, const Args& args);
int merge_command(const Args& args);
int check_determinism_command(const Args& args);
int list_command(const Args& args);

// ---- argument helpers (cli/args.cc) ----

// True when args holds "--help" or "-h".
bool wants_help(const Args& args);
// The value after `flag` ("--seed 5"), or nullopt. Sets *error on a flag with no value.
std::optional<std::string> flag_value(const Args& args, const std::string& flag,
                                      std::string* error);
// Positional arguments: everything that is neither a flag nor a flag's value. `boolean_flags`
// take no value.
Args positionals(const Args& args, const std::vector<std::string>& boolean_flags = {});
std::optional<uint64_t> parse_u64(const std::string& text);

}  // namespace replsim::cli
