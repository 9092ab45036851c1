// CRC-32C (Castagnoli) for record and entry checksums: the SSE4.2 instruction when the CPU
// has it, else a slicing-by-4 table (the same values).
// Stored checksums are masked (as LevelDB does) so that a checksum of data that itself holds
// checksums does not degenerate.
#pragma once

#include <cstdint>
#include <string_view>

namespace replsim::crc32c {

// Extends `crc` (the CRC of some prefix) with `data`. value(d) == extend(0, d).
uint32_t extend(uint32_t crc, std::string_view data);
inline uint32_t value(std::string_view data) { return extend(0, data); }

inline uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace replsim::crc32c
