// engine/cluster/token_cache.h — local tokens: their storage records and the token checks.
//
// A token is never stored: its record is "sys/token/<hex SHA-256 of "token|" + token>" →
// expiry (decimal microseconds on this cluster's clock), a local path (never replicated), so a
// token of another cluster is simply unknown here. TokenCache memoizes token → record path
// (a SHA-256 per request otherwise), bounded by entries_max (cleared when full: the cache
// only saves work, it decides nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/status.h"
#include "engine/types.h"

namespace replsim::cluster {

inline constexpr size_t kTokenPathCacheMax = 4096;

class TokenCache {
 public:
  // Reads a record of the cluster's storage (nullopt: absent).
  using Lookup = std::function<std::optional<std::string>(const std::string& path)>;

  explicit TokenCache(size_t entries_max = kTokenPathCacheMax);

  // The storage path of `token`'s record (not cached).
  static std::string record_path(const std::string& token);
  // The record value for a token expiring at `expires_us`.
  static std::string record_value(TimeUs expires_us);
  // Expiry in a record value; nullopt when the value is not one.
  static std::optional<TimeUs> parse_expiry(const std::string& value);

  // record_path(token), memoized.
  const std::string& path(const std::string& token);
  // OK (and *ttl_us, the time left) when `token` has a record that has not expired at now_us;
  // else permission_denied. An unknown token (another cluster's, or a forged one) also
  // counts in unknown_refused().
  Status check(const std::string& token, TimeUs now_us, const Lookup& lookup, int64_t* ttl_us);

  size_t size() const { return paths_.size(); }
  uint64_t unknown_refused() const { return unknown_refused_; }

 private:
  size_t entries_max_;
  std::map<std::string, std::string> paths_;  // token → record path
  uint64_t unknown_refused_ = 0;
};

}  // namespace replsim::cluster
