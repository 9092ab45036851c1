#include "engine/cluster/write_dedupe.h"

#include <charconv>

#include "engine/assert.h"

namespace replsim::cluster {
namespace {

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

WriteDedupe::WriteDedupe(size_t entries_max) : entries_max_(entries_max) {
  REPLSIM_ASSERT(entries_max_ > 0);
}

std::string WriteDedupe::record_path(uint64_t request_id) {
  return std::string(kDedupePrefix) + std::to_string(request_id);
}

std::optional<Position> WriteDedupe::parse_position(std::string_view value) {
  size_t slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto epoch = parse_u64(value.substr(0, slash));
  auto index = parse_u64(value.substr(slash + 1));
  if (!epoch || !index) return std::nullopt;
  return Position{Epoch(*epoch), WalIndex(*index)};
}

void WriteDedupe::clear() {
  at_.clear();
  order_.clear();
}

bool WriteDedupe::load(std::string_view path, std::string_view value) {
  REPLSIM_ASSERT(path.substr(0, kDedupePrefix.size()) == kDedupePrefix);
  auto id = parse_u64(path.substr(kDedupePrefix.size()));
  if (!id || at_.count(*id) != 0) return false;
  at_[*id] = parse_position(value).value_or(Position{});
  order_.emplace_back(*id, true);
  // Concurrent commits can each delete the same evicted record, leaving more records in
  // storage than the bound: the table keeps the bound and forgets the first loaded.
  if (order_.size() > entries_max_) {
    at_.erase(order_.front().first);
    order_.pop_front();
  }
  check_bounds();
  return true;
}

const Position* WriteDedupe::find(uint64_t id) const {
  auto it = at_.find(id);
  return it == at_.end() ? nullptr : &it->second;
}

std::optional<uint64_t> WriteDedupe::evict_record() const {
  if (order_.size() >= entries_max_ && order_.front().second) return order_.front().first;
  return std::nullopt;
}

void WriteDedupe::record(uint64_t id, Position at, bool persisted) {
  REPLSIM_ASSERT_MSG(at_.count(id) == 0, "a write recorded twice in the dedupe table");
  at_[id] = at;
  order_.emplace_back(id, persisted);
  if (order_.size() > entries_max_) {
    at_.erase(order_.front().first);
    order_.pop_front();
  }
  check_bounds();
}

void WriteDedupe::check_bounds() const {
  REPLSIM_ASSERT(at_.size() == order_.size());
  REPLSIM_ASSERT(order_.size() <= entries_max_);
}

}  // namespace replsim::cluster
