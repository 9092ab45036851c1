// Page-file checks at open (double-write repair, header scan), rebuild from storage into a
// new generation, and the AriesIndex public surface.
#include "engine/aries/aries_impl.h"

namespace replsim::aries {

Status AriesIndex::Impl::repair_from_double_write() {
  std::string dw;
  REPLSIM_RETURN_IF_ERROR(dw_->read(0, dw_->size(), &dw));
  const size_t frame = opt_.page_frame_bytes;
  for (size_t off = 0; off + frame <= dw.size(); off += frame) {
    FrameHeader h;
    std::vector<merkle::LeafEntry> entries;
    if (decode_frame(std::string_view(dw).substr(off, frame), opt_.shape, &h, &entries) !=
        FrameState::kValid) {
      continue;  // torn or stale slot of the double-write area: the in-place copy is intact
    }
    if (h.page >= opt_.shape.bucket_count()) continue;
    std::string in_place;
    Status s = pages_->read(frame_offset(h.page), frame, &in_place);
    FrameHeader ih;
    std::vector<merkle::LeafEntry> ie;
    const FrameState state =
        s.is_ok() ? decode_frame(in_place, opt_.shape, &ih, &ie) : FrameState::kCorrupt;
    const bool stale =
        state == FrameState::kCorrupt || (state == FrameState::kEmpty) || ih.page_lsn < h.page_lsn;
    if (!stale) continue;
    // Synchronous in the page cache; made durable by the sync below before any new flush.
    pages_->write(frame_offset(h.page), dw.substr(off, frame), [](Status) {});
    ++stats_.pages_repaired;
  }
  if (stats_.pages_repaired > 0) {
    flushing_ = true;  // no flush may overwrite the double-write area before this sync
    std::weak_ptr<int> alive = alive_;
    pages_->sync([this, alive](Status s) {
      if (alive.expired()) return;
      flushing_ = false;
      if (!s.is_ok() && health_.is_ok()) health_ = s;
    });
  }
  return Status::ok();
}

Status AriesIndex::Impl::read_page_headers() {
  const uint64_t file_size = pages_->size();
  for (uint32_t b = 0; b < opt_.shape.bucket_count(); ++b) {
    if (frame_offset(b) >= file_size) break;  // never written: empty
    std::string bytes;
    REPLSIM_RETURN_IF_ERROR(pages_->read(frame_offset(b), kFrameHeaderBytes, &bytes));
    FrameHeader h;
    switch (decode_header(bytes, &h)) {
      case FrameState::kEmpty:
        break;
      case FrameState::kCorrupt:
        return Status::corruption("merkle page " + std::to_string(b) + ": bad header");
      case FrameState::kValid:
        if (h.page != b)
          return Status::corruption("merkle page " + std::to_string(b) + ": holds page " +
                                    std::to_string(h.page));
        page_lsn_[b] = h.page_lsn;
        tree_.set_bucket_unloaded(b, h.hash, h.count);
        break;
    }
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
  std::fill(page_lsn_.begin(), page_lsn_.end(), 0);
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
  const uint64_t begin_lsn = log_->append(&begin);
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
  size_t writes = 0;
  for (uint32_t b = 0; b < opt_.shape.bucket_count(); ++b) writes += tree_.bucket_size(b) > 0;
  auto join = std::make_shared<std::pair<size_t, Status>>(writes + 1, Status::ok());
  auto one = [join, pages_written](Status s) {
    if (!s.is_ok() && join->second.is_ok()) join->second = s;
    if (--join->first == 0) pages_written(join->second);
  };
  for (uint32_t b = 0; b < opt_.shape.bucket_count(); ++b) {
    if (tree_.bucket_size(b) == 0) continue;
    write_frame(*pages_, frame_offset(b),
                encode_frame(b, 0, tree_.bucket(b), tree_.bucket_hash(b), opt_.page_frame_bytes), 0,
                one);
  }
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
