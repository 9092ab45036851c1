// Helpers shared by the checker implementations (not part of the public API).
#pragma once

#include <string>

#include "sim/harness/checkers.h"

namespace replsim::harness::detail {

inline CheckerResult pass(const char* name, const CheckContext& c, std::string message = "") {
  CheckerResult r;
  r.name = name;
  r.seed = c.seed;
  r.message = std::move(message);
  return r;
}

inline CheckerResult skip(const char* name, const CheckContext& c, std::string why) {
  CheckerResult r = pass(name, c, std::move(why));
  r.skipped = true;
  return r;
}

// A violation found at an observation (not a History event).
inline CheckerResult fail_at(const char* name, const CheckContext& c, TimeUs time_us,
                             std::string message) {
  CheckerResult r;
  r.name = name;
  r.seed = c.seed;
  r.passed = false;
  r.event_time_us = time_us;
  r.message = std::move(message);
  return r;
}

// A violation whose first offending event is History event `e`.
inline CheckerResult fail_event(const char* name, const CheckContext& c, const HistoryEvent& e,
                                std::string message) {
  CheckerResult r = fail_at(name, c, e.time_us, std::move(message));
  r.event_index = e.index;
  r.event = describe(e);
  return r;
}

inline bool has_prefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

inline bool is_local_path(const std::string& path, const CheckContext& c) {
  for (const std::string& p : c.local_prefixes) {
    if (has_prefix(path, p)) return true;
  }
  return false;
}

// Keys the workload writes (replicated, checked value by value).
inline bool is_workload_key(const std::string& path) { return has_prefix(path, "kv/"); }

}  // namespace replsim::harness::detail
