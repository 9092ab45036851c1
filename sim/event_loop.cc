#include "sim/event_loop.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::sim {

EventId EventLoop::at(TimeUs time_us, Callback fn) {
  REPLSIM_ASSERT(static_cast<bool>(fn));
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
  const TimeUs t = std::max(time_us, now_us_);
  const uint64_t order = (next_seq_++ << kSlotBits) | slot;
  if (t - now_us_ < kWheelUs) {
    wheel_push(t, slot);
  } else {
    heap_push({t, order});
  }
  ++live_;
  return (static_cast<uint64_t>(s.generation) << 32) | slot;
}

void EventLoop::wheel_push(TimeUs time_us, uint32_t slot) {
  const size_t b = static_cast<size_t>(time_us) & kWheelMask;
  wheel_[b].slots.push_back(slot);
  occupied_[b / 64] |= uint64_t{1} << (b % 64);
  ++wheel_entries_;
}

size_t EventLoop::first_bucket() const {
  REPLSIM_ASSERT(wheel_entries_ > 0);
  const size_t start = static_cast<size_t>(now_us_) & kWheelMask;
  size_t w = start / 64;
  uint64_t bits = occupied_[w] & (~uint64_t{0} << (start % 64));
  // One lap over the words: the start word again last, for its buckets before `start` (the
  // times that wrapped around).
  for (size_t n = 0; n <= occupied_.size(); ++n) {
    if (bits != 0) return w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
    w = (w + 1) % occupied_.size();
    bits = occupied_[w];
  }
  REPLSIM_ASSERT_MSG(false, "wheel entries counted but no bucket occupied");
  return 0;
}

uint32_t EventLoop::wheel_pop(size_t b) {
  Bucket& k = wheel_[b];
  REPLSIM_ASSERT(k.head < k.slots.size());
  const uint32_t slot = k.slots[k.head++];
  // The bucket's later events run next: fetch their slots now (random places in a large
  // slab: with many events pending, these misses were most of the loop's time).
  constexpr size_t kPrefetchAhead = 4;
  if (k.head + kPrefetchAhead < k.slots.size()) {
    __builtin_prefetch(&slots_[k.slots[k.head + kPrefetchAhead]]);
  }
  --wheel_entries_;
  if (k.head == k.slots.size()) {
    k.slots.clear();
    k.head = 0;
    occupied_[b / 64] &= ~(uint64_t{1} << (b % 64));
  }
  return slot;
}

TimeUs EventLoop::bucket_time(size_t b) const {
  const size_t start = static_cast<size_t>(now_us_) & kWheelMask;
  return now_us_ + static_cast<TimeUs>((b - start) & kWheelMask);
}

void EventLoop::fill_wheel() {
  while (!heap_.empty() && heap_.front().time_us - now_us_ < kWheelUs) {
    const HeapEntry top = heap_.front();
    heap_pop();
    if (slots_[top.slot()].pending) {
      wheel_push(top.time_us, top.slot());
    } else {
      release_cancelled(top.slot());
    }
  }
}

void EventLoop::release_cancelled(uint32_t slot) {
  REPLSIM_ASSERT(cancelled_ > 0);
  --cancelled_;
  ++slots_[slot].generation;
  free_slots_.push_back(slot);
}

bool EventLoop::take_next(uint32_t* slot, TimeUs* time_us) {
  for (;;) {
    if (wheel_entries_ > 0) {  // every heap entry is due later than every wheel entry
      const size_t b = first_bucket();
      const TimeUs t = bucket_time(b);
      const uint32_t s = wheel_pop(b);
      if (!slots_[s].pending) {
        release_cancelled(s);
        continue;
      }
      *slot = s;
      *time_us = t;
      return true;
    }
    if (heap_.empty()) return false;
    const HeapEntry top = heap_.front();
    heap_pop();
    if (!slots_[top.slot()].pending) {
      release_cancelled(top.slot());
      continue;
    }
    *slot = top.slot();
    *time_us = top.time_us;
    return true;
  }
}

void EventLoop::drop_cancelled_front() {
  while (wheel_entries_ > 0) {
    const size_t b = first_bucket();
    const Bucket& k = wheel_[b];
    if (slots_[k.slots[k.head]].pending) return;
    release_cancelled(wheel_pop(b));
  }
  drop_cancelled_top();
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
  s.fn.reset();
  --live_;
  // The heap entry stays; it is skipped (and the slot freed) when it reaches the top, or
  // dropped by compact() once cancelled entries dominate the heap.
  ++cancelled_;
  if (cancelled_ >= kCompactMin && cancelled_ > live_) compact();
}

void EventLoop::compact() {
  for (size_t b = 0; b < wheel_.size(); ++b) {
    if ((occupied_[b / 64] & (uint64_t{1} << (b % 64))) == 0) continue;
    Bucket& k = wheel_[b];
    size_t out = 0;
    for (size_t i = k.head; i < k.slots.size(); ++i) {
      const uint32_t s = k.slots[i];
      if (slots_[s].pending) {
        k.slots[out++] = s;  // order kept
      } else {
        release_cancelled(s);
        --wheel_entries_;
      }
    }
    k.slots.resize(out);
    k.head = 0;
    if (out == 0) occupied_[b / 64] &= ~(uint64_t{1} << (b % 64));
  }
  size_t kept = 0;
  for (const HeapEntry& e : heap_) {
    if (slots_[e.slot()].pending) {
      heap_[kept++] = e;
    } else {
      release_cancelled(e.slot());
    }
  }
  heap_.resize(kept);
  REPLSIM_ASSERT(cancelled_ == 0);
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
    release_cancelled(slot);
  }
}

TimeUs EventLoop::next_time() {
  drop_cancelled_front();
  if (wheel_entries_ > 0) return bucket_time(first_bucket());
  return heap_.empty() ? -1 : heap_.front().time_us;
}

bool EventLoop::run_one() {
  if (event_limit_reached()) return false;
  uint32_t slot = 0;
  TimeUs t = 0;
  if (!take_next(&slot, &t)) return false;
  REPLSIM_ASSERT(t >= now_us_);
  if (t != now_us_) {
    now_us_ = t;
    fill_wheel();
  }
  Slot& s = slots_[slot];
  Callback fn = std::move(s.fn);
  s.pending = false;
  ++s.generation;
  free_slots_.push_back(slot);
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
  if (!event_limit_reached() && now_us_ < time_us) {
    now_us_ = time_us;
    fill_wheel();
  }
  return events_run_ - before;
}

uint64_t EventLoop::run_while(const std::function<bool()>& keep_going) {
  const uint64_t before = events_run_;
  while (keep_going() && run_one()) {
  }
  return events_run_ - before;
}

}  // namespace replsim::sim
