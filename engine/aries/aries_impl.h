// AriesIndex internals, shared by aries_index.cc (normal operation: transactions, page
// flushing under the WAL rule, checkpoints, the master record) and aries_restart.cc (open:
// analysis, redo, undo, roll forward, rebuild).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/aries/aries_index.h"
#include "engine/aries/extent_allocator.h"
#include "engine/aries/log_manager.h"
#include "engine/aries/page_frame.h"

namespace replsim::aries {

constexpr size_t kMasterSlotBytes = 512;

// One bucket image on its way to the page file: its frames (primary first), the extent the
// overflow frames go to, and the extent of the previous image that it replaces (released once
// this image is durable in place).
struct PageWrite {
  uint32_t page = 0;
  Lsn page_lsn;
  std::vector<std::string> frames;
  Extent extent;
  Extent replaced;
};

struct MasterRecord {
  uint64_t seq = 0;
  uint32_t gen = 0;
  Lsn checkpoint_lsn;
};

class AriesIndex::Impl {
 public:
  Impl(Env& env, AriesOptions options);
  ~Impl();

  // --- restart (aries_restart.cc) ---
  Status open(IndexSource& source);

  // --- normal operation (aries_index.cc) ---
  void apply(WalIndex index, const std::vector<proto::KeyChange>& changes);
  void flush_pages(uint32_t pages_max, IoCallback done);
  void checkpoint(IoCallback done);
  void write_page_unforced_for_test(uint32_t bucket);
  uint64_t dirty_pages() const;
  WalIndex durable_index() const;
  void start_timer();

  // State (one struct: restart and normal operation share it).
  Env& env_;
  AriesOptions opt_;
  merkle::MerkleIndex tree_;
  RecoveryStats stats_;
  Status health_;
  uint32_t gen_ = 0;
  uint64_t master_seq_ = 0;
  std::unique_ptr<LogManager> log_;
  std::unique_ptr<File> pages_;
  std::unique_ptr<File> dw_;
  std::unique_ptr<File> master_;
  std::vector<Lsn> page_lsn_;
  std::vector<Extent> extent_;  // per bucket: the overflow extent of its latest image
  // Frames restored from the double-write area but not yet written in place (slot → bytes):
  // reads see them; they are written once the area is durable (repair_from_double_write).
  std::map<uint64_t, std::string> repair_overlay_;
  ExtentAllocator extents_;
  std::vector<Lsn> rec_lsn_;       // Lsn{}: clean since the last flush snapshot
  std::vector<Lsn> inflight_lsn_;  // recLSN of a snapshot being flushed, Lsn{}: none
  // The pages whose rec_lsn_ / inflight_lsn_ is not 0 (changed only through set_rec_lsn /
  // set_inflight_lsn), so the timers walk the dirty pages, not every bucket. rec_pages_ is
  // ordered by (recLSN, page): a flush takes its oldest pages from the front without a scan,
  // and a page dirtied in normal operation (recLSN = a fresh, largest LSN) goes at the back.
  std::set<std::pair<Lsn, uint32_t>> rec_pages_;
  std::set<uint32_t> inflight_pages_;
  WalIndex applied_{};
  WalIndex durable_applied_{};
  std::deque<std::pair<Lsn, WalIndex>> commits_;  // (commit LSN, index) not yet durable
  Lsn last_checkpoint_lsn_;
  bool flushing_ = false;
  bool checkpointing_ = false;
  bool rebuild_pending_ = false;
  TimerId timer_ = kNoTimer;
  std::shared_ptr<int> alive_;

  // Helpers.
  std::string pages_name(uint32_t gen) const;
  std::string dw_name(uint32_t gen) const;
  std::string master_name() const { return opt_.dir + "/master"; }
  uint64_t frame_offset(uint64_t slot) const { return slot * opt_.page_frame_bytes; }
  std::vector<merkle::LeafEntry> load_bucket(uint32_t bucket);
  // Reads `len` bytes of the page file at `offset`, with repair_overlay_ applied.
  Status read_pages(uint64_t offset, uint64_t len, std::string* out);
  Status read_page(uint32_t bucket, FrameHeader* header, std::vector<merkle::LeafEntry>* entries,
                   FrameState* state);
  // The bucket's current image, placed: the same extent when the frame count is unchanged,
  // else a new one (extent_ is updated; the caller releases `replaced` once durable).
  PageWrite prepare_page_write(uint32_t bucket);
  // The in-place writes of an image: (offset, bytes) of its primary frame and of its extent.
  std::vector<std::pair<uint64_t, std::string>> in_place_writes(const PageWrite& w) const;
  void mark_dirty(uint32_t page, Lsn lsn);
  void set_rec_lsn(uint32_t page, Lsn lsn);
  void set_inflight_lsn(uint32_t page, Lsn lsn);
  void clear_dirty_tables();
  // Every page-image write goes through here: it asserts the WAL rule.
  void write_frame(File& file, uint64_t offset, std::string frame, Lsn page_lsn, IoCallback done);
  void write_master(MasterRecord record, IoCallback done);
  void on_log_durable();
  // Defer `done(status)` to the event loop (never call back from inside the call).
  void defer(IoCallback done, Status status);

  // Restart steps (aries_restart.cc).
  Status open_generation(const MasterRecord& master, IndexSource& source);
  Status undo_losers(std::map<uint64_t, TxnEntry>& losers);
  Status repair_from_double_write();
  Status read_page_headers();
  Status rebuild(IndexSource& source, std::string reason);
  Status roll_forward(IndexSource& source);
  void remove_generation_files(uint32_t gen);
  Status write_rebuilt_pages(IoCallback done);
};

Result<MasterRecord> read_master(File& file);
std::string encode_master(const MasterRecord& record);

}  // namespace replsim::aries
