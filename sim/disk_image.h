// Internal to sim/disk_*.cc: one byte image of a simulated file (the page cache's or the
// durable one), stored sparsely.
//
// Contract. A FileImage behaves as a std::string of size() bytes whose unwritten bytes are
// zero. It is kept as fixed-size chunks allocated on first write; an absent chunk reads as
// zeros, so a large file that is mostly holes (the ARIES page file: one frame per bucket at
// its bucket's offset) costs only the chunks written. Copying an image copies chunk pointers:
// chunks are shared copy-on-write, so a power loss rebuilding the cache from the durable image
// moves no file data. Invariant: every byte of a held chunk at or past size() is zero, and no
// chunk lies wholly past size().
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace replsim::sim {

class FileImage {
 public:
  static constexpr uint64_t kChunkBytes = 1024;

  uint64_t size() const { return size_; }
  // Grows with zero bytes, or drops the bytes past `n`.
  void resize(uint64_t n);
  // Writes `bytes` at `offset`, growing the image to offset + bytes.size() when shorter.
  void write(uint64_t offset, std::string_view bytes);
  // Sets *out to the bytes [offset, offset + n) clamped to size().
  void read(uint64_t offset, uint64_t n, std::string* out) const;
  // XORs the byte at `offset` with `mask`. REQUIRES: offset < size().
  void flip(uint64_t offset, char mask);
  // The whole image as one string (inspection only: costs size() bytes).
  std::string to_string() const;
  // Calls fn(offset, bytes) for each maximal run of held chunks, clamped to size(), in offset
  // order. The skipped holes read as zeros. Inspection only: costs the bytes held.
  void visit_held(const std::function<void(uint64_t offset, std::string_view bytes)>& fn) const;
  // Number of chunks held (for tests of sparseness).
  size_t chunks_held() const;

 private:
  using Chunk = std::array<char, kChunkBytes>;
  // The chunk at `index`, allocated (zeroed) when absent and unshared before a change.
  Chunk& writable_chunk(uint64_t index);

  uint64_t size_ = 0;
  // Indexed by chunk number; nullptr is a hole. The table costs 16 bytes per KiB of file
  // size (4 MiB for a 256 MiB page file) and makes every access O(1). 1 KiB chunks: an
  // unpadded merkle page frame (~100 bytes at a 4 KiB-aligned offset) costs one small chunk.
  std::vector<std::shared_ptr<Chunk>> chunks_;
};

}  // namespace replsim::sim
