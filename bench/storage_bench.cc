// Storage benchmarks.
//
// BM_GroupCommit/W: W writers in a closed loop (commit, wait for the ack, commit again) on a
// SimDisk with a fixed 1 ms fsync and 10 µs write latency. Counters, in virtual time:
// writes_per_vsec (acknowledged commits per virtual second) and p99_commit_vms (p99 commit
// latency, virtual ms). Goal (docs/design.md §6): W=64 reaches >= 20x the W=1 throughput with a
// p99 <= 4x.
// BM_CommitCpu/W: wall-clock CPU per acknowledged small commit (the time per iteration),
// with W writers sharing group commits.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "engine/storage/store.h"
#include "sim/disk_env.h"

namespace replsim {
namespace {

struct Bench {
  explicit Bench(int writers)
      : disk(loop, sim::Prng(7), "bench", disk_options()), env(loop, disk, 8) {
    StoreOptions options;
    options.auto_compact_log_bytes = 0;  // measure group commit alone
    store = std::move(*Store::open(env, options));
    bool ready = false;
    store->on_ready([&](Status s) { ready = s.is_ok(); });
    loop.run_while([&] { return !ready; });
    for (int w = 0; w < writers; ++w) submit(w);
  }

  static sim::DiskOptions disk_options() {
    sim::DiskOptions o;
    o.write_latency_us = 10;
    o.fsync_latency_us = 1000;
    o.latency_jitter_us = 0;
    return o;
  }

  void submit(int writer) {
    Transaction t;
    t.put("secret/w" + std::to_string(writer) + "/" + std::to_string(next_key_++ % 64),
          std::string(64, 'v'));
    const TimeUs start_us = loop.now();
    store->commit(std::move(t), [this, writer, start_us](Result<CommitInfo> r) {
      if (!r.is_ok()) std::abort();
      ++acked;
      if (record) latencies_us.push_back(loop.now() - start_us);
      submit(writer);
    });
  }

  // Runs until `n` more commits are acknowledged.
  void run_commits(uint64_t n) {
    const uint64_t target = acked + n;
    loop.run_while([&] { return acked < target; });
  }

  sim::EventLoop loop;
  sim::SimDisk disk;
  sim::DiskEnv env;
  std::unique_ptr<Store> store;
  uint64_t acked = 0;
  uint64_t next_key_ = 0;
  bool record = false;
  std::vector<TimeUs> latencies_us;
};

void BM_GroupCommit(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  Bench bench(writers);
  bench.run_commits(4 * writers);  // warm up
  bench.record = true;
  const TimeUs start_us = bench.loop.now();
  const uint64_t start_acked = bench.acked;
  for (auto _ : state) bench.run_commits(64);
  const double vsec = static_cast<double>(bench.loop.now() - start_us) / kUsPerSec;
  std::vector<TimeUs>& lat = bench.latencies_us;
  std::sort(lat.begin(), lat.end());
  const double p99_ms =
      lat.empty() ? 0.0 : static_cast<double>(lat[lat.size() * 99 / 100]) / kUsPerMs;
  state.counters["writes_per_vsec"] = static_cast<double>(bench.acked - start_acked) / vsec;
  state.counters["p99_commit_vms"] = p99_ms;
  state.counters["commits_per_fsync"] =
      static_cast<double>(bench.store->stats().commits_acked) /
      static_cast<double>(std::max<uint64_t>(1, bench.store->stats().fsyncs));
}
BENCHMARK(BM_GroupCommit)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_CommitCpu(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  Bench bench(writers);
  bench.run_commits(4 * writers);
  const uint64_t start_acked = bench.acked;
  // One iteration = one group (W commits): acks of one fsync arrive together.
  for (auto _ : state) bench.run_commits(writers);
  const double commits = static_cast<double>(bench.acked - start_acked);
  state.SetItemsProcessed(static_cast<int64_t>(commits));
  // CPU seconds per commit (printed with an SI prefix: "1.2u" = 1.2 µs).
  state.counters["cpu_s_per_commit"] =
      benchmark::Counter(commits, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CommitCpu)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace replsim
