#include "engine/cluster/ha_lock.h"

#include <cstring>

#include "engine/base/crc32c.h"

namespace replsim::cluster {
namespace {

constexpr uint32_t kLockMagic = 0x484c434b;  // "HLCK"
constexpr size_t kLockRecordBytes = 4 + 4 + 8 + 8 + 4;

void put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(s[at + i])} << (8 * i);
  return v;
}

std::string encode(const LockRecord& r) {
  std::string out;
  put32(&out, kLockMagic);
  put32(&out, r.holder.value);
  put64(&out, r.generation.value);
  put64(&out, r.renewals);
  put32(&out, crc32c::value(out));
  return out;
}

}  // namespace

LockRecord decode_lock_record(File& file) {
  LockRecord record;
  std::string data;
  if (!file.read(0, kLockRecordBytes, &data).is_ok()) return record;
  if (data.size() != kLockRecordBytes) return record;
  if (get(data, 0, 4) != kLockMagic) return record;
  if (get(data, 24, 4) != crc32c::value(std::string_view(data).substr(0, 24))) return record;
  record.holder = NodeId(static_cast<uint32_t>(get(data, 4, 4)));
  record.generation = LockGeneration(get(data, 8, 8));
  record.renewals = get(data, 16, 8);
  return record;
}

LockRecord read_lock_record(FileSystem& fs) {
  if (!fs.exists(kLockPath)) return LockRecord();
  auto file = fs.open(kLockPath, false);
  if (!file.is_ok()) return LockRecord();
  return decode_lock_record(**file);
}

HaLock::HaLock(Env& env, FileSystem& fs, TimeUs renew_interval_us, TimeUs lease_us,
               Acquired acquired, Lost lost)
    : env_(env),
      fs_(fs),
      renew_interval_us_(renew_interval_us),
      lease_us_(lease_us),
      acquired_(std::move(acquired)),
      lost_(std::move(lost)) {
  REPLSIM_ASSERT(renew_interval_us_ > 0);
  REPLSIM_ASSERT(lease_us_ > renew_interval_us_);
}

HaLock::~HaLock() { env_.cancel(timer_); }

void HaLock::start() { tick(); }

void HaLock::write_record(const LockRecord& record) {
  if (!file_) {
    auto opened = fs_.open(kLockPath, true);
    if (!opened.is_ok()) return;  // disk trouble: try again next tick
    file_ = std::move(opened.value());
  }
  file_->write(0, encode(record), [](Status s) { s.ignore(); });
}

LockGeneration HaLock::held() {
  if (held_.value != 0 && !still_holds(held_)) {
    held_ = LockGeneration();
    lost_();
  }
  return held_;
}

LockRecord HaLock::read() {
  // The open handle reads the page cache like a fresh open would (the file is never
  // replaced, only rewritten in place), without the cost of an open per fenced write.
  if (file_) return decode_lock_record(*file_);
  return read_lock_record(fs_);
}

bool HaLock::still_holds(LockGeneration generation) {
  LockRecord r = read();
  return r.holder == env_.self() && r.generation == generation;
}

NodeId HaLock::holder_hint() { return read().holder; }

void HaLock::release() {
  if (held_.value == 0) return;
  LockRecord r = read();
  if (r.generation == held_) {
    r.holder = NodeId();
    write_record(r);
  }
  held_ = LockGeneration();
}

void HaLock::tick() {
  timer_ = env_.schedule(renew_interval_us_, [this] { tick(); });
  if (!file_ && fs_.exists(kLockPath)) {
    auto opened = fs_.open(kLockPath, false);
    if (opened.is_ok()) file_ = std::move(opened.value());
  }
  LockRecord r = read();
  TimeUs now = env_.now_us();
  if (held_.value != 0) {
    if (r.holder == env_.self() && r.generation == held_) {
      r.renewals++;
      write_record(r);
      return;
    }
    held_ = LockGeneration();
    lost_();
    // fall through: behave as a standby from now on
  }
  bool changed = !seen_any_ || r.generation != last_seen_.generation ||
                 r.renewals != last_seen_.renewals || r.holder != last_seen_.holder;
  if (changed) {
    last_seen_ = r;
    last_change_us_ = now;
    seen_any_ = true;
  }
  bool vacant = r.generation.value == 0 || r.holder.value == 0;
  if (!vacant && now - last_change_us_ < lease_us_) return;
  LockRecord mine{env_.self(), LockGeneration(r.generation.value + 1), 0};
  write_record(mine);
  held_ = mine.generation;
  last_seen_ = mine;
  last_change_us_ = now;
  acquired_(held_);
}

}  // namespace replsim::cluster
