// The discrete-event loop over virtual time.
//
// Events run in (time, sequence number) order: two events at the same virtual time run in the
// order they were scheduled, so a run depends only on the seed. Virtual time moves only here.
// Callbacks live in a slab; a 4-ary heap of (time, seq, slot) orders them, and an event id
// carries the slot's generation so that cancel() of a fired or reused slot is a harmless no-op.
// A cancelled event's heap entry stays until it reaches the top, unless cancelled entries
// outnumber the live ones (and kCompactMin): then the heap is rebuilt from the live entries, so
// long timers that are usually cancelled (request timeouts) cannot grow it without bound.
// Bounds (asserted): 2^24 events pending at once, 2^40 events scheduled per loop.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/types.h"

namespace replsim::sim {

using EventId = uint64_t;  // 0 is never a valid id

class EventLoop {
 public:
  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  TimeUs now() const { return now_us_; }

  // Schedules `fn` at absolute virtual time `time_us` (clamped to now: never in the past).
  EventId at(TimeUs time_us, std::function<void()> fn);
  EventId after(TimeUs delay_us, std::function<void()> fn) {
    return at(now_us_ + (delay_us > 0 ? delay_us : 0), std::move(fn));
  }
  // Cancels a pending event; a no-op for a fired, cancelled or unknown id.
  void cancel(EventId id);

  // Runs the next event. Returns false when none is pending or the event bound is reached.
  bool run_one();
  // Runs every event with time <= `time_us`, then sets now to `time_us`. Returns events run.
  uint64_t run_until(TimeUs time_us);
  // Runs events while `keep_going()` holds and events remain. Returns events run.
  uint64_t run_while(const std::function<bool()>& keep_going);

  // A run that passes this many events stops (run_one() returns false): a livelock bound.
  void set_event_limit(uint64_t events_max) { events_max_ = events_max; }
  bool event_limit_reached() const { return events_run_ >= events_max_; }
  uint64_t events_run() const { return events_run_; }
  size_t pending() const { return live_; }
  // Heap entries held, cancelled ones included (bounded by ~2 * pending() + kCompactMin).
  size_t heap_entries() const { return heap_.size(); }
  // Time of the next pending event, or -1 when none.
  TimeUs next_time();

 private:
  // 16 bytes, so the four children of a node fill one cache line. `order` packs the
  // sequence number (high kSeqBits) over the slot (low kSlotBits): ordering by it is ordering
  // by seq, since seqs are unique.
  static constexpr int kSlotBits = 24;
  static constexpr uint64_t kSlotsMax = uint64_t{1} << kSlotBits;       // pending at once
  static constexpr uint64_t kSeqMax = uint64_t{1} << (64 - kSlotBits);  // events per loop
  struct HeapEntry {
    TimeUs time_us;
    uint64_t order;
    uint32_t slot() const { return static_cast<uint32_t>(order & (kSlotsMax - 1)); }
  };
  struct Slot {
    std::function<void()> fn;
    uint32_t generation = 1;
    bool pending = false;
  };
  // (time, order) as one 128-bit key: a branch-free comparison (time_us is never negative).
  static bool before(const HeapEntry& a, const HeapEntry& b) {
    using u128 = unsigned __int128;
    const u128 ka = (static_cast<u128>(static_cast<uint64_t>(a.time_us)) << 64) | a.order;
    const u128 kb = (static_cast<u128>(static_cast<uint64_t>(b.time_us)) << 64) | b.order;
    return ka < kb;
  }
  // A 4-ary min-heap on (time, seq): shallower than a binary heap, and its children share a
  // cache line. heap_pop() removes heap_.front().
  void heap_push(const HeapEntry& entry);
  void heap_pop();
  void drop_cancelled_top();
  // Drops every cancelled entry (freeing its slot) and re-heapifies: O(heap size).
  void compact();
  static constexpr size_t kCompactMin = 1024;  // cancelled entries before compacting pays

  TimeUs now_us_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
  uint64_t events_max_ = UINT64_MAX;
  size_t live_ = 0;
  size_t cancelled_ = 0;  // heap entries whose slot was cancelled (skipped when they surface)
  std::vector<HeapEntry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace replsim::sim
