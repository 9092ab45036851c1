// SimCpu: a simulated node's processors, so that work takes virtual time and a node has a
// finite capacity (without it a simulated cluster serves any load in zero time, and adding
// clusters cannot change throughput).
//
// Model (an M/G/k FIFO queue):
// - `cores` identical cores. submit(service_us, work) queues the item behind everything
//   submitted before it; it starts when a core is free (the earliest-free core takes it) and
//   `work` runs when its service time has passed. Latency = queueing + service, so an
//   overloaded node's latency grows while its throughput stays at cores / service time.
// - At most `queue_items_max` items wait (not counting the ones in service): a submit past
//   that is refused (false) and the caller answers "overloaded" — a bound, never a crash.
// - cores == 0 switches the model off: work runs at once, in order (the zero-time world).
// - Deterministic: start and finish times depend only on the submissions and the loop's time.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/env.h"
#include "sim/event_loop.h"

namespace replsim::sim {

struct CpuOptions {
  uint32_t cores = 0;  // 0 = the model is off (infinite capacity)
  size_t queue_items_max = 4096;
};

struct CpuStats {
  uint64_t completed = 0;
  uint64_t refused = 0;      // submitted while the queue was full
  TimeUs busy_us = 0;        // service time summed over cores
  TimeUs wait_us_total = 0;  // queueing delay summed over items
  TimeUs wait_us_max = 0;
  size_t queue_items_peak = 0;
};

class SimCpu {
 public:
  // `loop` must outlive the CPU.
  SimCpu(EventLoop& loop, CpuOptions options);

  // REQUIRES: service_us >= 0. Runs `work` after queueing + service_us; false (work dropped)
  // when queue_items_max items already wait.
  [[nodiscard]] bool submit(TimeUs service_us, std::function<void()> work);

  // Items waiting for a core at the loop's current time.
  size_t queued() const;
  // Fraction of core time spent working between time 0 and now (0 when off or at time 0).
  double utilization() const;
  const CpuStats& stats() const { return stats_; }
  const CpuOptions& options() const { return options_; }

 private:
  EventLoop& loop_;
  CpuOptions options_;
  std::vector<TimeUs> core_free_at_us_;   // when each core finishes what it was given
  std::vector<TimeUs> core_assigned_us_;  // service time given to each core
  std::vector<TimeUs> starts_us_;         // start times of items not started yet (ascending)
  CpuStats stats_;
};

}  // namespace replsim::sim
