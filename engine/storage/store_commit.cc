// Store: the group-commit pipeline.
//
// Protocol: commit() queues a transaction and arms a zero-delay flush timer, so everything
// submitted in the same turn of the loop shares a batch. A batch takes queued transactions up
// to the batch bounds, checks fencing and order against the durable state (advanced record by
// record inside the batch), assigns sequence numbers and WAL indices, and writes all records
// with one write at the end of the log followed by one fsync. Only after the fsync succeeds are
// the records applied to the in-memory index and the WAL buffer, and the callbacks run, in
// order. While a batch is in flight new transactions queue: they form the next batch. At most
// one batch is in flight, so a failed batch never has successors on disk.
// - Write fails with kNoSpace: nothing was written (the log is cut back to its last whole
//   record to be sure); the batch's commits fail with kNoSpace; the store goes on.
// - Write or fsync fails otherwise: the store is failed until reopened (the unsynced bytes may
//   or may not survive, so it cannot tell what the disk holds; recovery decides).
#include <string>

#include "engine/storage/store_internal.h"

namespace replsim {

void Store::commit(Transaction txn, CommitCallback done) {
  for (const Mutation& m : txn.mutations) {
    if (m.path.empty()) {
      defer([done] { done(Status::invalid_argument("commit: empty path")); });
      return;
    }
  }
  submit(Pending{std::move(txn), std::nullopt, std::nullopt, std::nullopt, std::move(done)});
}

void Store::commit_replicated(WalEntry entry, std::optional<LockGeneration> expected_generation,
                              CommitCallback done) {
  Transaction txn;
  txn.expected_generation = expected_generation;
  txn.replicate = false;
  for (const KeyChange& c : entry.changes) {
    if (c.path.empty() || options_.mounts.is_local(c.path)) {
      defer([done, p = c.path] {
        done(Status::invalid_argument("replicated entry names a local or empty path '" + p + "'"));
      });
      return;
    }
    txn.mutations.push_back({c.path, c.ciphertext, c.deleted});
  }
  submit(Pending{std::move(txn), std::move(entry), std::nullopt, std::nullopt, std::move(done)});
}

void Store::advance_lock_generation(LockGeneration next, StatusCallback done) {
  submit(Pending{{}, std::nullopt, next, std::nullopt, [done](Result<CommitInfo> r) {
                   if (done) done(r.is_ok() ? Status::ok() : r.status());
                 }});
}

void Store::set_epoch(Epoch epoch, StatusCallback done) {
  submit(Pending{{}, std::nullopt, std::nullopt, epoch, [done](Result<CommitInfo> r) {
                   if (done) done(r.is_ok() ? Status::ok() : r.status());
                 }});
}

void Store::submit(Pending pending) {
  REPLSIM_ASSERT(pending.done != nullptr);
  if (failed()) {
    defer([done = std::move(pending.done), s = failure_] { done(s); });
    return;
  }
  queue_.push_back(std::move(pending));
  schedule_flush();
}

void Store::schedule_flush() {
  if (flush_timer_ != kNoTimer || batch_ || compaction_ || sealing_) return;
  std::weak_ptr<bool> alive = alive_;
  flush_timer_ = env_.schedule(0, [this, alive] {
    if (alive.expired()) return;
    flush_timer_ = kNoTimer;
    start_batch();
  });
}

Status Store::build_record(Pending& p, BatchState& st, StoreRecord* r) const {
  const Transaction& txn = p.txn;
  if (txn.expected_generation && *txn.expected_generation != st.generation) {
    return Status::fenced("lock generation " + std::to_string(txn.expected_generation->value) +
                          " is not the store's " + std::to_string(st.generation.value));
  }
  if (p.new_generation && *p.new_generation <= st.generation) {
    return Status::fenced("lock generation " + std::to_string(p.new_generation->value) +
                          " does not advance " + std::to_string(st.generation.value));
  }
  if (p.remote && st.last_remote) {
    // Contiguity: only the entry right after the last applied one, in its epoch. Epoch numbers
    // say nothing about order (sibling branches); a new epoch starts where the merkle-sync
    // into it put the position (set_last_remote), never with a bare entry.
    const RemotePosition& last = *st.last_remote;
    if (p.remote->epoch == last.epoch && p.remote->index <= last.index) {
      return Status::invalid_argument("replicated entry " + std::to_string(p.remote->index.value) +
                                      " already applied");
    }
    if (p.remote->epoch != last.epoch || p.remote->index.value != last.index.value + 1) {
      return Status::corruption("replicated entry e" + std::to_string(p.remote->epoch.value) + "/" +
                                std::to_string(p.remote->index.value) +
                                " does not follow the last applied e" +
                                std::to_string(last.epoch.value) + "/" +
                                std::to_string(last.index.value) + "; reconnect from there");
    }
  }
  r->seq = st.seq + 1;
  bool any_wal = false;
  r->mutations.reserve(txn.mutations.size());
  for (const Mutation& m : txn.mutations) {
    const bool in_wal =
        p.remote.has_value() || (txn.replicate && options_.mounts.is_replicated(m.path));
    any_wal = any_wal || in_wal;
    r->mutations.push_back({m, in_wal});
  }
  if (p.remote) {
    r->wal_index = p.remote->index;
    r->wal_epoch = p.remote->epoch;
    r->last_remote = RemotePosition{p.remote->index, p.remote->epoch};
  } else if (any_wal) {
    r->wal_index = WalIndex(st.wal_index.value + 1);
    r->wal_epoch = p.new_epoch.value_or(st.epoch);
  }
  if (r->wal_index && !p.remote && !txn.wal_position_path.empty()) {
    REPLSIM_ASSERT(!options_.mounts.is_replicated(txn.wal_position_path));
    r->mutations.push_back(
        {Mutation{txn.wal_position_path,
                  std::to_string(r->wal_epoch.value) + "/" + std::to_string(r->wal_index->value),
                  false},
         false});
  }
  if (txn.set_last_remote) r->last_remote = txn.set_last_remote;
  r->new_generation = p.new_generation;
  r->new_epoch = p.new_epoch;
  // Advance the batch state exactly as apply_record will advance the store.
  st.seq = r->seq;
  if (r->wal_index) st.wal_index = *r->wal_index;
  if (r->new_generation) st.generation = *r->new_generation;
  if (r->new_epoch) st.epoch = *r->new_epoch;
  if (r->last_remote) st.last_remote = r->last_remote;
  return Status::ok();
}

void Store::start_batch() {
  if (batch_ || compaction_ || sealing_ || queue_.empty() || failed()) return;
  auto batch = std::make_unique<Batch>();
  BatchState state{last_seq_, generation_, epoch_, last_wal_index_, last_remote_};
  std::string bytes;
  while (!queue_.empty() && batch->items.size() < options_.batch_txns_max &&
         (batch->items.empty() || bytes.size() < options_.batch_bytes_max)) {
    Batch::Item item{std::move(queue_.front()), Status::ok(), {}};
    queue_.pop_front();
    const BatchState before = state;
    item.status = build_record(item.pending, state, &item.record);
    if (item.status.is_ok()) {
      std::string payload = encode_record(item.record);
      if (payload.size() > kFramePayloadMax) {
        item.status = Status::invalid_argument("transaction too large");
        state = before;  // not written: it takes no sequence number or WAL index
      } else {
        append_frame(&bytes, RecordType::kTransaction, payload);
      }
    }
    batch->items.push_back(std::move(item));
  }
  batch->bytes = bytes.size();
  batch_ = std::move(batch);
  if (bytes.empty()) {
    // Everything was refused: nothing to write.
    return on_batch_synced(Status::ok());
  }
  ++stats_.batches;
  log_->write(log_end_, std::move(bytes), guarded([this](Status s) { on_batch_written(s); }));
}

void Store::on_batch_written(Status status) {
  REPLSIM_ASSERT(batch_ != nullptr);
  if (status.code() == StatusCode::kNoSpace) {
    log_->truncate(log_end_).ignore();  // nothing landed per contract; make sure of it
    std::unique_ptr<Batch> batch = std::move(batch_);
    for (Batch::Item& item : batch->items) {
      ++stats_.commits_failed;
      item.pending.done(item.status.is_ok() ? status : item.status);
    }
    return after_batch();
  }
  if (!status.is_ok()) return fail_store(status);
  if (!log_name_synced_) {
    // A freshly created data.log: its name must be durable before anything in it is acked.
    return env_.fs().sync_dir(guarded([this](Status s) {
      if (!s.is_ok()) return fail_store(s);
      log_name_synced_ = true;
      on_batch_written(Status::ok());
    }));
  }
  ++stats_.fsyncs;
  log_->sync(guarded([this](Status s) { on_batch_synced(s); }));
}

void Store::on_batch_synced(Status status) {
  REPLSIM_ASSERT(batch_ != nullptr);
  if (!status.is_ok()) return fail_store(status);
  std::unique_ptr<Batch> batch = std::move(batch_);
  log_end_ += batch->bytes;
  stats_.log_bytes = log_end_;
  REPLSIM_ASSERT(log_->size() >= log_end_);
  for (Batch::Item& item : batch->items) {
    if (item.status.is_ok()) apply_record(item.record);
  }
  for (Batch::Item& item : batch->items) {
    if (!item.status.is_ok()) {
      ++stats_.commits_failed;
      item.pending.done(item.status);
      continue;
    }
    ++stats_.commits_acked;
    item.pending.done(CommitInfo{item.record.seq, item.record.wal_index, item.record.wal_epoch});
  }
  after_batch();
}

void Store::after_batch() {
  REPLSIM_ASSERT(batch_ == nullptr);
  if (failed()) return;
  if (!compaction_ && options_.auto_compact_log_bytes > 0 &&
      log_end_ >= options_.auto_compact_log_bytes) {
    compact(nullptr);
  }
  if (compaction_ && !compaction_->started) return compact_begin();
  start_batch();
  // Commits that queued while the store was sealing or compacting and found no flush armed.
  if (!batch_ && !queue_.empty()) schedule_flush();
}

void Store::fail_store(Status status) {
  REPLSIM_ASSERT(!status.is_ok());
  if (!failed()) failure_ = Status(status.code(), "store failed: " + status.message());
  std::vector<CommitCallback> to_fail;
  if (batch_) {
    for (Batch::Item& item : batch_->items) to_fail.push_back(std::move(item.pending.done));
    batch_.reset();
  }
  for (Pending& p : queue_) to_fail.push_back(std::move(p.done));
  queue_.clear();
  stats_.commits_failed += to_fail.size();
  for (CommitCallback& done : to_fail) done(failure_);
  if (compaction_ && !compaction_->started) {
    StatusCallback done = std::move(compaction_->done);
    compaction_.reset();
    if (done) done(failure_);
  }
}

}  // namespace replsim
