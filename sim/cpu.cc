// SimCpu: see cpu.h for the queueing model.
#include "sim/cpu.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::sim {

SimCpu::SimCpu(EventLoop& loop, CpuOptions options)
    : loop_(loop),
      options_(options),
      core_free_at_us_(options.cores, 0),
      core_assigned_us_(options.cores, 0) {}

size_t SimCpu::queued() const {
  const TimeUs now = loop_.now();
  // starts_us_ is ascending (FIFO assignment): items starting after now are still waiting.
  return static_cast<size_t>(starts_us_.end() -
                             std::upper_bound(starts_us_.begin(), starts_us_.end(), now));
}

bool SimCpu::submit(TimeUs service_us, std::function<void()> work) {
  REPLSIM_ASSERT(service_us >= 0);
  if (options_.cores == 0) {
    ++stats_.completed;
    loop_.after(0, std::move(work));
    return true;
  }
  const TimeUs now = loop_.now();
  // Forget items that have started: only waiting ones count against the bound.
  starts_us_.erase(starts_us_.begin(), std::upper_bound(starts_us_.begin(), starts_us_.end(), now));
  auto core = std::min_element(core_free_at_us_.begin(), core_free_at_us_.end());
  const TimeUs start = std::max(now, *core);
  if (start > now && starts_us_.size() >= options_.queue_items_max) {
    ++stats_.refused;
    return false;
  }
  REPLSIM_ASSERT(starts_us_.empty() || starts_us_.back() <= start);  // FIFO order
  const TimeUs finish = start + service_us;
  *core = finish;
  core_assigned_us_[core - core_free_at_us_.begin()] += service_us;
  if (start > now) starts_us_.push_back(start);
  stats_.queue_items_peak = std::max(stats_.queue_items_peak, starts_us_.size());
  stats_.busy_us += service_us;
  stats_.wait_us_total += start - now;
  stats_.wait_us_max = std::max(stats_.wait_us_max, start - now);
  ++stats_.completed;
  loop_.at(finish, std::move(work));
  return true;
}

double SimCpu::utilization() const {
  const TimeUs now = loop_.now();
  if (options_.cores == 0 || now <= 0) return 0;
  // After `now` a core's work is one contiguous run up to its free time (a core only idles
  // before the time an item is submitted), so what it did by now is what it was given minus
  // what is left.
  TimeUs done_us = 0;
  for (size_t c = 0; c < core_free_at_us_.size(); ++c) {
    done_us += core_assigned_us_[c] - std::max<TimeUs>(0, core_free_at_us_[c] - now);
  }
  return static_cast<double>(done_us) / (static_cast<double>(now) * options_.cores);
}

}  // namespace replsim::sim
