// Store: construction, reads, and crash-safe compaction.
//
// Compaction protocol, crash-safe at every step: (1) write the whole state to snapshot.tmp and
// sync it; (2) rename snapshot.tmp -> snapshot and sync the directory; (3) truncate data.log
// and sync it. Recovery removes a leftover snapshot.tmp, loads snapshot (covering seq <= S) if
// present and replays data.log skipping records with seq <= S, so a crash or power loss
// between any two steps leaves either the old snapshot with the full log or the new snapshot
// with a log whose old records are skipped. Commits wait while compaction runs.
#include "engine/storage/store.h"

#include "engine/base/coding.h"
#include "engine/storage/store_internal.h"

namespace replsim {
namespace {

constexpr size_t kSnapshotChunkBytes = 1 << 20;

}  // namespace

Store::Store(Env& env, StoreOptions options)
    : env_(env),
      options_(std::move(options)),
      wal_(options_.wal),
      alive_(std::make_shared<bool>(true)) {}

Store::~Store() {
  if (flush_timer_ != kNoTimer) env_.cancel(flush_timer_);
}

Result<std::unique_ptr<Store>> Store::open(Env& env, StoreOptions options) {
  std::unique_ptr<Store> store(new Store(env, std::move(options)));
  Status s = store->recover();
  if (!s.is_ok()) return s;
  return store;
}

void Store::defer(std::function<void()> fn) {
  std::weak_ptr<bool> alive = alive_;
  env_.schedule(0, [alive, fn = std::move(fn)] {
    if (!alive.expired()) fn();
  });
}

IoCallback Store::guarded(std::function<void(Status)> fn) {
  std::weak_ptr<bool> alive = alive_;
  return [alive, fn = std::move(fn)](Status s) {
    if (!alive.expired()) fn(std::move(s));
  };
}

std::optional<std::string> Store::get(std::string_view path) const {
  auto it = data_.find(path);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Store::list(std::string_view prefix) const {
  std::vector<std::string> out;
  scan(prefix, [&out](const std::string& path, const std::string&) {
    out.push_back(path);
    return true;
  });
  return out;
}

void Store::scan(std::string_view prefix,
                 const std::function<bool(const std::string&, const std::string&)>& fn) const {
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!fn(it->first, it->second)) break;
  }
}

size_t Store::pending() const { return queue_.size() + (batch_ ? batch_->items.size() : 0); }

std::string Store::encode_snapshot() const {
  std::string out;
  SnapshotHeader header{last_seq_,    generation_,  epoch_,     last_wal_index_,
                        last_remote_, data_.size(), wal_.size()};
  append_frame(&out, RecordType::kSnapshotHeader, encode_snapshot_header(header));
  std::string chunk;
  uint64_t in_chunk = 0;
  auto flush = [&](RecordType type) {
    if (in_chunk == 0) return;
    std::string payload;
    put_varint64(&payload, in_chunk);
    payload.append(chunk);
    append_frame(&out, type, payload);
    chunk.clear();
    in_chunk = 0;
  };
  for (const auto& [path, value] : data_) {
    put_length_prefixed(&chunk, path);
    put_length_prefixed(&chunk, value);
    if (++in_chunk, chunk.size() >= kSnapshotChunkBytes) flush(RecordType::kSnapshotKeys);
  }
  flush(RecordType::kSnapshotKeys);
  for (const WalEntry& entry : wal_.entries()) {
    put_length_prefixed(&chunk, encode_wal_entry(entry));
    if (++in_chunk, chunk.size() >= kSnapshotChunkBytes) flush(RecordType::kSnapshotWal);
  }
  flush(RecordType::kSnapshotWal);
  std::string footer;
  put_fixed64(&footer, data_.size());
  put_fixed64(&footer, wal_.size());
  append_frame(&out, RecordType::kSnapshotFooter, footer);
  return out;
}

void Store::compact(StatusCallback done) {
  if (compaction_) {
    defer([done] {
      if (done) done(Status::unavailable("a compaction is already running"));
    });
    return;
  }
  if (failed()) {
    defer([done, s = failure_] {
      if (done) done(s);
    });
    return;
  }
  compaction_ = std::make_unique<Compaction>();
  compaction_->done = std::move(done);
  // Starts now if no batch is in flight; else when it completes (after_batch).
  if (!batch_ && !sealing_) defer([this] { compact_begin(); });
}

void Store::compact_begin() {
  // A deferred start may find the compaction gone (failed store) or a batch or seal running
  // (after_batch and seal_done start it again).
  if (compaction_ == nullptr || compaction_->started || sealing_ || batch_) return;
  compaction_->started = true;
  compaction_->seq = last_seq_;
  FileSystem& fs = env_.fs();
  const std::string tmp_name = file_name(kSnapshotTmpName);
  if (fs.exists(tmp_name)) fs.remove(tmp_name).ignore();  // a leftover; rewritten below
  Result<std::unique_ptr<File>> tmp = fs.open(tmp_name, true);
  if (!tmp.is_ok()) return compact_finish(tmp.status());
  compaction_->tmp = std::move(*tmp);
  compaction_->tmp->write(0, encode_snapshot(), guarded([this](Status s) {
                            if (!s.is_ok()) return compact_finish(s);
                            compaction_->tmp->sync(guarded([this](Status s2) {
                              if (!s2.is_ok()) return compact_finish(s2);
                              compact_after_snapshot_synced();
                            }));
                          }));
}

void Store::compact_after_snapshot_synced() {
  FileSystem& fs = env_.fs();
  compaction_->tmp.reset();
  Status renamed = fs.rename(file_name(kSnapshotTmpName), file_name(kSnapshotName));
  if (!renamed.is_ok()) return compact_finish(renamed);
  fs.sync_dir(guarded([this](Status s) {
    if (!s.is_ok()) return compact_finish(s);  // the log is intact: either snapshot is fine
    snapshot_seq_ = compaction_->seq;
    Status truncated = log_->truncate(0);
    if (!truncated.is_ok()) return compact_finish(truncated);
    log_->sync(guarded([this](Status s2) {
      ++stats_.fsyncs;
      if (!s2.is_ok()) {
        fail_store(s2);
        return compact_finish(s2);
      }
      log_end_ = 0;
      stats_.log_bytes = 0;
      ++stats_.compactions;
      compact_finish(Status::ok());
    }));
  }));
}

void Store::compact_finish(Status status) {
  REPLSIM_ASSERT(compaction_ != nullptr);
  if (!status.is_ok() && compaction_->tmp) {
    compaction_->tmp.reset();
    env_.fs().remove(file_name(kSnapshotTmpName)).ignore();
  }
  StatusCallback done = std::move(compaction_->done);
  compaction_.reset();
  if (done) done(status);
  if (!queue_.empty()) schedule_flush();
}

}  // namespace replsim
