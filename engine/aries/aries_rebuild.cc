// Page-file checks at open (double-write repair, header scan), rebuild from storage into a
// new generation, and the AriesIndex public surface.
#include <set>

#include "engine/aries/aries_impl.h"

namespace replsim::aries {

// The double-write area was read from the page cache: after a process crash its batch may not
// be durable, and then the flush that wrote it never began its in-place writes (they start
// after the area's sync). So the repair is first an overlay that reads see, and is written in
// place only after the area is synced: a power loss can never keep a repair whose source it
// loses (a torn page with no copy left).
Status AriesIndex::Impl::repair_from_double_write() {
  std::string dw;
  REPLSIM_RETURN_IF_ERROR(dw_->read(0, dw_->size(), &dw));
  std::vector<std::string_view> frames;
  // A torn or absent batch was never written in place: the in-place pages are intact.
  if (!decode_dw_batch(dw, opt_.page_frame_bytes, &frames)) return Status::ok();
  std::set<uint32_t> repaired;
  for (std::string_view frame : frames) {
    FrameHeader h;
    std::string_view chunk;
    if (decode_frame(frame, &h, &chunk) != FrameState::kValid) {
      return Status::corruption("double-write batch holds a bad frame");
    }
    const std::string_view used = frame.substr(0, kFrameHeaderBytes + h.chunk_bytes);
    std::string in_place;
    Status s = pages_->read(frame_offset(h.slot), used.size(), &in_place);
    if (s.is_ok() && in_place == used) continue;
    repair_overlay_[h.slot] = std::string(used);
    repaired.insert(h.page);
  }
  stats_.pages_repaired += repaired.size();
  if (repair_overlay_.empty()) return Status::ok();
  flushing_ = true;  // no flush may overwrite the double-write area before the repair is done
  std::weak_ptr<int> alive = alive_;
  auto failed = [this](Status s) {
    if (health_.is_ok()) health_ = s;  // the owner reopens with force_rebuild
  };
  const uint32_t gen = gen_;  // a rebuild (new page file) drops the repair
  dw_->sync([this, alive, gen, failed](Status s) {
    if (alive.expired() || gen != gen_) return;
    if (!s.is_ok()) return failed(s);
    for (auto& [slot, bytes] : repair_overlay_) {
      pages_->write(frame_offset(slot), std::move(bytes), [](Status) {});  // synced below
    }
    repair_overlay_.clear();  // the page cache holds them now
    pages_->sync([this, alive, gen, failed](Status s2) {
      if (alive.expired() || gen != gen_) return;
      if (!s2.is_ok()) return failed(s2);
      flushing_ = false;
    });
  });
  return Status::ok();
}

Status AriesIndex::Impl::read_page_headers() {
  uint64_t file_size = pages_->size();
  if (!repair_overlay_.empty()) {
    file_size = std::max(file_size, frame_offset(repair_overlay_.rbegin()->first + 1));
  }
  std::vector<Extent> used;
  for (uint32_t b = 0; b < opt_.shape.bucket_count(); ++b) {
    if (frame_offset(b) >= file_size) break;  // never written: empty
    std::string bytes;
    REPLSIM_RETURN_IF_ERROR(read_pages(frame_offset(b), kFrameHeaderBytes, &bytes));
    FrameHeader h;
    switch (decode_header(bytes, &h)) {
      case FrameState::kEmpty:
        break;
      case FrameState::kCorrupt:
        return Status::corruption("merkle page " + std::to_string(b) + ": bad header");
      case FrameState::kValid:
        if (h.page != b || h.part != 0 || h.slot != b) {
          return Status::corruption("merkle page " + std::to_string(b) + ": holds page " +
                                    std::to_string(h.page) + " part " + std::to_string(h.part));
        }
        if (h.parts > 1 && h.extent_start < opt_.shape.bucket_count()) {
          return Status::corruption("merkle page " + std::to_string(b) + ": bad extent");
        }
        page_lsn_[b] = h.page_lsn;
        extent_[b] = Extent{h.extent_start, h.parts - 1};
        used.push_back(extent_[b]);
        stats_.overflow_pages += h.parts > 1;
        tree_.set_bucket_unloaded(b, h.hash, h.count);
        break;
    }
  }
  if (!extents_.init(std::move(used))) {
    return Status::corruption("merkle pages: two overflow extents overlap");
  }
  return Status::ok();
}

void AriesIndex::Impl::remove_generation_files(uint32_t gen) {
  for (const std::string& name : env_.fs().list(opt_.dir + "/")) {
    const bool match = gen == 0 ? name != master_name()
                                : name == pages_name(gen) || name == dw_name(gen) ||
                                      name.rfind(LogManager::segment_prefix(opt_.dir, gen), 0) == 0;
    if (match) env_.fs().remove(name).ignore();  // a leftover: harmless if it stays
  }
}

Status AriesIndex::Impl::rebuild(IndexSource& source, std::string reason) {
  stats_.rebuilt = true;
  stats_.rebuild_reason = std::move(reason);
  health_ = Status::ok();
  const uint32_t old_gen = gen_;
  const uint32_t new_gen = gen_ + 1;
  remove_generation_files(new_gen);
  tree_.clear();
  std::fill(page_lsn_.begin(), page_lsn_.end(), Lsn{});
  std::fill(extent_.begin(), extent_.end(), Extent{});
  extents_.reset();
  repair_overlay_.clear();  // of the old generation's page file
  flushing_ = false;
  clear_dirty_tables();
  commits_.clear();
  WalIndex as_of{};
  REPLSIM_RETURN_IF_ERROR(
      source.scan(&as_of, [&](std::string_view p, std::string_view c) { tree_.put(p, c); }));
  auto pages = env_.fs().open(pages_name(new_gen), true);
  if (!pages.is_ok()) return pages.status();
  pages_ = std::move(pages.value());
  auto dw = env_.fs().open(dw_name(new_gen), true);
  if (!dw.is_ok()) return dw.status();
  dw_ = std::move(dw.value());
  log_ = std::make_unique<LogManager>(env_, opt_.dir, new_gen, opt_.log_segment_bytes);
  REPLSIM_RETURN_IF_ERROR(log_->open());
  LogRecord begin;
  begin.type = RecordType::kBeginCheckpoint;
  const Lsn begin_lsn = log_->append(&begin);
  LogRecord end;
  end.type = RecordType::kEndCheckpoint;
  end.begin_lsn = begin_lsn;
  end.wal_index = as_of.value;
  log_->append(&end);
  applied_ = durable_applied_ = as_of;
  gen_ = new_gen;
  last_checkpoint_lsn_ = begin_lsn;
  rebuild_pending_ = true;

  // The new generation becomes the index only when the master names it, after its pages and
  // its first checkpoint are durable; a crash before that finds the old generation.
  std::weak_ptr<int> alive = alive_;
  auto switch_master = [this, alive, begin_lsn, old_gen](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) {
      if (health_.is_ok()) health_ = s;
      return;
    }
    write_master(MasterRecord{master_seq_ + 1, gen_, begin_lsn}, [this, alive, old_gen](Status s2) {
      if (alive.expired()) return;
      if (!s2.is_ok()) {
        if (health_.is_ok()) health_ = s2;
        return;
      }
      ++master_seq_;
      rebuild_pending_ = false;
      if (old_gen != 0) remove_generation_files(old_gen);
    });
  };
  auto pages_written = [this, alive, switch_master](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) return switch_master(s);
    pages_->sync([this, alive, switch_master](Status s2) {
      if (alive.expired()) return;
      if (!s2.is_ok()) return switch_master(s2);
      log_->force_all(switch_master);
    });
  };
  REPLSIM_RETURN_IF_ERROR(write_rebuilt_pages(pages_written));
  return Status::ok();
}

Status AriesIndex::Impl::write_rebuilt_pages(IoCallback done) {
  std::vector<std::pair<uint64_t, std::string>> writes;
  for (uint32_t b = 0; b < opt_.shape.bucket_count(); ++b) {
    if (tree_.bucket_size(b) == 0) continue;
    for (auto& w : in_place_writes(prepare_page_write(b))) writes.push_back(std::move(w));
  }
  auto join = std::make_shared<std::pair<size_t, Status>>(writes.size() + 1, Status::ok());
  auto one = [join, done](Status s) {
    if (!s.is_ok() && join->second.is_ok()) join->second = s;
    if (--join->first == 0) done(join->second);
  };
  for (auto& [offset, bytes] : writes) write_frame(*pages_, offset, std::move(bytes), Lsn{}, one);
  defer(one, Status::ok());
  return Status::ok();
}

// --- public surface ---

AriesIndex::AriesIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AriesIndex::~AriesIndex() = default;

Result<std::unique_ptr<AriesIndex>> AriesIndex::open(Env& env, AriesOptions options,
                                                     IndexSource& source) {
  auto impl = std::make_unique<Impl>(env, std::move(options));
  REPLSIM_RETURN_IF_ERROR(impl->open(source));
  return std::unique_ptr<AriesIndex>(new AriesIndex(std::move(impl)));
}

void AriesIndex::apply(WalIndex index, const std::vector<proto::KeyChange>& changes) {
  impl_->apply(index, changes);
}
WalIndex AriesIndex::applied_index() const { return impl_->applied_; }
WalIndex AriesIndex::durable_index() const { return impl_->durable_index(); }
merkle::MerkleIndex& AriesIndex::tree() { return impl_->tree_; }
merkle::Hash160 AriesIndex::root() { return impl_->tree_.root(); }
const RecoveryStats& AriesIndex::recovery_stats() const { return impl_->stats_; }
bool AriesIndex::rebuild_durable() const { return !impl_->rebuild_pending_; }
const Status& AriesIndex::health() const { return impl_->health_; }
void AriesIndex::force_log(IoCallback done) {
  Impl* impl = impl_.get();
  impl->log_->force_all([impl, alive = std::weak_ptr<int>(impl->alive_), done](Status s) {
    if (!alive.expired()) impl->on_log_durable();
    done(s);
  });
}
void AriesIndex::flush_pages(uint32_t pages_max, IoCallback done) {
  impl_->flush_pages(pages_max, std::move(done));
}
void AriesIndex::checkpoint(IoCallback done) { impl_->checkpoint(std::move(done)); }
uint64_t AriesIndex::dirty_pages() const { return impl_->dirty_pages(); }
uint64_t AriesIndex::log_bytes_on_disk() const { return impl_->log_->bytes_on_disk(); }
void AriesIndex::write_page_unforced_for_test(uint32_t bucket) {
  impl_->write_page_unforced_for_test(bucket);
}

}  // namespace replsim::aries
