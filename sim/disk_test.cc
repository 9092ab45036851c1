#include "sim/disk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <memory>
#include <optional>
#include <string>

#include "sim/disk_impl.h"  // kUnsyncedWritesMax

namespace replsim::sim {
namespace {

class SimDiskTest : public ::testing::Test {
 protected:
  SimDiskTest() { reset(); }

  void reset(DiskOptions options = {}, uint64_t seed = 42) {
    fs_.reset();
    disk_ = std::make_unique<SimDisk>(loop_, Prng(seed), "d0", options, &faults_, &trace_);
    process_ = std::make_shared<int>(0);
    fs_ = disk_->attach(process_, 1);
  }

  std::unique_ptr<File> open(const std::string& path, bool create = true) {
    Result<std::unique_ptr<File>> file = fs_->open(path, create);
    EXPECT_TRUE(file.is_ok()) << file.status().to_string();
    return file.is_ok() ? std::move(file.value()) : nullptr;
  }

  // Issues `issue(callback)` and runs the loop until the callback fires.
  Status wait(const std::function<void(IoCallback)>& issue) {
    std::optional<Status> result;
    issue([&](Status s) { result = std::move(s); });
    loop_.run_while([&] { return !result.has_value(); });
    EXPECT_TRUE(result.has_value()) << "callback never fired";
    return result.value_or(Status::aborted("no callback"));
  }
  Status write(File& f, uint64_t offset, std::string data) {
    return wait([&](IoCallback cb) { f.write(offset, std::move(data), std::move(cb)); });
  }
  Status append(File& f, std::string data) {
    return wait([&](IoCallback cb) { f.append(std::move(data), std::move(cb)); });
  }
  Status sync(File& f) {
    return wait([&](IoCallback cb) { f.sync(std::move(cb)); });
  }
  Status sync_dir() {
    return wait([&](IoCallback cb) { fs_->sync_dir(std::move(cb)); });
  }
  std::string read_all(File& f) {
    std::string out;
    EXPECT_TRUE(f.read(0, f.size(), &out).is_ok());
    return out;
  }
  // A file holding `data`, synced and dir-synced.
  std::unique_ptr<File> durable_file(const std::string& path, const std::string& data) {
    std::unique_ptr<File> f = open(path);
    EXPECT_TRUE(write(*f, 0, data).is_ok());
    EXPECT_TRUE(sync(*f).is_ok());
    EXPECT_TRUE(sync_dir().is_ok());
    return f;
  }

  EventLoop loop_;
  FaultRecorder faults_;
  Trace trace_;
  std::unique_ptr<SimDisk> disk_;
  std::shared_ptr<int> process_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(SimDiskTest, WrittenDataIsVisibleBeforeTheCallbackAndBeforeSync) {
  std::unique_ptr<File> f = open("a");
  bool done = false;
  f->write(0, "hello", [&](Status s) {
    EXPECT_TRUE(s.is_ok());
    done = true;
  });
  EXPECT_FALSE(done);  // never from inside the call
  EXPECT_EQ(f->size(), 5u);
  EXPECT_EQ(read_all(*f), "hello");
  f->append(" world", [](Status s) { EXPECT_TRUE(s.is_ok()); });
  EXPECT_EQ(read_all(*f), "hello world");
  loop_.run_until(disk_->options().write_latency_us - 1);
  EXPECT_FALSE(done);
  loop_.run_until(disk_->options().write_latency_us);
  EXPECT_TRUE(done);
  EXPECT_EQ(disk_->durable_contents("a"), "");
}

TEST_F(SimDiskTest, ProcessCrashKeepsDataAndDropsItsCallbacks) {
  std::unique_ptr<File> f = open("a");
  int callbacks = 0;
  f->write(0, "abc", [&](Status) { ++callbacks; });
  f->sync([&](Status) { ++callbacks; });
  process_.reset();  // the process crashes
  loop_.run_until(1'000'000);
  EXPECT_EQ(callbacks, 0);
  // The OS kept the data and the device finished the sync.
  EXPECT_EQ(disk_->cached_contents("a"), "abc");
  EXPECT_EQ(read_all(*f), "abc");  // the dead process's handle still works
  auto restarted = std::make_shared<int>(1);
  std::unique_ptr<FileSystem> fs = disk_->attach(restarted, 1);
  Result<std::unique_ptr<File>> reopened = fs->open("a", false);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(read_all(*reopened.value()), "abc");
}

TEST_F(SimDiskTest, PowerLossKeepsSyncedDataAndDropsUnsyncedWithEmptyPlan) {
  std::unique_ptr<File> f = durable_file("a", "synced");
  ASSERT_TRUE(append(*f, "-unsynced").is_ok());
  EXPECT_EQ(disk_->cached_contents("a"), "synced-unsynced");
  EXPECT_EQ(disk_->durable_contents("a"), "synced");
  disk_->power_loss_with({});
  EXPECT_EQ(disk_->cached_contents("a"), "synced");
  EXPECT_EQ(read_all(*open("a", false)), "synced");
}

TEST_F(SimDiskTest, RandomPowerLossKeepsSyncedDataPlusAPrefix) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    reset({}, seed);
    std::unique_ptr<File> f = durable_file("a", "base");
    for (char c : std::string("xyz")) ASSERT_TRUE(append(*f, std::string(1, c)).is_ok());
    disk_->power_loss();
    const std::string got = disk_->cached_contents("a");
    EXPECT_TRUE(got == "base" || got == "basex" || got == "basexy" || got == "basexyz") << got;
  }
}

TEST_F(SimDiskTest, SyncCoversOnlyWritesIssuedBeforeIt) {
  std::unique_ptr<File> f = durable_file("a", "");
  std::optional<Status> synced;
  f->append("before", [](Status) {});
  f->sync([&](Status s) { synced = s; });
  f->append("+after", [](Status) {});
  loop_.run_while([&] { return !synced.has_value(); });
  ASSERT_TRUE(synced->is_ok());
  EXPECT_EQ(disk_->durable_contents("a"), "before");
  EXPECT_EQ(disk_->unsynced_writes_sectors().at("a").size(), 1u);
}

TEST_F(SimDiskTest, TornWriteTearsAtAFileSectorBoundary) {
  std::unique_ptr<File> f = durable_file("a", std::string(2048, 'a'));
  ASSERT_TRUE(write(*f, 100, std::string(1500, 'b')).is_ok());  // bytes 100..1599: sectors 0-3
  const auto sectors = disk_->unsynced_writes_sectors();
  ASSERT_EQ(sectors.at("a"), std::vector<size_t>{4});
  disk_->power_loss_with({{"a", KeepPlan{0, 2}}});
  const std::string expect =
      std::string(100, 'a') + std::string(1024 - 100, 'b') + std::string(1024, 'a');
  EXPECT_EQ(disk_->cached_contents("a"), expect);
  EXPECT_EQ(disk_->durable_contents("a"), expect);
  EXPECT_EQ(faults_.count("torn_write"), 1u);
}

TEST_F(SimDiskTest, RenameIsDurableOnlyAfterSyncDir) {
  durable_file("a", "old");
  std::unique_ptr<File> tmp = open("tmp");
  ASSERT_TRUE(write(*tmp, 0, "new").is_ok());
  ASSERT_TRUE(sync(*tmp).is_ok());
  ASSERT_TRUE(fs_->rename("tmp", "a").is_ok());
  EXPECT_EQ(disk_->cached_contents("a"), "new");
  EXPECT_EQ(disk_->durable_contents("a"), "old");
  ASSERT_EQ(disk_->unsynced_namespace_ops(), 2u);  // create tmp, rename

  disk_->power_loss_with({});  // neither the create nor the rename survives
  EXPECT_EQ(disk_->file_names(), std::vector<std::string>{"a"});
  EXPECT_EQ(disk_->cached_contents("a"), "old");
}

TEST_F(SimDiskTest, PowerLossCanKeepAPrefixOfNamespaceChanges) {
  durable_file("a", "old");
  std::unique_ptr<File> tmp = open("tmp");
  ASSERT_TRUE(write(*tmp, 0, "new").is_ok());
  ASSERT_TRUE(sync(*tmp).is_ok());
  ASSERT_TRUE(fs_->rename("tmp", "a").is_ok());
  disk_->power_loss_with({}, 1);  // the create survives, the rename does not
  EXPECT_EQ(disk_->file_names(), (std::vector<std::string>{"a", "tmp"}));
  EXPECT_EQ(disk_->cached_contents("a"), "old");
  EXPECT_EQ(disk_->cached_contents("tmp"), "new");
}

TEST_F(SimDiskTest, RenameSurvivesPowerLossAfterSyncDir) {
  durable_file("a", "old");
  std::unique_ptr<File> tmp = open("tmp");
  ASSERT_TRUE(write(*tmp, 0, "new").is_ok());
  ASSERT_TRUE(sync(*tmp).is_ok());
  ASSERT_TRUE(fs_->rename("tmp", "a").is_ok());
  ASSERT_TRUE(sync_dir().is_ok());
  disk_->power_loss();
  EXPECT_EQ(disk_->file_names(), std::vector<std::string>{"a"});
  EXPECT_EQ(disk_->cached_contents("a"), "new");
}

TEST_F(SimDiskTest, RemoveIsUndoneByPowerLossWithoutSyncDir) {
  durable_file("a", "data");
  ASSERT_TRUE(fs_->remove("a").is_ok());
  EXPECT_FALSE(fs_->exists("a"));
  disk_->power_loss_with({});
  EXPECT_TRUE(fs_->exists("a"));
  EXPECT_EQ(disk_->cached_contents("a"), "data");
}

TEST_F(SimDiskTest, FsyncFailureReturnsErrorAndDataStaysLostAfterALaterSync) {
  std::unique_ptr<File> f = durable_file("a", std::string(10, '.'));
  ASSERT_TRUE(write(*f, 0, "lost").is_ok());
  disk_->fail_next_syncs(1);
  Status failed = sync(*f);
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_EQ(faults_.count("fsync_failure"), 1u);
  EXPECT_EQ(faults_.faults().back().target, "disk d0:a");
  ASSERT_TRUE(write(*f, 6, "ok").is_ok());
  ASSERT_TRUE(sync(*f).is_ok());                         // does not bring "lost" back
  EXPECT_EQ(disk_->cached_contents("a"), "lost..ok..");  // the cache still shows it
  EXPECT_EQ(disk_->durable_contents("a"), "......ok..");
  disk_->power_loss();
  EXPECT_EQ(disk_->cached_contents("a"), "......ok..");
}

TEST_F(SimDiskTest, FsyncFailureProbabilityOneFailsEverySync) {
  DiskOptions options;
  options.fsync_failure_probability = 1.0;
  reset(options);
  std::unique_ptr<File> f = open("a");
  ASSERT_TRUE(write(*f, 0, "x").is_ok());
  EXPECT_EQ(sync(*f).code(), StatusCode::kIoError);
  EXPECT_EQ(sync_dir().code(), StatusCode::kIoError);
  disk_->power_loss();
  EXPECT_TRUE(disk_->file_names().empty());  // the create was lost with the failed sync_dir
}

TEST_F(SimDiskTest, DiskFullReturnsNoSpaceAndKeepsEarlierDataReadable) {
  DiskOptions options;
  options.capacity_bytes = 1000;
  reset(options);
  std::unique_ptr<File> f = open("a");
  ASSERT_TRUE(write(*f, 0, std::string(800, 'x')).is_ok());
  EXPECT_EQ(append(*f, std::string(300, 'y')).code(), StatusCode::kNoSpace);
  EXPECT_EQ(write(*f, 999, "zz").code(), StatusCode::kNoSpace);
  EXPECT_EQ(f->truncate(2000).code(), StatusCode::kNoSpace);
  EXPECT_EQ(disk_->cached_contents("a"), std::string(800, 'x'));
  EXPECT_EQ(disk_->used_bytes(), 800u);
  EXPECT_TRUE(write(*f, 0, "overwrite in place").is_ok());
  EXPECT_TRUE(append(*f, std::string(200, 'y')).is_ok());  // exactly full
  EXPECT_EQ(disk_->used_bytes(), 1000u);
  Result<std::unique_ptr<File>> b = fs_->open("b", true);
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), StatusCode::kNoSpace);
  EXPECT_FALSE(fs_->exists("b"));
  std::string out;
  EXPECT_TRUE(f->read(0, 18, &out).is_ok());
  EXPECT_EQ(out, "overwrite in place");
  ASSERT_TRUE(f->truncate(100).is_ok());  // freeing space makes room again
  EXPECT_TRUE(fs_->open("b", true).is_ok());
}

TEST_F(SimDiskTest, SectorErrorFailsReadsTouchingItUntilRewritten) {
  std::unique_ptr<File> f = durable_file("a", std::string(2048, 'a'));
  disk_->inject_sector_error("a", 700);  // sector 1: bytes 512..1023
  std::string out;
  EXPECT_TRUE(f->read(0, 512, &out).is_ok());
  EXPECT_TRUE(f->read(1024, 100, &out).is_ok());
  EXPECT_EQ(f->read(500, 20, &out).code(), StatusCode::kIoError);
  EXPECT_EQ(f->read(1000, 10, &out).code(), StatusCode::kIoError);
  EXPECT_EQ(faults_.count("sector_error"), 1u);
  ASSERT_TRUE(write(*f, 512, std::string(512, 'b')).is_ok());
  EXPECT_TRUE(f->read(500, 20, &out).is_ok());
}

TEST_F(SimDiskTest, SectorErrorProbabilityMakesReadsFailAndTheErrorStays) {
  DiskOptions options;
  options.read_sector_error_probability = 1.0;
  reset(options);
  std::unique_ptr<File> f = durable_file("a", std::string(600, 'a'));
  std::string out;
  EXPECT_EQ(f->read(0, 600, &out).code(), StatusCode::kIoError);
  EXPECT_EQ(faults_.count("sector_error"), 1u);
  disk_->options().read_sector_error_probability = 0.0;
  const bool sector0_ok = f->read(0, 512, &out).is_ok();
  const bool sector1_ok = f->read(512, 88, &out).is_ok();
  EXPECT_NE(sector0_ok, sector1_ok);  // exactly one latent bad sector
}

int differing_bits(const std::string& a, const std::string& b) {
  EXPECT_EQ(a.size(), b.size());
  int bits = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bits += static_cast<int>(std::bitset<8>(static_cast<uint8_t>(a[i] ^ b[i])).count());
  }
  return bits;
}

TEST_F(SimDiskTest, BitRotFlipsExactlyOneBitAtRest) {
  const std::string original(1024, 'a');
  std::unique_ptr<File> f = durable_file("a", original);
  disk_->inject_bit_rot("a", 300);
  const std::string rotten = read_all(*f);
  EXPECT_EQ(differing_bits(original, rotten), 1);
  EXPECT_NE(rotten[300], 'a');
  EXPECT_EQ(disk_->durable_contents("a"), rotten);
  EXPECT_EQ(faults_.count("bit_rot"), 1u);
}

TEST_F(SimDiskTest, BitRotProbabilityFlipsExactlyOneBitPerRead) {
  DiskOptions options;
  options.bit_rot_probability = 1.0;
  reset(options);
  const std::string original(4096, 'q');
  std::unique_ptr<File> f = durable_file("a", original);
  std::string out;
  ASSERT_TRUE(f->read(1000, 2000, &out).is_ok());
  EXPECT_EQ(differing_bits(original.substr(1000, 2000), out), 1);
  EXPECT_EQ(differing_bits(original, disk_->cached_contents("a")), 1);
}

TEST_F(SimDiskTest, MisdirectedWriteLandsElsewhereAndLeavesIntendedPlaceUnchanged) {
  std::unique_ptr<File> f = durable_file("a", std::string(4096, 'a'));
  disk_->options().misdirected_write_probability = 1.0;
  ASSERT_TRUE(write(*f, 1024, std::string(512, 'b')).is_ok());
  const std::string got = disk_->cached_contents("a");
  ASSERT_EQ(got.size(), 4096u);
  EXPECT_EQ(got.substr(1024, 512), std::string(512, 'a'));
  int landed = 0;
  for (size_t at = 0; at < got.size(); at += kSectorBytes) {
    if (got.substr(at, 512) == std::string(512, 'b')) ++landed;
  }
  EXPECT_EQ(landed, 1);
  EXPECT_EQ(std::count(got.begin(), got.end(), 'b'), 512);
  EXPECT_EQ(faults_.count("misdirected_write"), 1u);
  ASSERT_TRUE(sync(*f).is_ok());
  EXPECT_EQ(disk_->durable_contents("a"), got);
}

// Runs a fixed workload of 6 mutating ops: create, write, sync, rename, sync_dir, remove.
int run_workload(SimDisk& disk, FileSystem& fs, EventLoop& loop) {
  int callbacks = 0;
  Result<std::unique_ptr<File>> f = fs.open("tmp", true);
  REPLSIM_ASSERT(f.is_ok());
  f.value()->write(0, "data", [&](Status) { ++callbacks; });
  f.value()->sync([&](Status) { ++callbacks; });
  fs.rename("tmp", "a").ignore();
  fs.sync_dir([&](Status) { ++callbacks; });
  fs.remove("a").ignore();
  loop.run_until(loop.now() + 1'000'000);
  (void)disk;
  return callbacks;
}

TEST_F(SimDiskTest, FreezeAfterOpsStopsExactlyAtOpN) {
  const int all_callbacks = run_workload(*disk_, *fs_, loop_);
  EXPECT_EQ(all_callbacks, 3);
  const uint64_t ops = disk_->ops_issued();
  ASSERT_EQ(ops, 6u);
  const std::vector<int> callbacks_expected = {0, 0, 1, 2, 2, 3, 3};
  for (uint64_t i = 0; i <= ops; ++i) {
    reset();
    disk_->freeze_after_ops(i);
    EXPECT_EQ(run_workload(*disk_, *fs_, loop_), callbacks_expected[i]) << "frozen at " << i;
    EXPECT_EQ(disk_->ops_issued(), ops);
    const std::vector<std::string> names = disk_->file_names();
    std::vector<std::string> names_expected;  // what the page cache names after op i - 1
    if (i >= 1 && i <= 3) names_expected = {"tmp"};
    if (i == 4 || i == 5) names_expected = {"a"};
    EXPECT_EQ(names, names_expected) << "frozen at " << i;
    if (i == 2) {
      EXPECT_EQ(disk_->cached_contents("tmp"), "data");
    }
    disk_->power_loss();  // crash at op i: every recovered state is a legal one
    for (const std::string& name : disk_->file_names()) {
      const std::string content = disk_->cached_contents(name);
      EXPECT_TRUE(content.empty() || content == "data") << name << "=" << content;
    }
    if (i == 5) {
      EXPECT_EQ(disk_->file_names(), std::vector<std::string>{"a"});
    }
    if (i >= 3) {
      for (const std::string& name : disk_->file_names()) {
        EXPECT_EQ(disk_->cached_contents(name), "data") << "synced before op " << i;
      }
    }
  }
}

TEST_F(SimDiskTest, ThawResumesApplyingOps) {
  std::unique_ptr<File> f = open("a");
  disk_->freeze_after_ops(1);  // the create was op 0
  f->append("dropped", [](Status) { ADD_FAILURE() << "frozen op called back"; });
  disk_->thaw();
  ASSERT_TRUE(append(*f, "kept").is_ok());
  EXPECT_EQ(disk_->cached_contents("a"), "kept");
}

TEST(SimDiskTraceTest, TraceRecordsCompletedOpsAndIsDeterministic) {
  auto run = [](uint64_t seed, std::vector<TraceEvent>* events) {
    EventLoop loop;
    Trace trace;
    trace.keep_events(true);
    DiskOptions options;
    options.latency_jitter_us = 50;
    SimDisk disk(loop, Prng(seed), "d0", options, nullptr, &trace);
    auto process = std::make_shared<int>(0);
    std::unique_ptr<FileSystem> fs = disk.attach(process, 1);
    run_workload(disk, *fs, loop);
    disk.power_loss();
    *events = trace.events();
    return trace.hash();
  };
  std::vector<TraceEvent> first_events;
  std::vector<TraceEvent> second_events;
  const uint64_t first = run(7, &first_events);
  EXPECT_EQ(run(7, &second_events), first) << divergence_report(first_events, second_events);
  std::vector<std::string> kinds;
  for (const TraceEvent& e : first_events) kinds.push_back(e.kind);
  std::sort(kinds.begin(), kinds.end());  // jitter may reorder sync and sync_dir
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"disk_create", "disk_power_loss", "disk_remove",
                                      "disk_rename", "disk_sync", "disk_sync_dir", "disk_write"}));
  EXPECT_EQ(first_events[0].node, 1u);
}

TEST_F(SimDiskTest, CallbacksInFlightAtPowerLossNeverFire) {
  std::unique_ptr<File> f = open("a");
  bool fired = false;
  f->append("x", [&](Status) { fired = true; });
  f->sync([&](Status) { fired = true; });
  disk_->power_loss();
  loop_.run_until(loop_.now() + 1'000'000);
  EXPECT_FALSE(fired);
}

TEST_F(SimDiskTest, VisitStoredBytesSeesCachedDurableAndUnsyncedBytes) {
  std::unique_ptr<File> f = durable_file("a", "durable-secret");
  ASSERT_TRUE(write(*f, 0, "cached-XXXXXXX").is_ok());
  std::unique_ptr<File> g = open("gone");
  ASSERT_TRUE(write(*g, 0, "removed-secret").is_ok());
  ASSERT_TRUE(fs_->remove("gone").is_ok());  // not dir-synced: could come back
  std::string all;
  disk_->visit_stored_bytes([&](const std::string&, const std::string& b) { all += b + "|"; });
  EXPECT_NE(all.find("durable-secret"), std::string::npos);
  EXPECT_NE(all.find("cached-XXXXXXX"), std::string::npos);
  EXPECT_NE(all.find("removed-secret"), std::string::npos);
}

TEST_F(SimDiskTest, VisitStoredRunsSeesWhatVisitStoredBytesSeesWithoutTheHoles) {
  std::unique_ptr<File> f = open("a");
  ASSERT_TRUE(write(*f, 0, "durable-secret").is_ok());
  ASSERT_TRUE(sync(*f).is_ok());
  ASSERT_TRUE(write(*f, 64ull << 20, "far-away-secret").is_ok());
  std::unique_ptr<File> g = open("gone");
  ASSERT_TRUE(write(*g, 0, "removed-secret").is_ok());
  ASSERT_TRUE(fs_->remove("gone").is_ok());
  std::string all;
  size_t bytes = 0;
  disk_->visit_stored_runs([&](const std::string& path, const char* kind, std::string_view b) {
    all += path + ":" + kind + ":" + std::string(b) + "|";
    bytes += b.size();
  });
  EXPECT_NE(all.find("a:durable:durable-secret"), std::string::npos);
  EXPECT_NE(all.find("far-away-secret"), std::string::npos);
  EXPECT_NE(all.find("gone:cache:removed-secret"), std::string::npos);
  EXPECT_LT(bytes, 1u << 20);  // the 64 MiB hole is skipped
}

TEST_F(SimDiskTest, UnsyncedWritesAreBoundedByWritingBackTheOldest) {
  std::unique_ptr<File> f = open("a");
  const size_t extra = 10;
  for (size_t i = 0; i < kUnsyncedWritesMax + extra; ++i) {
    f->append(std::string(1, static_cast<char>('a' + i % 26)), nullptr);
  }
  EXPECT_EQ(disk_->unsynced_writes_sectors().at("a").size(), kUnsyncedWritesMax);
  ASSERT_TRUE(sync_dir().is_ok());
  disk_->power_loss_with({});
  EXPECT_EQ(disk_->cached_contents("a"), "abcdefghij");  // written back without a sync
}

TEST(FileImageTest, SparseImageHoldsOnlyWrittenChunksAndReadsHolesAsZeros) {
  FileImage image;
  const uint64_t far = 256ull << 20;
  image.write(far, "tail");
  EXPECT_EQ(image.size(), far + 4);
  EXPECT_EQ(image.chunks_held(), 1u);
  std::string out;
  image.read(far - 3, 10, &out);
  EXPECT_EQ(out, std::string(3, '\0') + "tail");    // clamped at the end
  image.write(FileImage::kChunkBytes - 2, "span");  // crosses a chunk boundary
  image.read(FileImage::kChunkBytes - 3, 6, &out);
  EXPECT_EQ(out, std::string(1, '\0') + "span" + std::string(1, '\0'));
  EXPECT_EQ(image.chunks_held(), 3u);
}

TEST(FileImageTest, ShrinkThenGrowReadsZerosAndCopiesAreIndependent) {
  FileImage image;
  image.write(0, std::string(3 * FileImage::kChunkBytes, 'x'));
  FileImage copy = image;
  image.resize(FileImage::kChunkBytes + 5);
  image.resize(3 * FileImage::kChunkBytes);
  std::string out;
  image.read(FileImage::kChunkBytes, 10, &out);
  EXPECT_EQ(out, std::string(5, 'x') + std::string(5, '\0'));
  EXPECT_EQ(image.chunks_held(), 2u);
  image.flip(0, 1);
  EXPECT_EQ(copy.to_string(), std::string(3 * FileImage::kChunkBytes, 'x'));  // unshared
  image.read(0, 1, &out);
  EXPECT_EQ(out, std::string(1, 'x' ^ 1));
}

}  // namespace
}  // namespace replsim::sim
