#include <cerrno>
#include <cstdlib>

#include "cli/commands.h"

namespace replsim::cli {

bool wants_help(const Args& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

std::optional<std::string> flag_value(const Args& args, const std::string& flag,
                                      std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) {
      if (i + 1 >= args.size()) {
        *error = flag + " needs a value";
        return std::nullopt;
      }
      return args[i + 1];
    }
    if (args[i].rfind(flag + "=", 0) == 0) return args[i].substr(flag.size() + 1);
  }
  return std::nullopt;
}

Args positionals(const Args& args, const std::vector<std::string>& boolean_flags) {
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      bool boolean = a.find('=') != std::string::npos;
      for (const std::string& b : boolean_flags) boolean = boolean || a == b;
      if (!boolean) ++i;  // skip the flag's value
      continue;
    }
    out.push_back(a);
  }
  return out;
}

std::optional<uint64_t> parse_u64(const std::string& text) {
  if (text.empty() || text[0] == '-') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') return std::nullopt;
  return static_cast<uint64_t>(v);
}

}  // namespace replsim::cli
