// The sparse, copy-on-write byte image of a simulated file (contract in sim/disk_image.h).
#include "sim/disk_image.h"

#include <algorithm>
#include <cstring>

#include "engine/assert.h"

namespace replsim::sim {

FileImage::Chunk& FileImage::writable_chunk(uint64_t index) {
  auto it = chunks_.lower_bound(index);
  if (it == chunks_.end() || it->first != index) {
    auto chunk = std::make_shared<Chunk>();
    chunk->fill('\0');
    it = chunks_.emplace_hint(it, index, std::move(chunk));
  } else if (it->second.use_count() > 1) {
    it->second = std::make_shared<Chunk>(*it->second);  // copy on write
  }
  return *it->second;
}

void FileImage::resize(uint64_t n) {
  if (n >= size_) {
    size_ = n;
    return;
  }
  const uint64_t keep_chunks = (n + kChunkBytes - 1) / kChunkBytes;
  chunks_.erase(chunks_.lower_bound(keep_chunks), chunks_.end());
  const uint64_t tail = n % kChunkBytes;
  if (tail != 0) {
    auto it = chunks_.find(n / kChunkBytes);
    if (it != chunks_.end()) {
      Chunk& chunk = writable_chunk(n / kChunkBytes);
      std::memset(chunk.data() + tail, 0, kChunkBytes - tail);
    }
  }
  size_ = n;
}

void FileImage::write(uint64_t offset, std::string_view bytes) {
  if (bytes.empty()) return;
  uint64_t at = offset;
  size_t done = 0;
  while (done < bytes.size()) {
    const uint64_t in_chunk = at % kChunkBytes;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kChunkBytes - in_chunk, bytes.size() - done));
    std::memcpy(writable_chunk(at / kChunkBytes).data() + in_chunk, bytes.data() + done, n);
    done += n;
    at += n;
  }
  size_ = std::max<uint64_t>(size_, offset + bytes.size());
}

void FileImage::read(uint64_t offset, uint64_t n, std::string* out) const {
  out->clear();
  if (offset >= size_ || n == 0) return;
  const uint64_t len = std::min<uint64_t>(n, size_ - offset);
  out->resize(static_cast<size_t>(len));
  char* dst = out->data();
  uint64_t at = offset;
  auto it = chunks_.lower_bound(offset / kChunkBytes);
  while (at < offset + len) {
    const uint64_t index = at / kChunkBytes;
    const uint64_t in_chunk = at % kChunkBytes;
    const size_t m =
        static_cast<size_t>(std::min<uint64_t>(kChunkBytes - in_chunk, offset + len - at));
    while (it != chunks_.end() && it->first < index) ++it;
    if (it != chunks_.end() && it->first == index) {
      std::memcpy(dst, it->second->data() + in_chunk, m);
    } else {
      std::memset(dst, 0, m);
    }
    dst += m;
    at += m;
  }
}

void FileImage::flip(uint64_t offset, char mask) {
  REPLSIM_ASSERT(offset < size_);
  writable_chunk(offset / kChunkBytes)[offset % kChunkBytes] ^= mask;
}

std::string FileImage::to_string() const {
  std::string out;
  read(0, size_, &out);
  return out;
}

}  // namespace replsim::sim
