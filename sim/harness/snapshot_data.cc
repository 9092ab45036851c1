#include "sim/harness/snapshot_data.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::harness {

SnapshotData::SnapshotData(const std::map<std::string, std::string>& m) {
  auto arena = std::make_shared<StringArena>();
  items_.reserve(m.size());
  for (const auto& [path, value] : m) items_.push_back({arena->add(path), arena->add(value)});
  arenas_.push_back(std::move(arena));
}

SnapshotData::SnapshotData(std::initializer_list<std::pair<const std::string, std::string>> items)
    : SnapshotData(std::map<std::string, std::string>(items)) {}

void SnapshotData::push_back(const std::shared_ptr<const StringArena>& arena,
                             const std::string* path, const std::string* value) {
  REPLSIM_ASSERT(path != nullptr && value != nullptr);
  REPLSIM_ASSERT_MSG(items_.empty() || *items_.back().path < *path,
                     "snapshot paths must be appended in path order");
  if (arenas_.empty() || arenas_.back() != arena) arenas_.push_back(arena);
  items_.push_back({path, value});
}

void SnapshotData::clear() {
  items_.clear();
  arenas_.clear();
}

std::vector<SnapshotData::Item>::const_iterator SnapshotData::lower(std::string_view path) const {
  return std::lower_bound(items_.begin(), items_.end(), path,
                          [](const Item& i, std::string_view p) { return *i.path < p; });
}

SnapshotData::const_iterator SnapshotData::lower_bound(std::string_view path) const {
  return const_iterator(lower(path));
}

SnapshotData::const_iterator SnapshotData::find(std::string_view path) const {
  auto it = lower(path);
  if (it == items_.end() || *it->path != path) return end();
  return const_iterator(it);
}

std::map<std::string, std::string> SnapshotData::to_map() const {
  std::map<std::string, std::string> m;
  for (const Item& i : items_) m.emplace_hint(m.end(), *i.path, *i.value);
  return m;
}

bool operator==(const SnapshotData& a, const SnapshotData& b) {
  if (a.items_.size() != b.items_.size()) return false;
  for (size_t i = 0; i < a.items_.size(); ++i) {
    const SnapshotData::Item& x = a.items_[i];
    const SnapshotData::Item& y = b.items_[i];
    if (x.path != y.path && *x.path != *y.path) return false;
    if (x.value != y.value && *x.value != *y.value) return false;
  }
  return true;
}

SnapshotPaths::SnapshotPaths(const std::vector<std::string>& paths) {
  auto arena = std::make_shared<StringArena>();
  paths_.reserve(paths.size());
  for (const std::string& p : paths) paths_.push_back(arena->add(p));
  arenas_.push_back(std::move(arena));
}

void SnapshotPaths::push_back(const std::shared_ptr<const StringArena>& arena,
                              const std::string* path) {
  REPLSIM_ASSERT(path != nullptr);
  if (arenas_.empty() || arenas_.back() != arena) arenas_.push_back(arena);
  paths_.push_back(path);
}

void SnapshotPaths::clear() {
  paths_.clear();
  arenas_.clear();
}

bool operator==(const SnapshotPaths& a, const SnapshotPaths& b) {
  if (a.paths_.size() != b.paths_.size()) return false;
  for (size_t i = 0; i < a.paths_.size(); ++i) {
    if (a.paths_[i] != b.paths_[i] && *a.paths_[i] != *b.paths_[i]) return false;
  }
  return true;
}

}  // namespace replsim::harness
