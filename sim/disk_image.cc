// The sparse, copy-on-write byte image of a simulated file (contract in sim/disk_image.h).
#include "sim/disk_image.h"

#include <algorithm>
#include <cstring>

#include "engine/assert.h"

namespace replsim::sim {

FileImage::Chunk& FileImage::writable_chunk(uint64_t index) {
  if (index >= chunks_.size()) chunks_.resize(index + 1);
  std::shared_ptr<Chunk>& chunk = chunks_[index];
  if (chunk == nullptr) {
    chunk = std::make_shared<Chunk>();  // value-initialised: zeros
  } else if (chunk.use_count() > 1) {
    chunk = std::make_shared<Chunk>(*chunk);  // copy on write
  }
  return *chunk;
}

size_t FileImage::chunks_held() const {
  size_t n = 0;
  for (const auto& chunk : chunks_) n += chunk != nullptr;
  return n;
}

void FileImage::resize(uint64_t n) {
  if (n >= size_) {
    size_ = n;
    return;
  }
  const uint64_t keep_chunks = (n + kChunkBytes - 1) / kChunkBytes;
  if (chunks_.size() > keep_chunks) chunks_.resize(keep_chunks);
  const uint64_t tail = n % kChunkBytes;
  if (tail != 0 && n / kChunkBytes < chunks_.size() && chunks_[n / kChunkBytes] != nullptr) {
    Chunk& chunk = writable_chunk(n / kChunkBytes);
    std::memset(chunk.data() + tail, 0, kChunkBytes - tail);
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
  while (at < offset + len) {
    const uint64_t index = at / kChunkBytes;
    const uint64_t in_chunk = at % kChunkBytes;
    const size_t m =
        static_cast<size_t>(std::min<uint64_t>(kChunkBytes - in_chunk, offset + len - at));
    if (index < chunks_.size() && chunks_[index] != nullptr) {
      std::memcpy(dst, chunks_[index]->data() + in_chunk, m);
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

void FileImage::visit_held(
    const std::function<void(uint64_t offset, std::string_view bytes)>& fn) const {
  std::string run;
  uint64_t run_offset = 0;
  for (size_t i = 0; i <= chunks_.size(); ++i) {
    const bool held = i < chunks_.size() && chunks_[i] != nullptr;
    if (!held) {
      if (!run.empty()) fn(run_offset, run);
      run.clear();
      continue;
    }
    const uint64_t at = i * kChunkBytes;
    if (run.empty()) run_offset = at;
    run.append(chunks_[i]->data(), static_cast<size_t>(std::min(kChunkBytes, size_ - at)));
  }
}

}  // namespace replsim::sim
