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
    REPLSIM_ASSERT_MSG(slot < kSlotsMax, "too many pending events");
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  REPLSIM_ASSERT(!s.pending);
  s.fn = std::move(fn);
  s.pending = true;
  REPLSIM_ASSERT(next_seq_ < kSeqMax);
  heap_push({std::max(time_us, now_us_), (next_seq_++ << kSlotBits) | slot});
  ++live_;
  return (static_cast<uint64_t>(s.generation) << 32) | slot;
}

void EventLoop::heap_push(const HeapEntry& entry) {
  size_t i = heap_.size();
  heap_.push_back(entry);
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!before(entry, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = entry;
}

void EventLoop::heap_pop() {
  REPLSIM_ASSERT(!heap_.empty());
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  size_t i = 0;  // the hole, moved down until `last` fits
  for (;;) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best;
    if (first + 4 <= n) {  // all four children: a branch-free tournament
      const HeapEntry* c = &heap_[first];
      const size_t low = static_cast<size_t>(before(c[1], c[0]));
      const size_t high = 2 + static_cast<size_t>(before(c[3], c[2]));
      const size_t pick = -static_cast<size_t>(before(c[high], c[low]));
      best = first + (low ^ ((low ^ high) & pick));
    } else {
      best = first;
      for (size_t c = first + 1; c < n; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
    }
    if (!before(heap_[best], last)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
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
  // The heap entry stays; it is skipped (and the slot freed) when it reaches the top, or
  // dropped by compact() once cancelled entries dominate the heap.
  ++cancelled_;
  if (cancelled_ >= kCompactMin && cancelled_ > live_) compact();
}

void EventLoop::compact() {
  size_t kept = 0;
  for (const HeapEntry& e : heap_) {
    Slot& s = slots_[e.slot()];
    if (s.pending) {
      heap_[kept++] = e;
    } else {
      ++s.generation;
      free_slots_.push_back(e.slot());
    }
  }
  heap_.resize(kept);
  cancelled_ = 0;
  // Floyd's heapify for the 4-ary layout: sift down every internal node, last first.
  if (kept < 2) return;
  for (size_t start = (kept - 2) / 4 + 1; start-- > 0;) {
    const HeapEntry moving = heap_[start];
    size_t i = start;
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= kept) break;
      size_t best = first;
      const size_t end = std::min(first + 4, kept);
      for (size_t c = first + 1; c < end; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
      if (!before(heap_[best], moving)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = moving;
  }
}

void EventLoop::drop_cancelled_top() {
  while (!heap_.empty() && !slots_[heap_.front().slot()].pending) {
    const uint32_t slot = heap_.front().slot();
    heap_pop();
    --cancelled_;
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
  heap_pop();
  Slot& s = slots_[top.slot()];
  REPLSIM_ASSERT(top.time_us >= now_us_);
  now_us_ = top.time_us;
  std::function<void()> fn = std::move(s.fn);
  s.fn = nullptr;
  s.pending = false;
  ++s.generation;
  free_slots_.push_back(top.slot());
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
