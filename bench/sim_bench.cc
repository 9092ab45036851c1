// Speed of the simulated world (docs/design.md §6: the event loop must run >= 10 M events/s).
//
//   build/bin/sim_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BM_EventLoop: a steady population of pending events; each event, when it runs, schedules
// one more at a pseudo-random later time. items_per_second = events scheduled and run.
// BM_MessageDelivery: nodes on LAN links, a steady population of messages in flight; each
// delivery sends a new 64-byte message to another node through the full network model
// (latency draws, fault decisions, bounded queue, trace hash). items_per_second = deliveries.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "sim/event_loop.h"
#include "sim/network.h"
#include "sim/trace.h"

namespace replsim::sim {
namespace {

// A tiny generator so the benchmark measures the loop, not the PRNG.
struct XorShift {
  uint64_t x = 88172645463325252ull;
  uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

struct Reschedule {
  EventLoop* loop;
  XorShift* rng;
  uint64_t* runs;
  void operator()() const {
    ++*runs;
    loop->after(static_cast<TimeUs>(rng->next() % 1000) + 1, *this);
  }
};

void BM_EventLoop(benchmark::State& state) {
  EventLoop loop;
  XorShift rng;
  uint64_t runs = 0;
  const int64_t population = state.range(0);
  for (int64_t i = 0; i < population; ++i) {
    loop.after(static_cast<TimeUs>(rng.next() % 1000), Reschedule{&loop, &rng, &runs});
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(loop.run_one());
  }
  state.SetItemsProcessed(static_cast<int64_t>(runs));
}
BENCHMARK(BM_EventLoop)->Arg(16)->Arg(1024)->Arg(65536);

void BM_MessageDelivery(benchmark::State& state) {
  EventLoop loop;
  Trace trace;
  FaultRecorder faults;
  Network net(loop, Prng(1), &faults, &trace);
  constexpr uint32_t kNodes = 16;
  XorShift rng;
  uint64_t delivered = 0;
  const std::string payload(64, 'p');
  for (uint32_t n = 1; n <= kNodes; ++n) {
    const NodeId self(n);
    net.set_endpoint(self, [&, self](NodeId from, std::string bytes) {
      ++delivered;
      const NodeId to(static_cast<uint32_t>(rng.next() % kNodes) + 1);
      net.send(self, to == self ? from : to, std::move(bytes));
    });
  }
  const int64_t in_flight = state.range(0);
  for (int64_t i = 0; i < in_flight; ++i) {
    net.send(NodeId(static_cast<uint32_t>(i % kNodes) + 1),
             NodeId(static_cast<uint32_t>((i + 1) % kNodes) + 1), payload);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(loop.run_one());
  }
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
  state.counters["dropped"] = static_cast<double>(net.counters().dropped);
}
BENCHMARK(BM_MessageDelivery)->Arg(256);

}  // namespace
}  // namespace replsim::sim
