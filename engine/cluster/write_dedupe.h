// engine/cluster/write_dedupe.h — the primary's table of committed replicated writes.
//
// Request id → the Position its write committed at, so a retry (a client's or the engine's own
// resend of a forward) is answered with the first outcome instead of being applied twice.
// Contract:
// - Bounded: at most entries_max entries; the oldest is evicted first (FIFO of first commit).
// - Forwarded writes are persisted in the write's own transaction as "sys/dedupe/<id>" whose
//   value the store fills with "<epoch>/<index>" of the write's WAL entry
//   (Transaction::wal_position_path). When the table is full and its oldest entry is
//   persisted, the next commit deletes that record too (evict_record()), so storage stays
//   bounded with the table.
// - A record whose value is not "<epoch>/<index>" loads as Position{} (epoch 0): the write
//   committed at a position not recorded, answered "outcome unknown", never with another
//   write's position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/types.h"

namespace replsim::cluster {

inline constexpr std::string_view kDedupePrefix = "sys/dedupe/";
inline constexpr size_t kDedupeEntriesMax = 50000;

class WriteDedupe {
 public:
  explicit WriteDedupe(size_t entries_max = kDedupeEntriesMax);

  // "sys/dedupe/<id>".
  static std::string record_path(uint64_t request_id);
  // "<epoch>/<index>" → Position; nullopt when malformed.
  static std::optional<Position> parse_position(std::string_view value);

  void clear();
  // Loads one persisted record (a path under kDedupePrefix and its value). Returns false (and
  // loads nothing) when the path does not name a request id.
  bool load(std::string_view path, std::string_view value);
  // Where request `id` committed (Position{} = position unknown), or nullptr.
  const Position* find(uint64_t id) const;
  bool contains(uint64_t id) const { return find(id) != nullptr; }
  // The persisted record the next recorded commit evicts (the caller deletes it in that
  // commit's transaction), or nullopt.
  std::optional<uint64_t> evict_record() const;
  // Records a committed write. REQUIRES: `id` is not in the table.
  void record(uint64_t id, Position at, bool persisted);
  size_t size() const { return at_.size(); }
  size_t entries_max() const { return entries_max_; }

 private:
  void check_bounds() const;

  size_t entries_max_;
  std::map<uint64_t, Position> at_;
  std::deque<std::pair<uint64_t, bool>> order_;  // (request id, persisted), oldest first
};

}  // namespace replsim::cluster
