// Normal operation of the ARIES-managed merkle index (file layout and protocol: aries_index.h).
#include <algorithm>
#include <cmath>

#include "engine/aries/aries_impl.h"
#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim::aries {

AriesIndex::Impl::Impl(Env& env, AriesOptions options)
    : env_(env),
      opt_(std::move(options)),
      tree_(opt_.shape),
      extents_(opt_.shape.bucket_count()),
      alive_(std::make_shared<int>(0)) {
  REPLSIM_ASSERT_MSG(opt_.page_frame_bytes >= kFrameBytesMin, "page_frame_bytes below 256");
  const uint32_t n = opt_.shape.bucket_count();
  page_lsn_.assign(n, Lsn{});
  extent_.assign(n, Extent{});
  rec_lsn_.assign(n, Lsn{});
  inflight_lsn_.assign(n, Lsn{});
  tree_.set_loader([this](uint32_t b) { return load_bucket(b); });
}

AriesIndex::Impl::~Impl() {
  if (timer_ != kNoTimer) env_.cancel(timer_);
}

std::string AriesIndex::Impl::pages_name(uint32_t gen) const {
  return opt_.dir + "/pages." + std::to_string(gen);
}
std::string AriesIndex::Impl::dw_name(uint32_t gen) const {
  return opt_.dir + "/dw." + std::to_string(gen);
}

void AriesIndex::Impl::defer(IoCallback done, Status status) {
  std::weak_ptr<int> alive = alive_;
  env_.schedule(0, [alive, done = std::move(done), status = std::move(status)] {
    if (!alive.expired()) done(status);
  });
}

Status AriesIndex::Impl::read_pages(uint64_t offset, uint64_t len, std::string* out) {
  REPLSIM_RETURN_IF_ERROR(pages_->read(offset, len, out));
  const uint64_t fb = opt_.page_frame_bytes;
  for (auto it = repair_overlay_.lower_bound(offset / fb);
       it != repair_overlay_.end() && it->first * fb < offset + len; ++it) {
    const uint64_t at = it->first * fb - offset;  // slots are frame-aligned, as are reads
    const std::string& frame = it->second;
    const uint64_t n = std::min<uint64_t>(frame.size(), len - at);
    if (out->size() < at + n) out->resize(at + n, '\0');
    out->replace(at, n, frame, 0, n);
  }
  return Status::ok();
}

Status AriesIndex::Impl::read_page(uint32_t bucket, FrameHeader* header,
                                   std::vector<merkle::LeafEntry>* entries, FrameState* state) {
  std::string primary;
  REPLSIM_RETURN_IF_ERROR(read_pages(frame_offset(bucket), opt_.page_frame_bytes, &primary));
  *state = decode_header(primary, header);
  if (*state != FrameState::kValid) return Status::ok();
  std::string extent;
  std::vector<std::string_view> frames = {primary};
  if (header->parts > 1) {
    const uint64_t bytes = static_cast<uint64_t>(header->parts - 1) * opt_.page_frame_bytes;
    REPLSIM_RETURN_IF_ERROR(read_pages(frame_offset(header->extent_start), bytes, &extent));
    for (uint64_t off = 0; off < extent.size(); off += opt_.page_frame_bytes) {
      frames.push_back(std::string_view(extent).substr(off, opt_.page_frame_bytes));
    }
  }
  *state = decode_page(frames, opt_.shape, header, entries);
  return Status::ok();
}

std::vector<merkle::LeafEntry> AriesIndex::Impl::load_bucket(uint32_t bucket) {
  FrameHeader header;
  std::vector<merkle::LeafEntry> entries;
  FrameState state = FrameState::kCorrupt;
  const Status s = read_page(bucket, &header, &entries, &state);
  const Extent extent{header.extent_start, header.parts - 1};
  const bool consistent = state == FrameState::kEmpty
                              ? page_lsn_[bucket] == Lsn{}
                              : state == FrameState::kValid && header.page == bucket &&
                                    header.page_lsn == page_lsn_[bucket] &&
                                    extent == extent_[bucket];
  if (!consistent && health_.is_ok()) {
    health_ = s.is_ok() ? Status::corruption("merkle page " + std::to_string(bucket) +
                                             " failed its check on load")
                        : s;
  }
  if (!consistent) entries.clear();
  return entries;
}

PageWrite AriesIndex::Impl::prepare_page_write(uint32_t bucket) {
  PageWrite w;
  w.page = bucket;
  w.page_lsn = page_lsn_[bucket];
  const std::vector<merkle::LeafEntry>& entries = tree_.bucket(bucket);
  const uint32_t overflow = frames_needed(payload_bytes(entries), opt_.page_frame_bytes) - 1;
  w.extent = extent_[bucket];
  if (overflow != w.extent.frames) {
    w.replaced = w.extent;
    w.extent = overflow == 0 ? Extent{} : extents_.allocate(overflow);
    extent_[bucket] = w.extent;
  }
  w.frames = encode_page(bucket, w.page_lsn, entries, tree_.bucket_hash(bucket),
                         opt_.page_frame_bytes, w.extent.start);
  return w;
}

std::vector<std::pair<uint64_t, std::string>> AriesIndex::Impl::in_place_writes(
    const PageWrite& w) const {
  std::vector<std::pair<uint64_t, std::string>> out;
  out.emplace_back(frame_offset(w.page), w.frames[0]);
  if (w.frames.size() > 1) {
    std::string extent;
    for (size_t i = 1; i < w.frames.size(); ++i) {
      extent.append(w.frames[i]);
      if (i + 1 < w.frames.size()) extent.resize(i * opt_.page_frame_bytes, '\0');
    }
    out.emplace_back(frame_offset(w.extent.start), std::move(extent));
  }
  return out;
}

void AriesIndex::Impl::mark_dirty(uint32_t page, Lsn lsn) {
  page_lsn_[page] = lsn;
  if (rec_lsn_[page] == Lsn{}) set_rec_lsn(page, lsn);
}

void AriesIndex::Impl::set_rec_lsn(uint32_t page, Lsn lsn) {
  if (rec_lsn_[page] == lsn) return;
  if (rec_lsn_[page] != Lsn{}) rec_pages_.erase({rec_lsn_[page], page});
  if (lsn != Lsn{}) rec_pages_.emplace_hint(rec_pages_.end(), lsn, page);
  rec_lsn_[page] = lsn;
}

void AriesIndex::Impl::set_inflight_lsn(uint32_t page, Lsn lsn) {
  if (lsn != Lsn{}) {
    inflight_pages_.insert(page);
  } else {
    inflight_pages_.erase(page);
  }
  inflight_lsn_[page] = lsn;
}

void AriesIndex::Impl::clear_dirty_tables() {
  std::fill(rec_lsn_.begin(), rec_lsn_.end(), Lsn{});
  std::fill(inflight_lsn_.begin(), inflight_lsn_.end(), Lsn{});
  rec_pages_.clear();
  inflight_pages_.clear();
}

void AriesIndex::Impl::apply(WalIndex index, const std::vector<proto::KeyChange>& changes) {
  REPLSIM_ASSERT(index > applied_);
  const uint64_t txn = index.value;
  Lsn prev;
  for (const proto::KeyChange& c : changes) {
    LogRecord rec;
    rec.type = RecordType::kUpdate;
    rec.txn = txn;
    rec.position = merkle::key_position(c.path());
    rec.page = opt_.shape.bucket_of(rec.position);
    rec.path = c.path();
    if (!c.deleted()) rec.after = merkle::leaf_hash(c.path(), c.ciphertext());
    rec.before = tree_.set_leaf(rec.position, rec.path, rec.after);
    if (rec.before == rec.after) continue;  // no change: nothing to log
    rec.prev_lsn = prev;
    prev = log_->append(&rec);
    mark_dirty(rec.page, prev);
  }
  LogRecord commit;
  commit.type = RecordType::kCommit;
  commit.txn = txn;
  commit.prev_lsn = prev;
  commit.wal_index = index.value;
  commits_.emplace_back(log_->append(&commit), index);
  applied_ = index;
}

void AriesIndex::Impl::on_log_durable() {
  while (!commits_.empty() && commits_.front().first < log_->durable_lsn()) {
    durable_applied_ = commits_.front().second;
    commits_.pop_front();
  }
}

WalIndex AriesIndex::Impl::durable_index() const {
  WalIndex d = durable_applied_;
  for (const auto& [lsn, index] : commits_) {
    if (lsn < log_->durable_lsn()) d = index;
  }
  return d;
}

uint64_t AriesIndex::Impl::dirty_pages() const {
  uint64_t n = rec_pages_.size();
  for (uint32_t page : inflight_pages_) n += rec_lsn_[page] == Lsn{};
  return n;
}

void AriesIndex::Impl::write_frame(File& file, uint64_t offset, std::string frame, Lsn page_lsn,
                                   IoCallback done) {
  // The WAL rule: every log record a page image reflects is durable before the image is
  // written anywhere it could be read back from (in place, or the double-write area).
  REPLSIM_ASSERT_MSG(page_lsn == Lsn{} || page_lsn < log_->durable_lsn(),
                     "WAL rule violated: page written before its log record is durable");
  file.write(offset, std::move(frame), std::move(done));
}

void AriesIndex::Impl::write_page_unforced_for_test(uint32_t bucket) {
  const PageWrite w = prepare_page_write(bucket);  // a replaced extent stays reserved
  for (auto& [offset, bytes] : in_place_writes(w)) {
    write_frame(*pages_, offset, std::move(bytes), w.page_lsn, [](Status) {});
  }
}

}  // namespace replsim::aries
