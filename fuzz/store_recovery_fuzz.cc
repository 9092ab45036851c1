// libFuzzer target: Store recovery (engine/storage/store_recovery.cc) over a fuzzed data.log
// and snapshot on the simulated disk (deterministic, in memory).
// Properties: Store::open either refuses with kCorruption naming the file and offset, or opens
// a store that seals, accepts a new commit, and reopens (after a process crash) to the same
// contents plus that commit. Never a crash, an assertion or a hang.
#include <memory>
#include <optional>
#include <string>

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"
#include "engine/storage/record.h"
#include "engine/storage/store.h"
#include "fuzz/fuzz_util.h"
#include "sim/disk.h"
#include "sim/disk_env.h"
#include "sim/event_loop.h"

namespace replsim::fuzz {
namespace {

constexpr uint64_t kEventsMax = 100000;  // a store that never settles is a hang

// Rewrites the checksum of every frame whose length fits, front to back.
void fix_checksums(std::string* file) {
  size_t off = 0;
  while (file->size() - off >= kFrameHeaderBytes) {
    const uint32_t length = decode_fixed32(file->data() + off);
    if (length > file->size() - off - kFrameHeaderBytes) return;
    std::string crc;
    put_fixed32(&crc,
                crc32c::mask(crc32c::value(std::string_view(*file).substr(off + 8, 1 + length))));
    file->replace(off + 4, 4, crc);
    off += kFrameHeaderBytes + length;
  }
}

struct Rig {
  sim::EventLoop loop;
  sim::SimDisk disk{loop, sim::Prng(1), "disk", sim::DiskOptions{}};
  sim::DiskEnv env{loop, disk, 2};
  std::unique_ptr<Store> store;

  void write_file(const std::string& name, std::string bytes) {
    auto file = env.fs().open(name, true);
    FUZZ_CHECK(file.is_ok(), file.status().to_string());
    bool done = false;
    (*file)->write(0, std::move(bytes), [&](Status s) { done = s.is_ok(); });
    loop.run_while([&] { return !done; });
    FUZZ_CHECK(done, "write");
  }
  // Runs the loop until `*result` is set, bounded.
  template <typename T>
  void wait(const std::optional<T>& result) {
    loop.run_while([&] { return !result.has_value() && loop.events_run() < kEventsMax; });
    FUZZ_CHECK(result.has_value(), "the store hung");
  }
  Status open() {
    store.reset();
    Result<std::unique_ptr<Store>> s = Store::open(env, StoreOptions{});
    if (!s.is_ok()) return s.status();
    store = std::move(*s);
    std::optional<Status> ready;
    store->on_ready([&](Status r) { ready = r; });
    wait(ready);
    return *ready;
  }
};

void run(Input in) {
  const uint8_t mode = in.u8();
  std::string snapshot(in.blob());
  std::string log(in.rest());
  if (mode & 1) {
    fix_checksums(&snapshot);
    fix_checksums(&log);
  }
  Rig rig;
  if (mode & 2) rig.write_file("store/snapshot", snapshot);
  if (mode & 4) rig.write_file("store/snapshot.tmp", "leftover");
  rig.write_file("store/data.log", log);
  const Status opened = rig.open();
  if (!opened.is_ok()) {
    check_refusal(opened, StatusCode::kCorruption, "store open");
    FUZZ_CHECK(opened.message().find("store/") != std::string::npos &&
                   opened.message().find("offset") != std::string::npos,
               "refusal names no file and offset: " + opened.message());
    return;
  }
  Transaction txn;
  txn.put("fuzz/key", "value");
  std::optional<Result<CommitInfo>> committed;
  rig.store->commit(std::move(txn), [&](Result<CommitInfo> r) { committed.emplace(r); });
  rig.wait(committed);
  FUZZ_CHECK(committed->is_ok(), "commit after recovery: " + committed->status().to_string());
  const auto contents = rig.store->contents();
  const WalIndex last_wal = rig.store->last_wal_index();
  rig.store.reset();
  rig.env.crash();
  const Status reopened = rig.open();
  FUZZ_CHECK(reopened.is_ok(), "reopen: " + reopened.to_string());
  FUZZ_CHECK(rig.store->contents() == contents, "reopen changed the contents");
  FUZZ_CHECK(rig.store->last_wal_index() == last_wal, "reopen changed the last wal index");
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
