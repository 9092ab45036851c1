#include "engine/wal/wal_buffer.h"

#include <string>

namespace replsim {

WalBuffer::WalBuffer(WalOptions options) : options_(options) {
  REPLSIM_ASSERT(options_.buffer_entries_max > 0);
  REPLSIM_ASSERT(options_.batch_entries_max > 0);
  REPLSIM_ASSERT(options_.batch_bytes_max > 0);
}

void WalBuffer::reset(WalIndex last) {
  entries_.clear();
  entry_bytes_.clear();
  guards_.clear();
  last_index_ = last;
}

WalIndex WalBuffer::first_index() const {
  return entries_.empty() ? WalIndex(last_index_.value + 1) : entries_.front().index;
}

size_t WalBuffer::retained_entries_max() const {
  if (guards_.empty()) return options_.buffer_entries_max;
  return options_.buffer_entries_max + options_.guard_entries_extra_max;
}

void WalBuffer::append(WalEntry entry, TimeUs now_us) {
  REPLSIM_ASSERT_MSG(entry.index > last_index_, "wal entries must be appended in index order");
  if (entry.index.value != last_index_.value + 1 && last_index_.value != 0) {
    // A gap: the retained entries no longer connect to the new one.
    ++stats_.gap_resets;
    entries_.clear();
    entry_bytes_.clear();
    for (auto it = guards_.begin(); it != guards_.end();) {
      if (it->second.from < entry.index) {
        ++stats_.guards_broken;
        it = guards_.erase(it);
      } else {
        ++it;
      }
    }
  }
  last_index_ = entry.index;
  entry_bytes_.push_back(wal_entry_encoded_bytes(entry));
  entries_.push_back(std::move(entry));
  ++stats_.appended;
  expire_guards(now_us);
}

void WalBuffer::gc() {
  const size_t hard_max = options_.buffer_entries_max + options_.guard_entries_extra_max;
  while (entries_.size() > options_.buffer_entries_max) {
    const WalIndex oldest = entries_.front().index;
    bool pinned = false;
    for (const auto& [id, guard] : guards_) pinned = pinned || guard.from <= oldest;
    if (pinned && entries_.size() <= hard_max) break;
    if (pinned) {
      // The hard bound wins over a guard: break every guard pinning the oldest entry.
      for (auto it = guards_.begin(); it != guards_.end();) {
        if (it->second.from <= oldest) {
          ++stats_.guards_broken;
          it = guards_.erase(it);
        } else {
          ++it;
        }
      }
    }
    entries_.pop_front();
    entry_bytes_.pop_front();
    ++stats_.gc_entries;
  }
  REPLSIM_ASSERT(entries_.size() <= retained_entries_max());
  REPLSIM_ASSERT(entries_.size() == entry_bytes_.size());
}

const WalEntry* WalBuffer::find(WalIndex index) const {
  if (entries_.empty() || index < first_index() || index > last_index_) return nullptr;
  const WalEntry& e = entries_[index.value - first_index().value];
  REPLSIM_ASSERT(e.index == index);
  return &e;
}

Result<WalBatch> WalBuffer::read_batch(WalIndex from) const {
  const WalIndex first = first_index();
  if (from < first) {
    return Status::too_old("wal index " + std::to_string(from.value) +
                           " is older than the oldest retained " + std::to_string(first.value));
  }
  if (from.value > last_index_.value + 1) {
    return Status::invalid_argument("wal index " + std::to_string(from.value) +
                                    " is beyond the last " + std::to_string(last_index_.value));
  }
  WalBatch batch;
  size_t pos = from.value - first.value;
  while (pos < entries_.size() && batch.entries.size() < options_.batch_entries_max) {
    const size_t bytes = entry_bytes_[pos];
    if (!batch.entries.empty() && batch.bytes + bytes > options_.batch_bytes_max) break;
    batch.entries.push_back(entries_[pos]);
    batch.bytes += bytes;
    ++pos;
  }
  batch.next = WalIndex(from.value + batch.entries.size());
  REPLSIM_ASSERT(batch.entries.empty() || batch.entries.front().index == from);
  return batch;
}

Result<WalGuardId> WalBuffer::add_guard(WalIndex from, TimeUs now_us) {
  expire_guards(now_us);
  if (from < first_index()) {
    return Status::too_old("cannot guard wal index " + std::to_string(from.value) +
                           ": oldest retained is " + std::to_string(first_index().value));
  }
  if (from.value > last_index_.value + 1) {
    return Status::invalid_argument("cannot guard wal index beyond last + 1");
  }
  if (guards_.size() >= options_.guards_max) {
    return Status::unavailable("wal guards exhausted (" + std::to_string(guards_.size()) + ")");
  }
  const WalGuardId id = next_guard_id_++;
  guards_[id] = Guard{from, now_us + options_.guard_ttl_us};
  return id;
}

void WalBuffer::release_guard(WalGuardId id) {
  guards_.erase(id);
  gc();
}

void WalBuffer::expire_guards(TimeUs now_us) {
  for (auto it = guards_.begin(); it != guards_.end();) {
    if (it->second.expires_us <= now_us) {
      ++stats_.guards_expired;
      it = guards_.erase(it);
    } else {
      ++it;
    }
  }
  gc();
}

Result<WalBatch> WalCursor::next_batch() {
  Result<WalBatch> batch = buffer_.read_batch(next_);
  if (batch.is_ok()) next_ = batch->next;
  return batch;
}

}  // namespace replsim
