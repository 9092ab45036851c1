// Free space of the merkle page file's overflow area (internal).
//
// Overflow frames live in extents of consecutive slots from `first_slot` on (the slots after
// the primary frames). Allocation is not logged: at open it is rebuilt from the extents that
// the durable primary frames name (init), and in normal operation an extent is released only
// after the image that replaced it is durable in place, so no durable primary frame ever names
// a slot the allocator hands out again. Deterministic (ordered map, first fit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace replsim::aries {

struct Extent {
  uint64_t start = 0;   // first slot; 0 = none
  uint32_t frames = 0;  // slots
  bool operator==(const Extent&) const = default;
};

class ExtentAllocator {
 public:
  explicit ExtentAllocator(uint64_t first_slot);

  // Everything free (a new page file).
  void reset();
  // The used extents of a page file: everything else below the highest one is free. False
  // (and the allocator reset) when two extents overlap or one starts before first_slot.
  [[nodiscard]] bool init(std::vector<Extent> used);
  // A free extent of `frames` slots (first fit, else at the end of the file). REQUIRES: > 0.
  Extent allocate(uint32_t frames);
  // Returns `e` to the free space. REQUIRES: allocated (or named by init) and not yet released.
  void release(const Extent& e);

  uint64_t end_slot() const { return end_; }  // one past the highest slot in use or free
  uint64_t free_slots() const;
  size_t free_extents() const { return free_.size(); }

 private:
  uint64_t first_;
  uint64_t end_;
  std::map<uint64_t, uint64_t> free_;  // start → slots, inside [first_, end_), coalesced
};

}  // namespace replsim::aries
