// libFuzzer target: ARIES restart of the merkle index (engine/aries/aries_restart.cc) over
// fuzzed index files (master, page file, double-write area, log segments) on the simulated
// disk, against a fixed storage of kAriesFuzzEntries WAL entries.
// Input: mode byte, then files as {u8 name length, name, u16 length, bytes}* (fuzz_util.h).
// Properties: open() succeeds (the only errors it may return are I/O errors, and this disk has
// none); the index keeps running, and reopens after a process crash.
// With REPLSIM_FUZZ_STRICT=1 also: when the files were not re-checksummed, every damage is
// detected, so the recovered index equals the one storage implies. That is off by default
// because it fails (docs/fuzzing.md, "Findings"): a page file cut short after it was synced
// reads as never-written empty pages, and recovery does not notice.
#include "fuzz/aries_restart_fuzz.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "engine//base/coding.h"
#include "engine/aries/log_record.h"
#include "engine/aries/page_frame.h"
#include "engine/base/crc32c.h"
#include "fuzz/fuzz_util.h"
#include "sim/disk.h"
#include "sim/disk_env.h"
#include "sim/event_loop.h"

namespace replsim::fuzz {
namespace {

using aries::testing::compare_with_storage;
using aries::testing::ModelStorage;

// Recomputes the checksums a file of this name carries (and a log record's LSN field), so
// the fuzzer reaches the checks behind them.
void fix_checksums(const std::string& name, std::string* bytes) {
  auto crc_at = [&](size_t crc_off, size_t from, size_t n) {
    const uint32_t crc = crc32c::value(std::string_view(*bytes).substr(from, n));
    std::memcpy(&(*bytes)[crc_off], &crc, 4);
  };
  const size_t dot = name.rfind('.');
  if (name.find("/log.") != std::string::npos && dot != std::string::npos) {
    const uint64_t base = std::strtoull(name.c_str() + dot + 1, nullptr, 10);
    size_t off = 0;
    while (true) {
      const uint32_t len = aries::peek_record_length(std::string_view(*bytes).substr(off));
      if (len < 16 || len > bytes->size() - off) return;
      const uint64_t lsn = base + off;
      std::memcpy(&(*bytes)[off + 8], &lsn, 8);
      crc_at(off + 4, off + 8, len - 8);
      off += len;
    }
  }
  const bool pages = name.find("/pages.") != std::string::npos;
  const bool master = name.find("/master") != std::string::npos;
  const size_t slot = master ? 512 : aries_fuzz_options().page_frame_bytes;
  if (!pages && !master) return;
  for (size_t off = 0; off + aries::kFrameHeaderBytes <= bytes->size(); off += slot) {
    if (pages) {
      uint32_t payload = 0;
      std::memcpy(&payload, bytes->data() + off + 24, 4);
      const size_t from = off + aries::kFrameHeaderBytes;
      if (payload <= bytes->size() - from) crc_at(off + 28, from, payload);
      crc_at(off + 4, off + 8, aries::kFrameHeaderBytes - 8);
    } else if (off + slot <= bytes->size()) {
      crc_at(off + 4, off + 8, slot - 8);
    }
  }
}

struct Rig {
  sim::EventLoop loop;
  sim::SimDisk disk{loop, sim::Prng(1), "disk", sim::DiskOptions{}};
  std::unique_ptr<sim::DiskEnv> env;
  ModelStorage storage;
  std::unique_ptr<aries::AriesIndex> index;
  uint64_t seed = 2;

  void write_file(const std::string& name, std::string bytes) {
    auto file = env->fs().open(name, true);
    if (!file.is_ok()) return;  // a name the file system refuses: no such file
    bool done = false;
    (*file)->write(0, std::move(bytes), [&](Status s) { done = true; });
    loop.run_while([&] { return !done; });
  }
  void open() {
    index.reset();
    env = std::make_unique<sim::DiskEnv>(loop, disk, seed++);
    auto r = aries::AriesIndex::open(*env, aries_fuzz_options(), storage);
    FUZZ_CHECK(r.is_ok(), "open: " + r.status().to_string());
    index = std::move(*r);
  }
};

const bool strict = [] {
  const char* v = std::getenv("REPLSIM_FUZZ_STRICT");
  return v != nullptr && std::string(v) == "1";
}();

void run(Input in) {
  const uint8_t mode = in.u8();
  const bool fix = (mode & 1) != 0;
  Rig rig;
  fill_aries_fuzz_storage(&rig.storage, kAriesFuzzEntries, (mode & 2) ? kAriesFuzzEntries / 2 : 0);
  rig.env = std::make_unique<sim::DiskEnv>(rig.loop, rig.disk, 1);
  for (int files = 0; files < 16 && !in.empty(); ++files) {
    const std::string name(in.take(in.u8()));
    std::string bytes(in.blob());
    if (name.empty()) continue;
    if (fix) fix_checksums(name, &bytes);
    rig.write_file(name, std::move(bytes));
  }
  rig.open();
  if (strict && !fix) {
    const std::string diff = compare_with_storage(*rig.index, rig.storage);
    FUZZ_CHECK(diff.empty(), "undetected damage: " + diff);
  }
  rig.loop.run_until(rig.loop.now() + 50 * kUsPerMs);  // flushes and a checkpoint
  rig.open();                                          // a process crash, and restart
  if (strict && !fix) {
    const std::string diff = compare_with_storage(*rig.index, rig.storage);
    FUZZ_CHECK(diff.empty(), "after a second restart: " + diff);
  }
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
