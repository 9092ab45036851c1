// ARIES restart of the merkle index: analysis, redo (repeating history), undo of losers with
// CLRs; then roll forward from the replication WAL, or rebuild from storage.
//
// Crash during restart: redo is idempotent (pageLSN), and undo resumes from the CLRs that
// reached the log (a CLR's undoNextLSN skips what it compensated), so no update is undone
// twice. A page never reflects a CLR that is not durable (the WAL rule), so a CLR lost in a
// crash takes its page effect with it and the next restart undoes that update again, once.
#include <map>
#include <set>

#include "engine/aries/aries_impl.h"

namespace replsim::aries {
namespace {

struct Analysis {
  Lsn end_lsn;
  uint64_t applied = 0;
  std::map<uint32_t, Lsn> dpt;          // page → recLSN
  std::map<uint64_t, TxnEntry> losers;  // txn → (last LSN, undoNext)
  bool saw_begin = false;
  bool saw_end = false;
  uint64_t records = 0;
};

void analyze(const LogRecord& rec, Lsn checkpoint_lsn, Analysis* a) {
  ++a->records;
  if (rec.lsn == checkpoint_lsn) a->saw_begin = rec.type == RecordType::kBeginCheckpoint;
  switch (rec.type) {
    case RecordType::kUpdate:
    case RecordType::kClr: {
      TxnEntry& t = a->losers[rec.txn];
      t.txn = rec.txn;
      t.last_lsn = rec.lsn;
      t.undo_next = rec.type == RecordType::kUpdate ? rec.lsn : rec.undo_next;
      a->dpt.emplace(rec.page, rec.lsn);
      break;
    }
    case RecordType::kCommit:
      a->applied = std::max(a->applied, rec.wal_index);
      a->losers.erase(rec.txn);
      break;
    case RecordType::kEnd:
      a->losers.erase(rec.txn);
      break;
    case RecordType::kBeginCheckpoint:
      break;
    case RecordType::kEndCheckpoint:
      if (rec.begin_lsn != checkpoint_lsn) break;
      a->saw_end = true;
      a->applied = std::max(a->applied, rec.wal_index);
      for (const DptEntry& e : rec.dpt) {
        auto [it, fresh] = a->dpt.emplace(e.page, e.rec_lsn);
        if (!fresh) it->second = std::min(it->second, e.rec_lsn);
      }
      for (const TxnEntry& t : rec.txns) a->losers.emplace(t.txn, t);
      break;
  }
}

}  // namespace

Status AriesIndex::Impl::open(IndexSource& source) {
  auto master = env_.fs().open(master_name(), true);
  if (!master.is_ok()) return master.status();
  master_ = std::move(master.value());
  Result<MasterRecord> m = read_master(*master_);
  if (!m.is_ok()) {
    stats_.fresh = true;
    remove_generation_files(0);  // leftovers of an index whose first checkpoint never landed
    REPLSIM_RETURN_IF_ERROR(rebuild(source, "new index"));
    stats_.rebuilt = false;
  } else if (opt_.force_rebuild) {
    gen_ = m->gen;
    master_seq_ = m->seq;
    REPLSIM_RETURN_IF_ERROR(rebuild(source, "rebuild requested"));
  } else {
    Status s = open_generation(*m, source);
    if (s.code() == StatusCode::kCorruption) {
      s = rebuild(source, s.message());
    }
    REPLSIM_RETURN_IF_ERROR(s);
  }
  start_timer();
  return Status::ok();
}

// Undo the losers, newest record first, writing a CLR for each undone update and an end
// record for each loser whose chain is exhausted.
Status AriesIndex::Impl::undo_losers(std::map<uint64_t, TxnEntry>& losers) {
  std::map<Lsn, uint64_t> to_undo;  // undoNext LSN → txn
  for (auto& [txn, t] : losers) to_undo.emplace(t.undo_next, txn);
  while (!to_undo.empty()) {
    auto top = std::prev(to_undo.end());
    const Lsn lsn = top->first;
    const uint64_t txn = top->second;
    to_undo.erase(top);
    TxnEntry& t = losers[txn];
    Lsn next;
    if (lsn != Lsn{}) {
      Result<LogRecord> rec = log_->read_at(lsn);
      if (!rec.is_ok()) return Status::corruption(rec.status().message());
      if (rec->type == RecordType::kUpdate) {
        LogRecord clr;
        clr.type = RecordType::kClr;
        clr.txn = txn;
        clr.prev_lsn = t.last_lsn;
        clr.page = rec->page;
        clr.position = rec->position;
        clr.path = rec->path;
        clr.after = rec->before;
        clr.undo_next = rec->prev_lsn;
        tree_.set_leaf(clr.position, clr.path, clr.after);
        t.last_lsn = log_->append(&clr);
        mark_dirty(clr.page, t.last_lsn);
        ++stats_.records_undone;
        next = rec->prev_lsn;
      } else if (rec->type == RecordType::kClr) {
        next = rec->undo_next;
      } else {
        return Status::corruption("undo chain reaches a non-undoable record");
      }
    }
    if (next != Lsn{}) {
      to_undo.emplace(next, txn);
      continue;
    }
    LogRecord end_rec;
    end_rec.type = RecordType::kEnd;
    end_rec.txn = txn;
    end_rec.prev_lsn = t.last_lsn;
    log_->append(&end_rec);
  }
  return Status::ok();
}

Status AriesIndex::Impl::open_generation(const MasterRecord& m, IndexSource& source) {
  gen_ = m.gen;
  master_seq_ = m.seq;
  auto pages = env_.fs().open(pages_name(gen_), true);
  if (!pages.is_ok()) return pages.status();
  pages_ = std::move(pages.value());
  auto dw = env_.fs().open(dw_name(gen_), true);
  if (!dw.is_ok()) return dw.status();
  dw_ = std::move(dw.value());
  log_ = std::make_unique<LogManager>(env_, opt_.dir, gen_, opt_.log_segment_bytes);
  REPLSIM_RETURN_IF_ERROR(log_->open());
  REPLSIM_RETURN_IF_ERROR(repair_from_double_write());

  // Analysis, from the checkpoint the master names.
  Analysis a;
  Result<Lsn> end =
      log_->scan(m.checkpoint_lsn, [&](const LogRecord& r) { analyze(r, m.checkpoint_lsn, &a); });
  if (!end.is_ok()) return Status::corruption(end.status().message());
  if (!a.saw_begin || !a.saw_end) return Status::corruption("checkpoint records missing");
  a.end_lsn = *end;
  stats_.checkpoint_lsn = m.checkpoint_lsn;
  stats_.end_of_log = a.end_lsn;
  stats_.log_records_analyzed = a.records;
  REPLSIM_RETURN_IF_ERROR(read_page_headers());
  for (Lsn lsn : page_lsn_) {
    if (lsn >= a.end_lsn) return Status::corruption("a page is ahead of the durable log");
  }
  REPLSIM_RETURN_IF_ERROR(log_->set_end(a.end_lsn));

  // Redo: repeat history from the oldest recLSN; pageLSN says what a page already has.
  Lsn redo_lsn = a.end_lsn;
  for (const auto& [page, rec] : a.dpt) redo_lsn = std::min(redo_lsn, rec);
  stats_.redo_lsn = redo_lsn;
  if (redo_lsn < a.end_lsn) {
    Result<Lsn> redo_end = log_->scan(redo_lsn, [&](const LogRecord& r) {
      if (r.type != RecordType::kUpdate && r.type != RecordType::kClr) return;
      auto it = a.dpt.find(r.page);
      if (it == a.dpt.end() || r.lsn < it->second || page_lsn_[r.page] >= r.lsn) return;
      tree_.set_leaf(r.position, r.path, r.after);
      page_lsn_[r.page] = r.lsn;
      ++stats_.records_redone;
    });
    if (!redo_end.is_ok()) return Status::corruption(redo_end.status().message());
    if (*redo_end != a.end_lsn) return Status::corruption("log changed between passes");
  }
  for (const auto& [page, rec] : a.dpt) set_rec_lsn(page, rec);

  stats_.losers = a.losers.size();
  REPLSIM_RETURN_IF_ERROR(undo_losers(a.losers));
  applied_ = WalIndex(a.applied);
  // The log was read from the page cache: its commits are durable once the log's first force
  // after the cut (LogManager::set_end) completes.
  durable_applied_ = WalIndex{};
  commits_.emplace_back(Lsn(a.end_lsn.value - 1), applied_);
  stats_.recovered_index = applied_;
  stats_.recovered_root = tree_.root();
  last_checkpoint_lsn_ = m.checkpoint_lsn;
  if (!health_.is_ok()) return Status::corruption(health_.message());
  REPLSIM_RETURN_IF_ERROR(roll_forward(source));
  checkpoint([](Status) {});
  return Status::ok();
}

Status AriesIndex::Impl::roll_forward(IndexSource& source) {
  Status s = source.for_each_entry_after(
      applied_, [&](WalIndex index, const std::vector<proto::KeyChange>& changes) {
        apply(index, changes);
        ++stats_.wal_entries_rolled_forward;
      });
  if (s.code() == StatusCode::kTooOld) {
    return rebuild(
        source, "WAL entries after " + std::to_string(applied_.value) + " were garbage-collected");
  }
  return s;
}

}  // namespace replsim::aries
