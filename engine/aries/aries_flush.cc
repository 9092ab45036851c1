// Background durability of the merkle index: page flushing (steal, no-force) through a
// double-write area under the WAL rule, fuzzy checkpoints, the master record, log reclamation.
#include <algorithm>
#include <cmath>

#include "engine/aries/aries_impl.h"
#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim::aries {
namespace {

constexpr uint32_t kMasterMagic = 0x4d4b4d52;  // "MKMR"

// Calls `done` once, after `n` calls of the returned callback, with the first error seen.
IoCallback join(size_t n, std::function<void(Status)> done) {
  struct State {
    size_t left;
    Status status;
    std::function<void(Status)> done;
  };
  auto st = std::make_shared<State>(State{n, Status::ok(), std::move(done)});
  return [st](Status s) {
    if (!s.is_ok() && st->status.is_ok()) st->status = s;
    if (--st->left == 0) st->done(st->status);
  };
}

}  // namespace

std::string encode_master(const MasterRecord& m) {
  std::string out;
  put_fixed32(&out, kMasterMagic);
  put_fixed32(&out, 0);
  put_fixed64(&out, m.seq);
  put_fixed32(&out, m.gen);
  put_fixed64(&out, m.checkpoint_lsn.value);
  out.resize(kMasterSlotBytes, '\0');
  const uint32_t crc = crc32c::value(std::string_view(out).substr(8));
  encode_fixed32(&out[4], crc);
  return out;
}

Result<MasterRecord> read_master(File& file) {
  std::optional<MasterRecord> best;
  for (int slot = 0; slot < 2; ++slot) {
    std::string bytes;
    Status s = file.read(slot * kMasterSlotBytes, kMasterSlotBytes, &bytes);
    if (!s.is_ok() || bytes.size() != kMasterSlotBytes) continue;  // the other slot may do
    ByteReader r(bytes);
    uint32_t magic = 0, crc = 0;
    MasterRecord m;
    (void)r.get(&magic);
    (void)r.get(&crc);
    if (magic != kMasterMagic || crc32c::value(std::string_view(bytes).substr(8)) != crc) {
      continue;
    }
    (void)r.get(&m.seq);
    (void)r.get(&m.gen);
    (void)r.get(&m.checkpoint_lsn.value);
    if (!best.has_value() || m.seq > best->seq) best = m;
  }
  if (!best.has_value()) return Status::not_found("no valid merkle master record");
  return *best;
}

void AriesIndex::Impl::write_master(MasterRecord record, IoCallback done) {
  const uint64_t offset = (record.seq % 2) * kMasterSlotBytes;
  std::weak_ptr<int> alive = alive_;
  master_->write(offset, encode_master(record), [this, alive, done](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) return done(s);
    master_->sync([this, alive, done](Status s2) {
      if (alive.expired()) return;
      if (!s2.is_ok()) return done(s2);
      env_.fs().sync_dir([alive, done](Status s3) {
        if (!alive.expired()) done(s3);
      });
    });
  });
}

void AriesIndex::Impl::flush_pages(uint32_t pages_max, IoCallback done) {
  if (flushing_) return defer(std::move(done), Status::ok());
  // The n oldest dirty pages by (recLSN, page): the front of rec_pages_.
  const size_t n = std::min<size_t>({rec_pages_.size(), pages_max, opt_.flush_batch_pages_max});
  if (n == 0) return defer(std::move(done), Status::ok());
  std::vector<std::pair<Lsn, uint32_t>> dirty(rec_pages_.begin(), std::next(rec_pages_.begin(), n));
  flushing_ = true;
  auto pages = std::make_shared<std::vector<uint32_t>>();
  auto replaced = std::make_shared<std::vector<Extent>>();  // released once durable
  auto writes = std::make_shared<std::vector<std::pair<uint64_t, std::string>>>();
  std::vector<std::string> all_frames;
  Lsn max_lsn;
  for (auto [rec, b] : dirty) {
    PageWrite w = prepare_page_write(b);
    pages->push_back(b);
    replaced->push_back(w.replaced);
    for (auto& write : in_place_writes(w)) writes->push_back(std::move(write));
    for (std::string& f : w.frames) all_frames.push_back(std::move(f));
    max_lsn = std::max(max_lsn, w.page_lsn);
    set_inflight_lsn(b, rec_lsn_[b]);
    set_rec_lsn(b, Lsn{});
  }
  auto batch = std::make_shared<std::string>(encode_dw_batch(all_frames, opt_.page_frame_bytes));
  std::weak_ptr<int> alive = alive_;
  auto finish = [this, alive, pages, replaced, done](Status s) {
    if (alive.expired()) return;
    for (uint32_t b : *pages) {
      if (!s.is_ok() && inflight_lsn_[b] != Lsn{}) {
        set_rec_lsn(
            b, rec_lsn_[b] == Lsn{} ? inflight_lsn_[b] : std::min(rec_lsn_[b], inflight_lsn_[b]));
      }
      set_inflight_lsn(b, Lsn{});
    }
    // A replaced extent is free once its successor is durable; after a failure a durable
    // primary may still name it, so it stays reserved until the next open recomputes.
    if (s.is_ok()) {
      for (const Extent& e : *replaced) extents_.release(e);
    }
    flushing_ = false;
    done(s);
  };
  auto write_in_place = [this, alive, writes, max_lsn, finish](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) return finish(s);
    auto synced = [this, alive, finish](Status s2) {
      if (alive.expired()) return;
      if (!s2.is_ok()) return finish(s2);
      pages_->sync(finish);
    };
    IoCallback all = join(writes->size(), synced);
    for (auto& [offset, bytes] : *writes) {  // the last use of each image
      write_frame(*pages_, offset, std::move(bytes), max_lsn, all);
    }
  };
  log_->force(
      Lsn(max_lsn.value + 1), [this, alive, batch, max_lsn, write_in_place, finish](Status s) {
        if (alive.expired()) return;
        on_log_durable();
        if (!s.is_ok()) return finish(s);
        // Double-write first: a torn in-place write is then always repairable at restart.
        write_frame(*dw_, 0, std::move(*batch), max_lsn, [this, alive, write_in_place](Status s2) {
          if (alive.expired()) return;
          if (!s2.is_ok()) return write_in_place(s2);
          dw_->sync(write_in_place);
        });
      });
}

void AriesIndex::Impl::checkpoint(IoCallback done) {
  if (checkpointing_ || rebuild_pending_) return defer(std::move(done), Status::ok());
  checkpointing_ = true;
  LogRecord begin;
  begin.type = RecordType::kBeginCheckpoint;
  const Lsn begin_lsn = log_->append(&begin);
  LogRecord end;
  end.type = RecordType::kEndCheckpoint;
  end.begin_lsn = begin_lsn;
  end.wal_index = applied_.value;
  Lsn redo_lsn = begin_lsn;
  // Ascending and unique, as the dirty page table is logged.
  std::vector<uint32_t> pages(inflight_pages_.begin(), inflight_pages_.end());
  for (const auto& [rec, page] : rec_pages_) pages.push_back(page);
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  for (uint32_t b : pages) {
    Lsn r = rec_lsn_[b];
    if (inflight_lsn_[b] != Lsn{})
      r = r == Lsn{} ? inflight_lsn_[b] : std::min(r, inflight_lsn_[b]);
    if (r == Lsn{}) continue;
    end.dpt.push_back(DptEntry{b, r});
    redo_lsn = std::min(redo_lsn, r);
  }
  // Transactions are applied synchronously, so none is active between two events: the
  // transaction table of a checkpoint taken in normal operation is empty.
  log_->append(&end);
  std::weak_ptr<int> alive = alive_;
  log_->force_all([this, alive, begin_lsn, redo_lsn, done](Status s) {
    if (alive.expired()) return;
    on_log_durable();
    if (!s.is_ok()) {
      checkpointing_ = false;
      return done(s);
    }
    write_master(MasterRecord{master_seq_ + 1, gen_, begin_lsn},
                 [this, alive, begin_lsn, redo_lsn, done](Status s2) {
                   if (alive.expired()) return;
                   checkpointing_ = false;
                   if (s2.is_ok()) {
                     ++master_seq_;
                     last_checkpoint_lsn_ = begin_lsn;
                     log_->reclaim(redo_lsn);
                   }
                   done(s2);
                 });
  });
}

void AriesIndex::Impl::start_timer() {
  if (!opt_.background) return;
  timer_ = env_.schedule(opt_.flush_interval_us, [this] {
    timer_ = kNoTimer;
    const uint64_t dirty = dirty_pages();
    const auto n =
        static_cast<uint32_t>(std::ceil(static_cast<double>(dirty) * opt_.flush_fraction));
    flush_pages(std::max<uint32_t>(1, n), [](Status) {});
    log_->force_all([this, alive = std::weak_ptr<int>(alive_)](Status) {
      if (!alive.expired()) on_log_durable();
    });
    if (log_->end_lsn().value - last_checkpoint_lsn_.value >= opt_.checkpoint_log_bytes) {
      checkpoint([](Status) {});
    }
    start_timer();
  });
}

}  // namespace replsim::aries
