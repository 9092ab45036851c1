// BM_SteadyReplication: 1 primary + 2 secondaries (2 nodes each), WAN one-way exactly 30 ms,
// LAN 0.5 ms, no faults, node clocks without offset or drift (lag is read on the global clock).
// Open-loop load: `rate` writes per virtual second for 10 virtual seconds, 90 % sent to the
// primary's active node and 10 % to a secondary's active node (forwarded, with the
// read-after-write hold). Counters (virtual time unless named otherwise):
//   lag_p50_vms / lag_p99_vms  commit on the primary → applied durably on a secondary
//   oneway_vms, batch_window_vms  the configuration the goals are stated against
//   raw_warning_rate           forwarded writes answered with the RAW warning / forwarded writes
//   us_cpu_per_write           process CPU µs of the steady phase / replicated writes (the work
//                              of every cluster and of the simulator itself)
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <vector>

#include "engine/cluster/testing/topology.h"

namespace replsim {
namespace {

using cluster::testkit::Topology;
using cluster::testkit::TopologyOptions;

constexpr TimeUs kOneWayUs = 30 * kUsPerMs;
constexpr TimeUs kRunUs = 10 * kUsPerSec;

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct LagObserver : cluster::NodeObserver {
  sim::SimWorld* world = nullptr;
  std::map<uint64_t, TimeUs> committed;  // WAL index → global commit time
  std::vector<TimeUs> lags_us;
  bool recording = false;
  void on_wal_committed(NodeId, Epoch, WalIndex index) override {
    if (recording) committed[index.value] = world->now();
  }
  void on_wal_applied(NodeId, Epoch, WalIndex index) override {
    auto it = committed.find(index.value);
    if (it != committed.end()) lags_us.push_back(world->now() - it->second);
  }
};

TimeUs percentile(std::vector<TimeUs> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void BM_SteadyReplication(benchmark::State& state) {
  const int rate = static_cast<int>(state.range(0));
  double lag50 = 0, lag99 = 0, warn_rate = 0, cpu_per_write = 0;
  TimeUs window_us = 0;
  for (auto _ : state) {
    LagObserver obs;
    TopologyOptions o;
    o.seed = 42;
    o.clusters = 3;
    o.nodes_per_cluster = 2;
    o.random_clocks = false;
    o.wan = sim::LinkModel{};
    o.wan.latency_min_us = kOneWayUs;
    o.wan.latency_tail_mean_us = 0;
    o.observer = &obs;
    window_us = o.node.batch_window_us;
    Topology t(o);
    obs.world = &t.world();
    if (!t.setup_replication()) {
      state.SkipWithError(("setup failed: " + t.last_error()).c_str());
      return;
    }
    std::vector<std::string> tokens = {t.login(t.active_id(0)), t.login(t.active_id(1))};
    NodeId targets[2] = {t.active_id(0), t.active_id(1)};
    uint64_t forwarded = 0, warnings = 0, done = 0;
    int sent = 0;
    const int total = static_cast<int>(rate * kRunUs / kUsPerSec);
    const TimeUs gap_us = kUsPerSec / rate;
    Env& client_env = *t.world().env(Topology::kClient);
    std::function<void()> tick = [&] {
      if (sent >= total) return;
      int via = (sent % 10 == 9) ? 1 : 0;
      proto::ClientRequest r;
      r.set_token(tokens[via]);
      r.mutable_write()->set_path("bench/" + std::to_string(sent % 10000));
      r.mutable_write()->set_value(std::string(100, 'x'));
      ++sent;
      t.client().send(targets[via], std::move(r), [&, via](const proto::ClientResponse& resp) {
        ++done;
        if (via == 1 && resp.error() == proto::OK) {
          ++forwarded;
          if (!resp.warning().empty()) ++warnings;
        }
      });
      client_env.schedule(gap_us, tick);
    };
    obs.recording = true;
    double cpu0 = cpu_seconds();
    tick();
    t.world().run_for(kRunUs + 2 * kUsPerSec);
    double cpu1 = cpu_seconds();
    uint64_t writes = t.active(0)->counters().writes_committed;
    lag50 = percentile(obs.lags_us, 0.50) / 1000.0;
    lag99 = percentile(obs.lags_us, 0.99) / 1000.0;
    warn_rate = forwarded ? static_cast<double>(warnings) / forwarded : 0;
    cpu_per_write = writes ? (cpu1 - cpu0) * 1e6 / writes : 0;
    if (done != static_cast<uint64_t>(total)) state.SkipWithError("not every write answered");
  }
  state.counters["lag_p50_vms"] = lag50;
  state.counters["lag_p99_vms"] = lag99;
  state.counters["oneway_vms"] = kOneWayUs / 1000.0;
  state.counters["batch_window_vms"] = window_us / 1000.0;
  state.counters["raw_warning_rate"] = warn_rate;
  state.counters["us_cpu_per_write"] = cpu_per_write;
}
BENCHMARK(BM_SteadyReplication)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace replsim
