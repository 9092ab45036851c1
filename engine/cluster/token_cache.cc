#include "engine/cluster/token_cache.h"

#include <charconv>

#include "engine/assert.h"
#include "engine/replication/credentials.h"
#include "engine/storage/mount_table.h"

namespace replsim::cluster {

TokenCache::TokenCache(size_t entries_max) : entries_max_(entries_max) {
  REPLSIM_ASSERT(entries_max_ > 0);
}

std::string TokenCache::record_path(const std::string& token) {
  return std::string(MountTable::kTokenPrefix) +
         replication::to_hex(replication::sha256("token|" + token));
}

std::string TokenCache::record_value(TimeUs expires_us) { return std::to_string(expires_us); }

std::optional<TimeUs> TokenCache::parse_expiry(const std::string& value) {
  TimeUs v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
    return std::nullopt;
  }
  return v;
}

const std::string& TokenCache::path(const std::string& token) {
  REPLSIM_ASSERT(!token.empty());
  auto cached = paths_.find(token);
  if (cached == paths_.end()) {
    if (paths_.size() >= entries_max_) paths_.clear();
    cached = paths_.emplace(token, record_path(token)).first;
  }
  REPLSIM_ASSERT(paths_.size() <= entries_max_);
  return cached->second;
}

Status TokenCache::check(const std::string& token, TimeUs now_us, const Lookup& lookup,
                         int64_t* ttl_us) {
  REPLSIM_ASSERT(ttl_us != nullptr);
  if (token.empty()) return Status::permission_denied("missing token");
  auto stored = lookup(path(token));
  if (!stored) {
    unknown_refused_++;
    return Status::permission_denied("unknown token");
  }
  auto expires_us = parse_expiry(*stored);
  if (!expires_us) return Status::permission_denied("token record unreadable");
  if (*expires_us <= now_us) return Status::permission_denied("token expired");
  *ttl_us = *expires_us - now_us;
  return Status();
}

}  // namespace replsim::cluster
