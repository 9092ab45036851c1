// The replicated data of one snapshot: an immutable path → plaintext map in path order that
// shares its strings.
//
// A run keeps every data snapshot until the checkers run, and consecutive snapshots of a
// cluster hold mostly the same values: a map of string copies per snapshot cost ~370 bytes
// per path (about half of a run's memory in the standard scenario). A SnapshotData holds two
// pointers per path into a StringArena that the snapshots of a run share (the runner's
// snapshot cache interns each path and each decrypted value once), so a snapshot costs
// 16 bytes per path.
//
// It reads like a const std::map<std::string, std::string> for the checkers: iteration in
// path order yields (path, value) pairs of const std::string&, with find/lower_bound/size and
// equality of contents. Built from a std::map (tests, recovery records) it owns its strings.
#pragma once

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace replsim::harness {

// Append-only storage for the strings snapshots point at: a string's address is stable for
// the arena's life (std::deque never moves its elements on push_back).
class StringArena {
 public:
  const std::string* add(std::string s) {
    strings_.push_back(std::move(s));
    return &strings_.back();
  }
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;
};

class SnapshotData {
 public:
  struct Item {
    const std::string* path;
    const std::string* value;
  };
  using Pair = std::pair<const std::string&, const std::string&>;

  class const_iterator {
   public:
    // What operator-> points at: the pair lives in the proxy for the expression.
    struct Arrow {
      Pair pair;
      const Pair* operator->() const { return &pair; }
    };
    const_iterator() = default;
    explicit const_iterator(std::vector<Item>::const_iterator it) : it_(it) {}
    Pair operator*() const { return {*it_->path, *it_->value}; }
    Arrow operator->() const { return Arrow{**this}; }
    const_iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return it_ == o.it_; }
    bool operator!=(const const_iterator& o) const { return it_ != o.it_; }

   private:
    std::vector<Item>::const_iterator it_;
  };

  SnapshotData() = default;
  // Copies of `m`'s strings, owned by this SnapshotData.
  SnapshotData(const std::map<std::string, std::string>& m);  // NOLINT: implicit by design
  SnapshotData(std::initializer_list<std::pair<const std::string, std::string>> items);

  // Appends (path, value). REQUIRES: `path` sorts after the last path; both strings live in
  // `arena`, which this SnapshotData keeps alive.
  void push_back(const std::shared_ptr<const StringArena>& arena, const std::string* path,
                 const std::string* value);
  void reserve(size_t n) { items_.reserve(n); }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear();
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }
  const_iterator find(std::string_view path) const;
  const_iterator lower_bound(std::string_view path) const;
  std::map<std::string, std::string> to_map() const;

  // Equal paths with equal values (strings compared only when their addresses differ).
  friend bool operator==(const SnapshotData& a, const SnapshotData& b);
  friend bool operator!=(const SnapshotData& a, const SnapshotData& b) { return !(a == b); }

 private:
  std::vector<Item>::const_iterator lower(std::string_view path) const;

  std::vector<Item> items_;
  // The arenas the items point into (one shared arena per run; an owned one when built from
  // a map).
  std::vector<std::shared_ptr<const StringArena>> arenas_;
};

// The local paths of one snapshot, in path order, as pointers into a shared StringArena (a
// cluster holds thousands of token paths that rarely change between its snapshots). Reads
// like a const std::vector<std::string>.
class SnapshotPaths {
 public:
  class const_iterator {
   public:
    const_iterator() = default;
    explicit const_iterator(std::vector<const std::string*>::const_iterator it) : it_(it) {}
    const std::string& operator*() const { return **it_; }
    const std::string* operator->() const { return *it_; }
    const_iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return it_ == o.it_; }
    bool operator!=(const const_iterator& o) const { return it_ != o.it_; }

   private:
    std::vector<const std::string*>::const_iterator it_;
  };

  SnapshotPaths() = default;
  // Copies of `paths`, owned by this SnapshotPaths.
  SnapshotPaths(const std::vector<std::string>& paths);  // NOLINT: implicit by design
  SnapshotPaths(std::initializer_list<std::string> paths)
      : SnapshotPaths(std::vector<std::string>(paths)) {}

  // Appends `path`, a string of `arena`, which this SnapshotPaths keeps alive.
  void push_back(const std::shared_ptr<const StringArena>& arena, const std::string* path);
  void reserve(size_t n) { paths_.reserve(n); }
  size_t size() const { return paths_.size(); }
  bool empty() const { return paths_.empty(); }
  void clear();
  const std::string& operator[](size_t i) const { return *paths_[i]; }
  const_iterator begin() const { return const_iterator(paths_.begin()); }
  const_iterator end() const { return const_iterator(paths_.end()); }

  friend bool operator==(const SnapshotPaths& a, const SnapshotPaths& b);
  friend bool operator!=(const SnapshotPaths& a, const SnapshotPaths& b) { return !(a == b); }

 private:
  std::vector<const std::string*> paths_;
  std::vector<std::shared_ptr<const StringArena>> arenas_;
};

}  // namespace replsim::harness
