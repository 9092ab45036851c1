#include "sim/event_loop.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::sim {

EventId EventLoop::at(TimeUs time_us, std::function<void()> fn) {
  REPLSIM_ASSERT(fn != nullptr);
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  REPLSIM_ASSERT(!s.pending);
  s.fn = std::move(fn);
  s.pending = true;
  heap_.push_back({std::max(time_us, now_us_), next_seq_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), later);
  ++live_;
  return (static_cast<uint64_t>(s.generation) << 32) | slot;
}

void EventLoop::cancel(EventId id) {
  const uint32_t slot = static_cast<uint32_t>(id & 0xffffffffu);
  const uint32_t generation = static_cast<uint32_t>(id >> 32);
  if (slot >= slots_.size()) return;
  Slot& s = slots_[slot];
  if (!s.pending || s.generation != generation) return;
  s.pending = false;
  s.fn = nullptr;
  --live_;
  // The heap entry stays; it is skipped (and the slot freed) when it reaches the top.
}

void EventLoop::drop_cancelled_top() {
  while (!heap_.empty() && !slots_[heap_.front().slot].pending) {
    const uint32_t slot = heap_.front().slot;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
    ++slots_[slot].generation;
    free_slots_.push_back(slot);
  }
}

TimeUs EventLoop::next_time() {
  drop_cancelled_top();
  return heap_.empty() ? -1 : heap_.front().time_us;
}

bool EventLoop::run_one() {
  if (event_limit_reached()) return false;
  drop_cancelled_top();
  if (heap_.empty()) return false;
  const HeapEntry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), later);
  heap_.pop_back();
  Slot& s = slots_[top.slot];
  REPLSIM_ASSERT(top.time_us >= now_us_);
  now_us_ = top.time_us;
  std::function<void()> fn = std::move(s.fn);
  s.fn = nullptr;
  s.pending = false;
  ++s.generation;
  free_slots_.push_back(top.slot);
  --live_;
  ++events_run_;
  fn();  // may schedule or cancel; `s` may be invalid from here on
  return true;
}

uint64_t EventLoop::run_until(TimeUs time_us) {
  const uint64_t before = events_run_;
  for (;;) {
    const TimeUs next = next_time();
    if (next < 0 || next > time_us) break;
    if (!run_one()) break;
  }
  if (!event_limit_reached() && now_us_ < time_us) now_us_ = time_us;
  return events_run_ - before;
}

uint64_t EventLoop::run_while(const std::function<bool()>& keep_going) {
  const uint64_t before = events_run_;
  while (keep_going() && run_one()) {
  }
  return events_run_ - before;
}

}  // namespace replsim::sim
