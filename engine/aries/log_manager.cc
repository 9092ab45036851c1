#include "engine/aries/log_manager.h"

#include <algorithm>
#include <cstdio>

#include "engine/base/hex.h"

namespace replsim::aries {

LogManager::LogManager(Env& env, std::string dir, uint32_t gen, uint64_t segment_bytes)
    : env_(env),
      dir_(std::move(dir)),
      gen_(gen),
      segment_bytes_(segment_bytes),
      alive_(std::make_shared<int>(0)) {}

LogManager::~LogManager() = default;

std::string LogManager::segment_prefix(const std::string& dir, uint32_t gen) {
  return dir + "/log." + std::to_string(gen) + ".";
}

Status LogManager::open() {
  const std::string prefix = segment_prefix(dir_, gen_);
  for (const std::string& name : env_.fs().list(prefix)) {
    const std::string hex = name.substr(prefix.size());
    if (hex.size() != 16) continue;
    Segment seg;
    seg.start = std::strtoull(hex.c_str(), nullptr, 16);
    auto file = env_.fs().open(name, false);
    if (!file.is_ok()) return file.status();
    seg.file = std::move(file.value());
    seg.bytes = seg.file->size();
    segments_.push_back(std::move(seg));
  }
  if (segments_.empty()) {
    end_lsn_ = durable_lsn_ = kFirstLsn.value;
    return roll_segment();
  }
  const Segment& last = segments_.back();
  end_lsn_ = durable_lsn_ = last.start + last.bytes;
  return Status::ok();
}

Status LogManager::roll_segment() {
  auto file = env_.fs().open(segment_prefix(dir_, gen_) + base::hex_u64(end_lsn_), true);
  if (!file.is_ok()) return file.status();
  Segment seg;
  seg.start = end_lsn_;
  seg.file = std::move(file.value());
  REPLSIM_RETURN_IF_ERROR(seg.file->truncate(0));
  segments_.push_back(std::move(seg));
  dir_dirty_ = true;
  return Status::ok();
}

LogManager::Segment* LogManager::segment_of(uint64_t lsn) {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->start <= lsn) return lsn < it->start + it->bytes ? &*it : nullptr;
  }
  return nullptr;
}

Result<Lsn> LogManager::scan(Lsn from_lsn, const std::function<void(const LogRecord&)>& fn) {
  const uint64_t from = from_lsn.value;
  size_t i = 0;
  while (i < segments_.size() && segments_[i].start + segments_[i].bytes <= from) ++i;
  if (i == segments_.size() || segments_[i].start > from) {
    return Status::corruption("aries log: no segment holds lsn " + std::to_string(from));
  }
  uint64_t lsn = from;
  for (; i < segments_.size(); ++i) {
    Segment& seg = segments_[i];
    if (seg.start != lsn && lsn != from) break;  // a gap: what follows is not log
    std::string bytes;
    REPLSIM_RETURN_IF_ERROR(seg.file->read(0, seg.bytes, &bytes));
    uint64_t offset = lsn - seg.start;
    LogRecord rec;
    while (offset < bytes.size()) {
      const size_t n = decode_record(std::string_view(bytes).substr(offset), Lsn(lsn), &rec);
      if (n == 0) return Lsn(lsn);  // torn or corrupt: the end of the log
      fn(rec);
      offset += n;
      lsn += n;
    }
    if (offset != seg.bytes) return Lsn(lsn);
  }
  return Lsn(lsn);
}

Result<LogRecord> LogManager::read_at(Lsn at) {
  const uint64_t lsn = at.value;
  Segment* seg = segment_of(lsn);
  if (seg == nullptr) return Status::corruption("aries log: lsn out of range");
  std::string head;
  REPLSIM_RETURN_IF_ERROR(seg->file->read(lsn - seg->start, 8, &head));
  const uint32_t len = peek_record_length(head);
  std::string bytes;
  REPLSIM_RETURN_IF_ERROR(seg->file->read(lsn - seg->start, len, &bytes));
  LogRecord rec;
  if (decode_record(bytes, at, &rec) == 0) {
    return Status::corruption("aries log: bad record at lsn " + std::to_string(lsn));
  }
  return rec;
}

Status LogManager::set_end(Lsn end_lsn) {
  const uint64_t end = end_lsn.value;
  REPLSIM_ASSERT(pending_.empty());
  while (segments_.size() > 1 && segments_.back().start >= end && segments_.back().start != end) {
    REPLSIM_RETURN_IF_ERROR(env_.fs().remove(segments_.back().file->path()));
    segments_.pop_back();
    dir_dirty_ = true;
  }
  Segment& last = segments_.back();
  REPLSIM_ASSERT(last.start <= end);
  REPLSIM_RETURN_IF_ERROR(last.file->truncate(end - last.start));
  last.bytes = end - last.start;
  end_lsn_ = end;
  // Nothing counts as durable until the cut is (start_cut_barrier).
  durable_lsn_ = segments_.front().start;
  cut_unsynced_ = true;
  cut_lsn_ = end;
  return Status::ok();
}

Lsn LogManager::append(LogRecord* record) {
  record->lsn = Lsn(end_lsn_);
  std::string bytes = encode_record(*record);
  if (segments_.back().bytes > 0 && segments_.back().bytes + bytes.size() > segment_bytes_) {
    Status s = roll_segment();
    REPLSIM_ASSERT_MSG(s.is_ok(), "aries log: cannot create a segment");
  }
  Segment& seg = segments_.back();
  const size_t index = segments_removed_ + segments_.size() - 1;
  if (!pending_.empty() && pending_.back().segment == index) {
    pending_.back().data.append(bytes);
  } else {
    pending_.push_back(PendingWrite{index, seg.bytes, bytes});
  }
  seg.bytes += bytes.size();
  end_lsn_ += bytes.size();
  return record->lsn;
}

void LogManager::force(Lsn up_to_lsn, IoCallback done) {
  const uint64_t up_to = up_to_lsn.value;
  if (durable_lsn_ >= up_to || durable_lsn_ >= end_lsn_) {
    std::weak_ptr<int> alive = alive_;
    env_.schedule(0, [alive, done = std::move(done)] {
      if (!alive.expired()) done(Status::ok());
    });
    return;
  }
  waiters_.push_back(Waiter{up_to, std::move(done)});
  if (!forcing_) start_force();
}

void LogManager::start_cut_barrier() {
  REPLSIM_ASSERT(!forcing_);
  REPLSIM_ASSERT(cut_unsynced_);
  forcing_ = true;
  const bool sync_dir = dir_dirty_;
  dir_dirty_ = false;
  // Only segments up to the cut: records appended since go to later segments (or after the
  // cut in the last one) and are written by the force that follows this barrier.
  std::vector<File*> files;
  for (Segment& seg : segments_) {
    if (seg.start <= cut_lsn_) files.push_back(seg.file.get());
  }
  struct Join {
    size_t left;
    Status status;
  };
  auto join = std::make_shared<Join>(Join{files.size() + (sync_dir ? 1 : 0), Status::ok()});
  std::weak_ptr<int> alive = alive_;
  auto one = [this, alive, join, sync_dir](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok() && join->status.is_ok()) join->status = s;
    if (--join->left > 0) return;
    forcing_ = false;
    if (!join->status.is_ok()) {
      if (sync_dir) dir_dirty_ = true;
      return finish_force(join->status, durable_lsn_, {});
    }
    cut_unsynced_ = false;
    durable_lsn_ = std::max(durable_lsn_, cut_lsn_);
    start_force();
  };
  for (File* f : files) f->sync(one);
  if (sync_dir) env_.fs().sync_dir(one);
}

void LogManager::start_force() {
  if (cut_unsynced_) return start_cut_barrier();
  REPLSIM_ASSERT(!forcing_);
  forcing_ = true;
  const uint64_t target = end_lsn_;
  std::vector<PendingWrite> writes = std::move(pending_);
  pending_.clear();
  const bool sync_dir = dir_dirty_;
  dir_dirty_ = false;
  // writes + one sync per touched segment + maybe the directory; all issued at once (a sync
  // covers every write issued before it).
  std::vector<File*> files;
  for (const PendingWrite& w : writes) {
    REPLSIM_ASSERT(w.segment >= segments_removed_);
    File* f = segments_[w.segment - segments_removed_].file.get();
    if (files.empty() || files.back() != f) files.push_back(f);
  }
  struct Join {
    size_t left;
    Status status;
  };
  auto join =
      std::make_shared<Join>(Join{writes.size() + files.size() + (sync_dir ? 1 : 0), Status::ok()});
  std::weak_ptr<int> alive = alive_;
  auto shared_writes = std::make_shared<std::vector<PendingWrite>>(writes);
  auto one = [this, alive, join, target, shared_writes, sync_dir](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok() && join->status.is_ok()) join->status = s;
    if (--join->left > 0) return;
    if (!join->status.is_ok() && sync_dir) dir_dirty_ = true;
    finish_force(join->status, target, std::move(*shared_writes));
  };
  for (const PendingWrite& w : writes) {
    segments_[w.segment - segments_removed_].file->write(w.offset, w.data, one);
  }
  for (File* f : files) f->sync(one);
  if (sync_dir) env_.fs().sync_dir(one);
  if (join->left == 0) {
    env_.schedule(0, [this, alive, target] {
      if (!alive.expired()) finish_force(Status::ok(), target, {});
    });
  }
}

void LogManager::finish_force(Status status, uint64_t target, std::vector<PendingWrite> writes) {
  forcing_ = false;
  if (status.is_ok()) {
    durable_lsn_ = std::max(durable_lsn_, target);
  } else {
    // Not durable: rewrite the same bytes on the next force.
    writes.insert(writes.end(), std::make_move_iterator(pending_.begin()),
                  std::make_move_iterator(pending_.end()));
    pending_ = std::move(writes);
  }
  std::vector<Waiter> ready, waiting;
  for (Waiter& w : waiters_) {
    (status.is_ok() && w.up_to > durable_lsn_ ? waiting : ready).push_back(std::move(w));
  }
  waiters_ = std::move(waiting);
  for (Waiter& w : ready) w.done(status);
  if (!waiters_.empty() && !forcing_) start_force();
}

void LogManager::reclaim(Lsn keep_from_lsn) {
  const uint64_t keep_from = keep_from_lsn.value;
  while (segments_.size() > 1 && segments_[1].start <= keep_from) {
    REPLSIM_ASSERT(segments_[1].start <= durable_lsn_);
    Status s = env_.fs().remove(segments_.front().file->path());
    if (!s.is_ok()) return;  // retried at the next checkpoint
    segments_.pop_front();
    ++segments_removed_;
    dir_dirty_ = true;
  }
}

uint64_t LogManager::bytes_on_disk() const {
  uint64_t n = 0;
  for (const Segment& s : segments_) n += s.bytes;
  return n;
}

Lsn LogManager::first_lsn() const { return Lsn(segments_.front().start); }

}  // namespace replsim::aries
