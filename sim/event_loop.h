// The discrete-event loop over virtual time.
//
// Events run in (time, sequence number) order: two events at the same virtual time run in the
// order they were scheduled, so a run depends only on the seed. Virtual time moves only here.
// Callbacks live in a slab, and an event id carries the slot's generation so that cancel() of a
// fired or reused slot is a harmless no-op.
// Ordering: events due within kWheelUs of now sit in a timing wheel of one bucket per
// microsecond (a bucket holds one time only, so its FIFO order is schedule order); later ones
// in a 4-ary heap of (time, seq, slot), moved into the wheel as now advances, before anything
// newer can be scheduled at their time (so a bucket stays in seq order). The next event is the
// first non-empty bucket at or after now (a bitmap finds it), else the heap's top.
// A cancelled event's entry stays until it comes due, unless cancelled entries outnumber the
// live ones (and kCompactMin): then both are rebuilt from the live entries, so long timers
// that are usually cancelled (request timeouts) cannot grow them without bound.
// Bounds (asserted): 2^24 events pending at once, 2^40 events scheduled per loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/types.h"

namespace replsim::sim {

using EventId = uint64_t;  // 0 is never a valid id

// A move-only void() callable for the loop's slab: stored inline when it fits kInlineBytes
// (most event lambdas capture a few pointers and ids), else on the heap. Inline storage means
// scheduling an event allocates nothing and running it touches only its slot (a
// std::function keeps only 16 bytes inline and allocates for anything larger).
class Callback {
 public:
  static constexpr size_t kInlineBytes = 40;

  Callback() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Callback> &&
                                                    std::is_invocable_r_v<void, std::decay_t<F>&>>>
  Callback(F&& f) {  // NOLINT: implicit, like std::function's
    using T = std::decay_t<F>;
    if constexpr (std::is_same_v<T, std::function<void()>>) {
      if (!f) return;  // an empty std::function stays empty
    }
    if constexpr (kFits<T>) {
      new (buf_) T(std::forward<F>(f));
    } else {
      *reinterpret_cast<T**>(buf_) = new T(std::forward<F>(f));
    }
    ops_ = ops_for<T>();
  }
  Callback(Callback&& o) noexcept { take(o); }
  Callback& operator=(Callback&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->invoke(buf_); }
  void reset() {
    if (ops_ != nullptr) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    void (*invoke)(void* self);
    void (*move)(void* to, void* from);  // leaves `from` destroyed
    void (*destroy)(void* self);
  };
  template <typename T>
  static constexpr bool kFits =
      sizeof(T) <= kInlineBytes &&
      alignof(T) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<T>;
  template <typename T>
  static const Ops* ops_for() {
    if constexpr (kFits<T>) {
      static constexpr Ops kOps = {[](void* p) { (*static_cast<T*>(p))(); },
                                   [](void* to, void* from) {
                                     new (to) T(std::move(*static_cast<T*>(from)));
                                     static_cast<T*>(from)->~T();
                                   },
                                   [](void* p) { static_cast<T*>(p)->~T(); }};
      return &kOps;
    } else {
      static constexpr Ops kOps = {
          [](void* p) { (**static_cast<T**>(p))(); },
          [](void* to, void* from) { *static_cast<T**>(to) = *static_cast<T**>(from); },
          [](void* p) { delete *static_cast<T**>(p); }};
      return &kOps;
    }
  }
  void take(Callback& o) {
    if (o.ops_ == nullptr) return;
    o.ops_->move(buf_, o.buf_);
    ops_ = o.ops_;
    o.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buf_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

class EventLoop {
 public:
  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  TimeUs now() const { return now_us_; }

  // Schedules `fn` at absolute virtual time `time_us` (clamped to now: never in the past).
  EventId at(TimeUs time_us, Callback fn);
  EventId after(TimeUs delay_us, Callback fn) {
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
  // Entries held (wheel and heap), cancelled ones included (bounded by ~2 * pending() +
  // kCompactMin).
  size_t heap_entries() const { return heap_.size() + wheel_entries_; }
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
    Callback fn;  // with the fields below, one 64-byte line
    uint32_t generation = 1;
    bool pending = false;
  };
  static_assert(sizeof(Slot) <= 64, "a slot is one cache line");
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
  // Drops every cancelled entry (freeing its slot) and re-heapifies: O(entries held).
  void compact();
  static constexpr size_t kCompactMin = 1024;  // cancelled entries before compacting pays

  // ---- the timing wheel: bucket b holds the events due at the one time in [now, now +
  // kWheelUs) that is b modulo kWheelUs, as slots in schedule order ----
  static constexpr int kWheelBits = 12;
  static constexpr TimeUs kWheelUs = TimeUs{1} << kWheelBits;
  static constexpr size_t kWheelMask = static_cast<size_t>(kWheelUs) - 1;
  struct Bucket {
    std::vector<uint32_t> slots;
    size_t head = 0;  // slots before it have been taken
  };
  void wheel_push(TimeUs time_us, uint32_t slot);
  uint32_t wheel_pop(size_t bucket);  // the bucket's first slot, removed
  TimeUs bucket_time(size_t bucket) const;
  // The bucket of the earliest wheel entry (REQUIRES: wheel_entries_ > 0).
  size_t first_bucket() const;
  // Moves heap entries due before now + kWheelUs into the wheel (after now moved).
  void fill_wheel();
  // Frees a slot whose cancelled entry was dropped.
  void release_cancelled(uint32_t slot);
  // The next live event's slot and time, removed from the wheel or heap; false when none.
  bool take_next(uint32_t* slot, TimeUs* time_us);
  // Drops cancelled entries until the next entry is live (or none is left).
  void drop_cancelled_front();
  std::vector<Bucket> wheel_ = std::vector<Bucket>(kWheelUs);
  std::vector<uint64_t> occupied_ = std::vector<uint64_t>(kWheelUs / 64);  // non-empty buckets
  size_t wheel_entries_ = 0;

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
