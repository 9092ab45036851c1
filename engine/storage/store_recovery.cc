// Store: recovery at open.
//
// Recovery: remove a leftover snapshot.tmp (a compaction that never renamed it); load the
// snapshot (it was synced before being renamed, so any damage is corruption); replay data.log
// from the start, skipping records the snapshot covers, requiring consecutive sequence numbers.
// At the first bad frame, the rest of the log is a torn tail (truncated) unless a valid record
// with a later sequence number follows, which means damage in the middle: kCorruption naming
// both offsets, and nothing is silently dropped.
#include <string>

#include "engine/base/coding.h"
#include "engine/storage/store_internal.h"

namespace replsim {
namespace {

Status read_all(File& file, std::string* out) {
  Status s = file.read(0, file.size(), out);
  if (!s.is_ok()) return Status(s.code(), file.path() + ": " + s.message());
  if (out->size() != file.size()) return Status::io_error(file.path() + ": short read");
  return Status::ok();
}

Status snapshot_corrupt(const std::string& name, size_t offset, std::string_view what) {
  return Status::corruption(name + ": " + std::string(what) + " at offset " +
                            std::to_string(offset));
}

// Loads one kSnapshotKeys or kSnapshotWal frame.
Status load_snapshot_chunk(const Frame& frame,
                           std::map<std::string, std::string, std::less<>>* data,
                           std::vector<WalEntry>* entries, uint64_t* keys) {
  ByteReader r(frame.payload);
  uint64_t n = 0;
  if (!r.get_varint64(&n)) return Status::corruption("bad chunk");
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view a;
    std::string_view b;
    if (frame.type == RecordType::kSnapshotKeys) {
      if (!r.get_length_prefixed(&a) || !r.get_length_prefixed(&b) || a.empty()) {
        return Status::corruption("bad key chunk");
      }
      data->insert_or_assign(std::string(a), std::string(b));
      ++*keys;
      continue;
    }
    if (!r.get_length_prefixed(&a)) return Status::corruption("bad wal chunk");
    Result<WalEntry> e = decode_wal_entry(a);
    if (!e.is_ok()) return e.status();
    if (!entries->empty() && e->index <= entries->back().index) {
      return Status::corruption("wal entries out of order");
    }
    entries->push_back(std::move(*e));
  }
  if (!r.empty()) return Status::corruption("trailing chunk bytes");
  return Status::ok();
}

}  // namespace

Status Store::recover() {
  FileSystem& fs = env_.fs();
  const std::string tmp_name = file_name(kSnapshotTmpName);
  if (fs.exists(tmp_name)) REPLSIM_RETURN_IF_ERROR(fs.remove(tmp_name));
  REPLSIM_RETURN_IF_ERROR(load_snapshot());
  const std::string log_name = file_name(kLogName);
  log_name_synced_ = fs.exists(log_name);
  Result<std::unique_ptr<File>> log = fs.open(log_name, true);
  if (!log.is_ok()) return log.status();
  log_ = std::move(*log);
  REPLSIM_RETURN_IF_ERROR(replay_log());
  stats_.log_bytes = log_end_;
  return Status::ok();
}

void Store::seal(std::string recovered_log) {
  REPLSIM_ASSERT(recovered_log.size() == log_end_);
  sealing_ = true;
  auto sync_log = [this] {
    log_->sync(guarded([this](Status s) {
      ++stats_.fsyncs;
      if (!s.is_ok()) return seal_done(s);
      if (log_name_synced_) return seal_done(Status::ok());
      env_.fs().sync_dir(guarded([this](Status s2) {
        if (s2.is_ok()) log_name_synced_ = true;
        seal_done(s2);
      }));
    }));
  };
  if (recovered_log.empty()) return sync_log();  // still makes a truncated tail durable
  // Rewriting the same bytes makes them dirty again, so the sync below persists them even if
  // an earlier failed fsync had dropped them from the device.
  log_->write(0, std::move(recovered_log), guarded([this, sync_log](Status s) {
                if (!s.is_ok()) return seal_done(s);
                sync_log();
              }));
}

void Store::seal_done(Status status) {
  sealing_ = false;
  if (!status.is_ok()) fail_store(status);
  std::vector<StatusCallback> waiters = std::move(ready_waiters_);
  ready_waiters_.clear();
  for (StatusCallback& done : waiters) done(failed() ? failure_ : Status::ok());
  if (!failed()) after_batch();
}

void Store::on_ready(StatusCallback done) {
  REPLSIM_ASSERT(done != nullptr);
  if (!sealing_) {
    defer([this, done] { done(failed() ? failure_ : Status::ok()); });
    return;
  }
  ready_waiters_.push_back(std::move(done));
}

Status Store::load_snapshot() {
  const std::string name = file_name(kSnapshotName);
  wal_.reset(WalIndex(0));
  if (!env_.fs().exists(name)) return Status::ok();
  Result<std::unique_ptr<File>> file = env_.fs().open(name, false);
  if (!file.is_ok()) return file.status();
  std::string bytes;
  REPLSIM_RETURN_IF_ERROR(read_all(**file, &bytes));
  const std::string_view in(bytes);
  size_t off = 0;
  std::optional<Frame> frame = parse_frame(in);
  if (!frame || frame->type != RecordType::kSnapshotHeader) {
    return snapshot_corrupt(name, 0, "bad header frame");
  }
  Result<SnapshotHeader> header = decode_snapshot_header(frame->payload);
  if (!header.is_ok()) return snapshot_corrupt(name, 0, header.status().message());
  off += frame->bytes;
  std::vector<WalEntry> entries;
  uint64_t keys = 0;
  bool footer = false;
  while (!footer) {
    frame = parse_frame(in.substr(off));
    if (!frame) return snapshot_corrupt(name, off, "bad frame");
    ByteReader r(frame->payload);
    uint64_t n = 0;
    if (frame->type == RecordType::kSnapshotFooter) {
      uint64_t wal_count = 0;
      if (!r.get_fixed64(&n) || !r.get_fixed64(&wal_count) || n != header->key_count ||
          wal_count != header->wal_count) {
        return snapshot_corrupt(name, off, "bad footer");
      }
      footer = true;
    } else if (frame->type == RecordType::kSnapshotKeys ||
               frame->type == RecordType::kSnapshotWal) {
      Status chunk = load_snapshot_chunk(*frame, &data_, &entries, &keys);
      if (!chunk.is_ok()) return snapshot_corrupt(name, off, chunk.message());
    } else {
      return snapshot_corrupt(name, off, "unexpected frame type");
    }
    off += frame->bytes;
  }
  if (off != in.size()) return snapshot_corrupt(name, off, "bytes after footer");
  if (keys != header->key_count || data_.size() != keys) {
    return snapshot_corrupt(name, off, "key count mismatch");
  }
  if (!entries.empty() && entries.back().index != header->last_wal_index) {
    return snapshot_corrupt(name, off, "wal entries do not end at the last wal index");
  }
  generation_ = header->generation;
  epoch_ = header->epoch;
  last_wal_index_ = header->last_wal_index;
  last_remote_ = header->last_remote;
  last_seq_ = snapshot_seq_ = header->seq;
  wal_.reset(entries.empty() ? last_wal_index_ : WalIndex(entries.front().index.value - 1));
  for (WalEntry& e : entries) wal_.append(std::move(e), env_.now_us());
  return Status::ok();
}

Status Store::replay_log() {
  std::string bytes;
  REPLSIM_RETURN_IF_ERROR(read_all(*log_, &bytes));
  const std::string_view in(bytes);
  const std::string& name = log_->path();
  size_t off = 0;
  while (off < in.size()) {
    std::optional<Frame> frame = parse_frame(in.substr(off));
    if (!frame || frame->type != RecordType::kTransaction) break;
    Result<StoreRecord> record = decode_record(frame->payload);
    if (!record.is_ok()) return snapshot_corrupt(name, off, record.status().message());
    if (record->seq > snapshot_seq_) {
      if (record->seq != last_seq_ + 1) {
        return snapshot_corrupt(name, off, "sequence gap after " + std::to_string(last_seq_));
      }
      apply_record(*record);
      ++stats_.recovered_records;
    }
    off += frame->bytes;
  }
  if (off < in.size()) {
    // Torn tail, unless a whole later transaction follows the bad bytes.
    for (size_t p = off + 1; p + kFrameHeaderBytes <= in.size(); ++p) {
      std::optional<Frame> later = parse_frame(in.substr(p));
      if (!later || later->type != RecordType::kTransaction) continue;
      Result<StoreRecord> record = decode_record(later->payload);
      if (record.is_ok() && record->seq > last_seq_) {
        return Status::corruption(name + ": bad record at offset " + std::to_string(off) +
                                  " followed by a valid record at offset " + std::to_string(p));
      }
    }
    stats_.truncated_tail_bytes = in.size() - off;
    REPLSIM_RETURN_IF_ERROR(log_->truncate(off));
  }
  log_end_ = off;
  bytes.resize(off);
  seal(std::move(bytes));
  return Status::ok();
}

void Store::apply_record(StoreRecord& r) {
  REPLSIM_ASSERT(r.seq == last_seq_ + 1);
  if (r.new_generation) generation_ = *r.new_generation;
  if (r.new_epoch) epoch_ = *r.new_epoch;
  if (r.last_remote) last_remote_ = r.last_remote;
  if (r.wal_index) {
    // An entry not after the buffer's last (a secondary following a new primary) restarts it.
    if (*r.wal_index <= wal_.last_index()) wal_.reset(WalIndex(r.wal_index->value - 1));
    wal_.append(r.wal_entry(), env_.now_us());  // copies: before the values move below
    last_wal_index_ = *r.wal_index;
  }
  for (StoredMutation& sm : r.mutations) {
    Mutation& m = sm.mutation;
    auto it = data_.lower_bound(m.path);
    const bool found = it != data_.end() && it->first == m.path;
    if (m.deleted) {
      if (found) data_.erase(it);
    } else if (found) {
      it->second = std::move(m.value);
    } else {
      data_.emplace_hint(it, std::move(m.path), std::move(m.value));
    }
  }
  last_seq_ = r.seq;
}

}  // namespace replsim
