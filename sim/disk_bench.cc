// Google Benchmark of the simulated disk: the cost the disk model adds to a simulated run.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "sim/disk.h"

namespace replsim::sim {
namespace {

// 4 KiB appends through the page cache, each completed through the event loop; one sync
// every `range(0)` appends. items_per_second = appends per second.
void BM_DiskAppend(benchmark::State& state) {
  const int64_t appends_per_sync = state.range(0);
  EventLoop loop;
  SimDisk disk(loop, Prng(1), "bench", DiskOptions{});
  auto process = std::make_shared<int>(0);
  std::unique_ptr<FileSystem> fs = disk.attach(process);
  std::unique_ptr<File> file = std::move(fs->open("log", true).value());
  const std::string block(4096, 'x');
  int64_t appended = 0;
  for (auto _ : state) {
    if (file->size() > (64u << 20)) {  // keep memory bounded: start the log again
      file->truncate(0).ignore();
    }
    file->append(block, [](Status s) { s.ignore(); });
    if (++appended % appends_per_sync == 0) file->sync([](Status s) { s.ignore(); });
    loop.run_until(loop.now() + 10);
  }
  loop.run_until(loop.now() + 1'000'000);
  state.SetItemsProcessed(appended);
}
BENCHMARK(BM_DiskAppend)->Arg(1)->Arg(16)->Arg(1 << 30);

// A power loss of a disk holding `range(0)` unsynced 4 KiB writes spread over 8 files.
void BM_DiskPowerLoss(benchmark::State& state) {
  const int64_t writes = state.range(0);
  EventLoop loop;
  SimDisk disk(loop, Prng(2), "bench", DiskOptions{});
  auto process = std::make_shared<int>(0);
  std::unique_ptr<FileSystem> fs = disk.attach(process);
  const std::string block(4096, 'y');
  const std::string names[8] = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"};
  for (auto _ : state) {
    state.PauseTiming();
    for (int64_t i = 0; i < writes; ++i) {
      std::unique_ptr<File> file = std::move(fs->open(names[i % 8], true).value());
      file->write(static_cast<uint64_t>(i / 8) * 4096, block, nullptr);
    }
    state.ResumeTiming();
    disk.power_loss();
  }
  state.SetItemsProcessed(state.iterations() * writes);
}
BENCHMARK(BM_DiskPowerLoss)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace replsim::sim
