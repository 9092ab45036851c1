#include "engine/aries/extent_allocator.h"

#include <algorithm>

#include "engine/assert.h"

namespace replsim::aries {

ExtentAllocator::ExtentAllocator(uint64_t first_slot) : first_(first_slot), end_(first_slot) {
  REPLSIM_ASSERT(first_slot > 0);
}

void ExtentAllocator::reset() {
  end_ = first_;
  free_.clear();
}

bool ExtentAllocator::init(std::vector<Extent> used) {
  reset();
  std::sort(used.begin(), used.end(),
            [](const Extent& a, const Extent& b) { return a.start < b.start; });
  uint64_t next = first_;
  for (const Extent& e : used) {
    if (e.frames == 0) continue;
    if (e.start < next) {
      reset();
      return false;
    }
    if (e.start > next) free_.emplace(next, e.start - next);
    next = e.start + e.frames;
  }
  end_ = next;
  return true;
}

Extent ExtentAllocator::allocate(uint32_t frames) {
  REPLSIM_ASSERT(frames > 0);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < frames) continue;
    const Extent e{it->first, frames};
    const uint64_t rest = it->second - frames;
    free_.erase(it);
    if (rest > 0) free_.emplace(e.start + frames, rest);
    return e;
  }
  // Grow the file; a free extent that ends at the end is used first.
  if (!free_.empty()) {
    auto last = std::prev(free_.end());
    if (last->first + last->second == end_) {
      const Extent e{last->first, frames};
      free_.erase(last);
      end_ = e.start + frames;
      return e;
    }
  }
  const Extent e{end_, frames};
  end_ += frames;
  return e;
}

void ExtentAllocator::release(const Extent& e) {
  if (e.frames == 0) return;
  REPLSIM_ASSERT(e.start >= first_);
  REPLSIM_ASSERT(e.start + e.frames <= end_);
  uint64_t start = e.start;
  uint64_t slots = e.frames;
  auto next = free_.lower_bound(start);
  REPLSIM_ASSERT_MSG(next == free_.end() || next->first >= start + slots, "extent released twice");
  if (next != free_.end() && next->first == start + slots) {
    slots += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    REPLSIM_ASSERT_MSG(prev->first + prev->second <= start, "extent released twice");
    if (prev->first + prev->second == start) {
      start = prev->first;
      slots += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(start, slots);
}

uint64_t ExtentAllocator::free_slots() const {
  uint64_t n = 0;
  for (const auto& [start, slots] : free_) n += slots;
  return n;
}

}  // namespace replsim::aries
