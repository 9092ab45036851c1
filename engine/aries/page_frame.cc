#include "engine/aries/page_frame.h"

#include "engine/aries/codec.h"
#include "engine/assert.h"

namespace replsim::aries {

size_t frame_bytes_needed(const std::vector<merkle::LeafEntry>& entries) {
  size_t n = kFrameHeaderBytes;
  for (const merkle::LeafEntry& e : entries) n += 8 + merkle::kHashBytes + 2 + e.path.size();
  return n;
}

std::string encode_frame(uint32_t page, uint64_t page_lsn,
                         const std::vector<merkle::LeafEntry>& entries, const merkle::Hash160& hash,
                         uint32_t frame_bytes) {
  std::string payload;
  for (const merkle::LeafEntry& e : entries) {
    put_u64(&payload, e.position);
    payload.append(reinterpret_cast<const char*>(e.leaf.data()), merkle::kHashBytes);
    put_u16(&payload, static_cast<uint16_t>(e.path.size()));
    payload.append(e.path);
  }
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  put_u32(&out, kFrameMagic);
  put_u32(&out, 0);
  put_u32(&out, page);
  put_u32(&out, static_cast<uint32_t>(entries.size()));
  put_u64(&out, page_lsn);
  put_u32(&out, static_cast<uint32_t>(payload.size()));
  put_u32(&out, merkle::crc32c(payload));
  out.append(reinterpret_cast<const char*>(hash.data()), merkle::kHashBytes);
  REPLSIM_ASSERT(out.size() == kFrameHeaderBytes);
  const uint32_t crc = merkle::crc32c(std::string_view(out).substr(8));
  std::memcpy(&out[4], &crc, 4);
  out.append(payload);
  REPLSIM_ASSERT_MSG(out.size() <= frame_bytes,
                     "merkle bucket overflows its page frame: raise page_frame_bytes or "
                     "sub_bits");
  return out;
}

FrameState decode_header(std::string_view bytes, FrameHeader* out) {
  *out = FrameHeader{};
  if (bytes.size() < kFrameHeaderBytes) {
    for (char c : bytes) {
      if (c != 0) return FrameState::kCorrupt;
    }
    return FrameState::kEmpty;  // past the end of the file: never written
  }
  bool zero = true;
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) zero = zero && bytes[i] == 0;
  if (zero) return FrameState::kEmpty;
  Reader r(bytes.substr(0, kFrameHeaderBytes));
  uint32_t magic = 0, crc = 0;
  (void)r.get(&magic);
  (void)r.get(&crc);
  if (magic != kFrameMagic) return FrameState::kCorrupt;
  if (merkle::crc32c(bytes.substr(8, kFrameHeaderBytes - 8)) != crc) return FrameState::kCorrupt;
  (void)r.get(&out->page);
  (void)r.get(&out->count);
  (void)r.get(&out->page_lsn);
  (void)r.get(&out->payload_bytes);
  (void)r.get(&out->payload_crc);
  std::string_view h;
  (void)r.get_bytes(merkle::kHashBytes, &h);
  std::memcpy(out->hash.data(), h.data(), merkle::kHashBytes);
  return FrameState::kValid;
}

FrameState decode_frame(std::string_view bytes, const merkle::MerkleShape& shape,
                        FrameHeader* header, std::vector<merkle::LeafEntry>* entries) {
  entries->clear();
  const FrameState state = decode_header(bytes, header);
  if (state != FrameState::kValid) return state;
  if (kFrameHeaderBytes + header->payload_bytes > bytes.size()) return FrameState::kCorrupt;
  const std::string_view payload = bytes.substr(kFrameHeaderBytes, header->payload_bytes);
  if (merkle::crc32c(payload) != header->payload_crc) return FrameState::kCorrupt;
  // Each entry takes at least 30 bytes: a count the payload cannot hold is corrupt (and must
  // not size the vector: a checksummed header may still lie, e.g. written by a bug).
  if (header->count > payload.size() / (8 + merkle::kHashBytes + 2)) return FrameState::kCorrupt;
  Reader r(payload);
  entries->resize(header->count);
  for (merkle::LeafEntry& e : *entries) {
    uint16_t n = 0;
    std::string_view leaf, path;
    if (!r.get(&e.position) || !r.get_bytes(merkle::kHashBytes, &leaf) || !r.get(&n) ||
        !r.get_bytes(n, &path)) {
      return FrameState::kCorrupt;
    }
    std::memcpy(e.leaf.data(), leaf.data(), merkle::kHashBytes);
    e.path.assign(path);
    if (shape.bucket_of(e.position) != header->page) return FrameState::kCorrupt;
  }
  if (r.pos() != payload.size()) return FrameState::kCorrupt;
  for (size_t i = 1; i < entries->size(); ++i) {
    const auto& a = (*entries)[i - 1];
    const auto& b = (*entries)[i];
    if (a.position > b.position || (a.position == b.position && a.path >= b.path)) {
      return FrameState::kCorrupt;
    }
  }
  if (merkle::bucket_hash_of(*entries) != header->hash) return FrameState::kCorrupt;
  return FrameState::kValid;
}

}  // namespace replsim::aries
