// Merkle index benchmarks (docs/merkle.md has the figures and the command).
// Fixtures at n = 1,000,000 keys are built once per process. Values are 100-byte ciphertexts.
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/aries/aries_index.h"
#include "engine/merkle/reconcile.h"
#include "sim/disk.h"
#include "sim/disk_env.h"
#include "sim/event_loop.h"
#include "sim/prng.h"

namespace replsim {
namespace {

constexpr int kKeys = 1'000'000;  // the default n; rows at 10 M take n as an argument
constexpr int k10M = 10'000'000;

// Resident memory of this process in MiB (Linux /proc): the fixtures' footprint when one
// benchmark family runs per process (--benchmark_filter).
double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

std::string key(int i) { return "secret/data/app-" + std::to_string(i); }
std::string value(int i, int version) {
  std::string v(100, '\0');
  uint64_t x = (static_cast<uint64_t>(i) << 20) ^ static_cast<uint64_t>(version) ^ 0x9e3779b9;
  for (char& c : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return v;
}

// ---------------------------------------------------------------- update
void BM_MerkleUpdate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  static std::map<int, merkle::MerkleIndex*> indexes;
  merkle::MerkleIndex*& index = indexes[n];
  if (index == nullptr) {
    index = new merkle::MerkleIndex();
    for (int i = 0; i < n; ++i) index->put(key(i), value(i, 0));
    index->root();
  }
  sim::Prng rnd(1);
  int version = 1;
  std::vector<std::pair<std::string, std::string>> batch(64);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& [k, v] : batch) {
      const int i = static_cast<int>(rnd.uniform(n));
      k = key(i);
      v = value(i, version++);
    }
    state.ResumeTiming();
    for (auto& [k, v] : batch) index->put(k, v);
    benchmark::DoNotOptimize(index->root());  // one root per group commit of 64 writes
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.counters["ns_per_update"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 64),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_MerkleUpdate)->Arg(kKeys)->Arg(k10M)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------- reconcile
struct ReconcileFixture {
  merkle::MerkleIndex primary;
  merkle::MerkleIndex replica;
  explicit ReconcileFixture(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string k = key(i);
      const std::string v = value(i, 0);
      primary.put(k, v);
      replica.put(k, v);
    }
  }
};

template <typename M>
M wire(const M& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  M out;
  out.ParseFromString(bytes);
  return out;
}

// Negentropy (32-byte ids, 16-byte fingerprints, no frame limit) at n = 1 M, measured on this
// machine, for the same d split between the sides (the anchor).
double negentropy_bytes(int d) {
  switch (d) {
    case 1:
      return 2319;
    case 10:
      return 19968;
    case 100:
      return 165129;
    case 1000:
      return 1360344;
    case 10000:
      return 10491782;
  }
  return 0;
}

ReconcileFixture* reconcile_fixture(int n) {
  static std::map<int, ReconcileFixture*> fixtures;
  ReconcileFixture*& f = fixtures[n];
  if (f == nullptr) f = new ReconcileFixture(n);
  return f;
}

void BM_Reconcile(benchmark::State& state) {
  const int n = static_cast<int>(state.range(1));
  ReconcileFixture* f = reconcile_fixture(n);
  const int d = static_cast<int>(state.range(0));
  // Differences split between the sides: ceil(d/2) keys only on the primary, floor(d/2) only
  // on the replica.
  std::unordered_map<std::string, std::string> primary_extra;
  std::vector<std::string> replica_extra;
  for (int j = 0; j < d; ++j) {
    const std::string k = "secret/extra/" + std::to_string(j);
    if (j % 2 == 0) {
      primary_extra[k] = value(n + j, 0);
      f->primary.put(k, primary_extra[k]);
    } else {
      replica_extra.push_back(k);
      f->replica.put(k, value(n + j, 0));
    }
  }
  const merkle::ValueLookup lookup = [&](std::string_view p) -> std::optional<std::string> {
    auto it = primary_extra.find(std::string(p));
    if (it != primary_extra.end()) return it->second;
    const std::string prefix = "secret/data/app-";
    return value(std::stoi(std::string(p.substr(prefix.size()))), 0);
  };
  merkle::ReconcileStats stats;
  std::vector<proto::KeyChange> changes;
  for (auto _ : state) {
    merkle::ReplicaReconcile session;
    auto r1 = merkle::answer_diff(f->primary, WalIndex(1), wire(session.start(f->replica)));
    auto step = session.on_diff_reply(f->replica, wire(*r1));
    if (step->kind == merkle::ReplicaStep::Kind::kSendBuckets) {
      auto r2 = merkle::answer_buckets(f->primary, wire(step->buckets));
      step = session.on_buckets_reply(f->replica, wire(*r2));
    }
    if (step->kind == merkle::ReplicaStep::Kind::kSendSync) {
      auto r3 = merkle::answer_sync(f->primary, wire(step->sync), lookup);
      step = session.on_sync_reply(f->replica, wire(*r3));
    }
    stats = session.stats();
    changes = step->changes;
  }
  // Apply once and check the replica converged (then undo, so the fixture stays the base).
  for (const proto::KeyChange& c : changes) {
    if (c.deleted())
      f->replica.erase(c.path());
    else
      f->replica.put(c.path(), c.ciphertext());
  }
  if (f->replica.root() != f->primary.root()) state.SkipWithError("replica did not converge");
  for (auto& [k, v] : primary_extra) {
    f->primary.erase(k);
    f->replica.erase(k);
  }
  for (const std::string& k : replica_extra) f->replica.erase(k);
  state.counters["differences"] = d;
  state.counters["round_trips"] = stats.round_trips;
  state.counters["sync_round_trips"] = stats.sync_round_trips;
  state.counters["keys_fetched"] = static_cast<double>(stats.keys_fetched);
  state.counters["keys_deleted"] = static_cast<double>(stats.keys_deleted);
  state.counters["diff_bytes"] = static_cast<double>(stats.diff_bytes);
  if (n == kKeys) state.counters["negentropy_bytes"] = negentropy_bytes(d);
  state.counters["rss_mib"] = rss_mib();
  state.counters["sync_reply_bytes"] = static_cast<double>(stats.sync_reply_bytes);
}
BENCHMARK(BM_Reconcile)
    ->Args({1, kKeys})
    ->Args({10, kKeys})
    ->Args({100, kKeys})
    ->Args({1000, kKeys})
    ->Args({10000, kKeys})
    ->Unit(benchmark::kMillisecond);
// n = 10 M (second argument), d <= 1000.
BENCHMARK(BM_Reconcile)
    ->Args({1, k10M})
    ->Args({10, k10M})
    ->Args({100, k10M})
    ->Args({1000, k10M})
    ->Unit(benchmark::kMillisecond);

// Large difference: a new, empty replica against 1 M keys (whole root slots, no listing).
void BM_ReconcileEmptyReplica(benchmark::State& state) {
  ReconcileFixture* f = reconcile_fixture(kKeys);
  merkle::MerkleIndex empty;
  merkle::ReconcileStats stats;
  for (auto _ : state) {
    merkle::ReplicaReconcile session;
    auto r1 = merkle::answer_diff(f->primary, WalIndex(1), wire(session.start(empty)));
    auto step = session.on_diff_reply(empty, wire(*r1));
    stats = session.stats();
    benchmark::DoNotOptimize(step->sync.whole_slots_size());
  }
  state.counters["round_trips"] = stats.round_trips;
  state.counters["diff_bytes"] = static_cast<double>(stats.diff_bytes);
}
BENCHMARK(BM_ReconcileEmptyReplica)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- recovery vs rebuild

// Storage with 1 M keys (versions per key) and the WAL entries after the initial load.
class BenchStorage final : public aries::IndexSource {
 public:
  explicit BenchStorage(int n) : version(n, 0) {}
  std::vector<int> version;
  std::vector<std::pair<int, int>> wal;  // entry i+1: (key, version)

  Status for_each_entry_after(
      WalIndex after,
      const std::function<void(WalIndex, const std::vector<proto::KeyChange>&)>& fn) override {
    std::vector<proto::KeyChange> changes(1);
    for (uint64_t i = after.value; i < wal.size(); ++i) {
      changes[0].set_path(key(wal[i].first));
      changes[0].set_ciphertext(value(wal[i].first, wal[i].second));
      fn(WalIndex(i + 1), changes);
    }
    return Status::ok();
  }
  Status scan(WalIndex* as_of,
              const std::function<void(std::string_view, std::string_view)>& fn) override {
    for (size_t i = 0; i < version.size(); ++i) {
      fn(key(static_cast<int>(i)), value(static_cast<int>(i), version[i]));
    }
    *as_of = WalIndex(wal.size());
    return Status::ok();
  }
};

struct RecoveryFixture {
  sim::EventLoop loop;
  sim::SimDisk disk{loop, sim::Prng(5), "d", sim::DiskOptions{}};
  BenchStorage storage;
  int n;
  aries::AriesOptions options;  // defaults: 2 % of dirty pages per 200 ms, checkpoint / 1 MiB
  aries::RecoveryStats last;
  double recovery_ms = 0;

  explicit RecoveryFixture(int keys) : storage(keys), n(keys) {
    // Initial load (a rebuild writes every page), then 60 s of virtual time at 1000 writes/s
    // under the default flush and checkpoint policy, then a crash.
    auto env = std::make_unique<sim::DiskEnv>(loop, disk, 3);
    auto index = std::move(aries::AriesIndex::open(*env, options, storage).value());
    loop.run_until(loop.now() + 100 * kUsPerMs);
    sim::Prng rnd(9);
    std::vector<proto::KeyChange> changes(1);
    for (int t = 0; t < 60'000; ++t) {
      const int k = static_cast<int>(rnd.uniform(n));
      storage.wal.emplace_back(k, ++storage.version[k]);
      changes[0].set_path(key(k));
      changes[0].set_ciphertext(value(k, storage.version[k]));
      index->apply(WalIndex(storage.wal.size()), changes);
      loop.run_until(loop.now() + kUsPerMs);
    }
    index.reset();
    env.reset();
    disk.power_loss();
  }
};

RecoveryFixture& recovery_fixture(int n) {
  static std::map<int, RecoveryFixture*> fixtures;
  RecoveryFixture*& f = fixtures[n];
  if (f == nullptr) f = new RecoveryFixture(n);
  return *f;
}

std::map<int, double> g_recovery_ms;  // by n

void BM_MerkleRecovery(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  RecoveryFixture& f = recovery_fixture(n);
  double total_ms = 0;
  for (auto _ : state) {
    // Each open recovers the same crashed state: the index is dropped before any of its
    // writes completes, and the disk is frozen so restart's writes do not land.
    f.disk.freeze_after_ops(f.disk.ops_issued());
    auto env = std::make_unique<sim::DiskEnv>(f.loop, f.disk, 3);
    const auto t0 = std::chrono::steady_clock::now();
    auto index = aries::AriesIndex::open(*env, f.options, f.storage);
    benchmark::DoNotOptimize(index.value()->root());
    total_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    f.last = index.value()->recovery_stats();
    state.PauseTiming();
    index.value().reset();
    env.reset();
    f.disk.thaw();
    state.ResumeTiming();
  }
  g_recovery_ms[n] = total_ms / static_cast<double>(state.iterations());
  state.counters["rss_mib"] = rss_mib();
  state.counters["records_analyzed"] = static_cast<double>(f.last.log_records_analyzed);
  state.counters["records_redone"] = static_cast<double>(f.last.records_redone);
  state.counters["wal_rolled_forward"] = static_cast<double>(f.last.wal_entries_rolled_forward);
  state.counters["rebuilt"] = f.last.rebuilt;
}
BENCHMARK(BM_MerkleRecovery)->Arg(kKeys)->Arg(k10M)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_MerkleRebuild(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  RecoveryFixture& f = recovery_fixture(n);
  aries::AriesOptions options = f.options;
  options.force_rebuild = true;
  double total_ms = 0;
  for (auto _ : state) {
    f.disk.freeze_after_ops(f.disk.ops_issued());  // rebuild's writes are issued, not landed
    auto env = std::make_unique<sim::DiskEnv>(f.loop, f.disk, 3);
    const auto t0 = std::chrono::steady_clock::now();
    auto index = aries::AriesIndex::open(*env, options, f.storage);
    benchmark::DoNotOptimize(index.value()->root());
    total_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state.PauseTiming();
    index.value().reset();
    env.reset();
    f.disk.thaw();
    state.ResumeTiming();
  }
  const double rebuild_ms = total_ms / static_cast<double>(state.iterations());
  state.counters["rebuild_ms"] = rebuild_ms;
  state.counters["recovery_ms"] = g_recovery_ms[n];
  if (g_recovery_ms[n] > 0) state.counters["recovery_vs_rebuild"] = rebuild_ms / g_recovery_ms[n];
  state.counters["rss_mib"] = rss_mib();
}
BENCHMARK(BM_MerkleRebuild)->Arg(kKeys)->Arg(k10M)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace replsim
