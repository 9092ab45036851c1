#include "engine/aries/page_frame.h"

#include <cstring>

#include "engine/assert.h"
#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim::aries {
namespace {

constexpr size_t kEntryFixedBytes = 8 + merkle::kHashBytes + 2;

std::string encode_payload(const std::vector<merkle::LeafEntry>& entries) {
  std::string payload;
  payload.reserve(payload_bytes(entries));
  for (const merkle::LeafEntry& e : entries) {
    REPLSIM_ASSERT(e.path.size() <= UINT16_MAX);  // limits.h bounds paths far below
    put_fixed64(&payload, e.position);
    payload.append(reinterpret_cast<const char*>(e.leaf.data()), merkle::kHashBytes);
    put_fixed16(&payload, static_cast<uint16_t>(e.path.size()));
    payload.append(e.path);
  }
  return payload;
}

std::string encode_header(const FrameHeader& h) {
  std::string out;
  out.reserve(kFrameHeaderBytes);
  put_fixed32(&out, kFrameMagic);
  put_fixed32(&out, 0);
  put_fixed32(&out, h.page);
  put_fixed32(&out, h.part);
  put_fixed32(&out, h.parts);
  put_fixed32(&out, h.count);
  put_fixed64(&out, h.slot);
  put_fixed64(&out, h.page_lsn.value);
  put_fixed64(&out, h.payload_bytes);
  put_fixed32(&out, h.payload_crc);
  put_fixed32(&out, h.chunk_bytes);
  put_fixed32(&out, h.chunk_crc);
  put_fixed64(&out, h.extent_start);
  out.append(reinterpret_cast<const char*>(h.hash.data()), merkle::kHashBytes);
  REPLSIM_ASSERT(out.size() == kFrameHeaderBytes);
  const uint32_t crc = crc32c::value(std::string_view(out).substr(8));
  encode_fixed32(&out[4], crc);
  return out;
}

bool decode_entries(std::string_view payload, const FrameHeader& h,
                    const merkle::MerkleShape& shape, std::vector<merkle::LeafEntry>* entries) {
  if (h.count > payload.size() / kEntryFixedBytes) return false;
  ByteReader r(payload);
  entries->resize(h.count);
  for (merkle::LeafEntry& e : *entries) {
    uint16_t n = 0;
    std::string_view leaf, path;
    if (!r.get(&e.position) || !r.get_bytes(merkle::kHashBytes, &leaf) || !r.get(&n) ||
        !r.get_bytes(n, &path)) {
      return false;
    }
    std::memcpy(e.leaf.data(), leaf.data(), merkle::kHashBytes);
    e.path.assign(path);
    if (shape.bucket_of(e.position) != h.page) return false;
  }
  if (r.consumed() != payload.size()) return false;
  for (size_t i = 1; i < entries->size(); ++i) {
    const auto& a = (*entries)[i - 1];
    const auto& b = (*entries)[i];
    if (a.position > b.position || (a.position == b.position && a.path >= b.path)) return false;
  }
  return true;
}

}  // namespace

uint64_t payload_bytes(const std::vector<merkle::LeafEntry>& entries) {
  uint64_t n = 0;
  for (const merkle::LeafEntry& e : entries) n += kEntryFixedBytes + e.path.size();
  return n;
}

uint32_t frames_needed(uint64_t payload, uint32_t frame_bytes) {
  REPLSIM_ASSERT(frame_bytes >= kFrameBytesMin);
  const uint64_t chunk = frame_bytes - kFrameHeaderBytes;
  const uint64_t frames = payload == 0 ? 1 : (payload + chunk - 1) / chunk;
  REPLSIM_ASSERT(frames <= UINT32_MAX);
  return static_cast<uint32_t>(frames);
}

std::vector<std::string> encode_page(uint32_t page, Lsn page_lsn,
                                     const std::vector<merkle::LeafEntry>& entries,
                                     const merkle::Hash160& hash, uint32_t frame_bytes,
                                     uint64_t extent_start) {
  const std::string payload = encode_payload(entries);
  const uint32_t parts = frames_needed(payload.size(), frame_bytes);
  REPLSIM_ASSERT((parts == 1) == (extent_start == 0));
  const size_t chunk_max = frame_bytes - kFrameHeaderBytes;
  FrameHeader h;
  h.page = page;
  h.parts = parts;
  h.count = static_cast<uint32_t>(entries.size());
  h.page_lsn = page_lsn;
  h.payload_bytes = payload.size();
  h.payload_crc = crc32c::value(payload);
  h.extent_start = extent_start;
  h.hash = hash;
  std::vector<std::string> frames;
  frames.reserve(parts);
  for (uint32_t part = 0; part < parts; ++part) {
    const std::string_view chunk =
        std::string_view(payload).substr(static_cast<size_t>(part) * chunk_max, chunk_max);
    h.part = part;
    h.slot = part == 0 ? page : extent_start + part - 1;
    h.chunk_bytes = static_cast<uint32_t>(chunk.size());
    h.chunk_crc = crc32c::value(chunk);
    std::string frame = encode_header(h);
    frame.append(chunk);
    REPLSIM_ASSERT(frame.size() <= frame_bytes);
    frames.push_back(std::move(frame));
  }
  return frames;
}

FrameState decode_header(std::string_view bytes, FrameHeader* out) {
  *out = FrameHeader{};
  const std::string_view head = bytes.substr(0, std::min(bytes.size(), kFrameHeaderBytes));
  bool zero = true;
  for (char c : head) zero = zero && c == 0;
  if (zero) return FrameState::kEmpty;  // never written (or past the end of the file)
  if (head.size() < kFrameHeaderBytes) return FrameState::kCorrupt;
  ByteReader r(head);
  uint32_t magic = 0, crc = 0;
  (void)r.get(&magic);
  (void)r.get(&crc);
  if (magic != kFrameMagic) return FrameState::kCorrupt;
  if (crc32c::value(head.substr(8)) != crc) return FrameState::kCorrupt;
  bool ok = r.get(&out->page) && r.get(&out->part) && r.get(&out->parts) && r.get(&out->count) &&
            r.get(&out->slot) && r.get(&out->page_lsn.value) && r.get(&out->payload_bytes) &&
            r.get(&out->payload_crc) && r.get(&out->chunk_bytes) && r.get(&out->chunk_crc) &&
            r.get(&out->extent_start);
  std::string_view h;
  ok = ok && r.get_bytes(merkle::kHashBytes, &h);
  REPLSIM_ASSERT(ok);  // the header's length was checked above
  std::memcpy(out->hash.data(), h.data(), merkle::kHashBytes);
  if (out->parts == 0 || out->part >= out->parts) return FrameState::kCorrupt;
  if ((out->parts == 1) != (out->extent_start == 0)) return FrameState::kCorrupt;
  return FrameState::kValid;
}

FrameState decode_frame(std::string_view bytes, FrameHeader* header, std::string_view* chunk) {
  const FrameState state = decode_header(bytes, header);
  if (state != FrameState::kValid) return state;
  if (kFrameHeaderBytes + header->chunk_bytes > bytes.size()) return FrameState::kCorrupt;
  *chunk = bytes.substr(kFrameHeaderBytes, header->chunk_bytes);
  if (crc32c::value(*chunk) != header->chunk_crc) return FrameState::kCorrupt;
  return FrameState::kValid;
}

FrameState decode_page(const std::vector<std::string_view>& frames,
                       const merkle::MerkleShape& shape, FrameHeader* primary,
                       std::vector<merkle::LeafEntry>* entries) {
  entries->clear();
  if (frames.empty()) return FrameState::kCorrupt;
  std::string_view chunk;
  const FrameState state = decode_frame(frames[0], primary, &chunk);
  if (state != FrameState::kValid) return state;
  if (primary->part != 0 || primary->slot != primary->page) return FrameState::kCorrupt;
  if (frames.size() != primary->parts) return FrameState::kCorrupt;
  std::string payload(chunk);
  for (uint32_t part = 1; part < primary->parts; ++part) {
    FrameHeader h;
    if (decode_frame(frames[part], &h, &chunk) != FrameState::kValid) return FrameState::kCorrupt;
    const bool same_image = h.page == primary->page && h.page_lsn == primary->page_lsn &&
                            h.parts == primary->parts && h.part == part &&
                            h.slot == primary->extent_start + part - 1 &&
                            h.payload_crc == primary->payload_crc;
    if (!same_image) return FrameState::kCorrupt;
    payload.append(chunk);
  }
  if (payload.size() != primary->payload_bytes) return FrameState::kCorrupt;
  if (crc32c::value(payload) != primary->payload_crc) return FrameState::kCorrupt;
  if (!decode_entries(payload, *primary, shape, entries)) return FrameState::kCorrupt;
  if (merkle::bucket_hash_of(*entries) != primary->hash) return FrameState::kCorrupt;
  return FrameState::kValid;
}

namespace {
constexpr uint32_t kBatchMagic = 0x4d4b4457;  // "MKDW"
constexpr size_t kBatchHeaderBytes = 28;
}  // namespace

std::string encode_dw_batch(const std::vector<std::string>& frames, uint32_t frame_bytes) {
  std::string body;
  for (size_t i = 0; i < frames.size(); ++i) {
    REPLSIM_ASSERT(frames[i].size() <= frame_bytes);
    body.append(frames[i]);
    if (i + 1 < frames.size()) body.resize((i + 1) * static_cast<size_t>(frame_bytes), '\0');
  }
  std::string out;
  put_fixed32(&out, kBatchMagic);
  put_fixed32(&out, 0);
  put_fixed32(&out, static_cast<uint32_t>(frames.size()));
  put_fixed32(&out, 0);
  put_fixed64(&out, body.size());
  put_fixed32(&out, crc32c::value(body));
  REPLSIM_ASSERT(out.size() == kBatchHeaderBytes);
  const uint32_t crc = crc32c::value(std::string_view(out).substr(8));
  encode_fixed32(&out[4], crc);
  out.resize(frame_bytes, '\0');
  out.append(body);
  return out;
}

bool decode_dw_batch(std::string_view bytes, uint32_t frame_bytes,
                     std::vector<std::string_view>* frames) {
  frames->clear();
  if (bytes.size() < frame_bytes) return false;
  ByteReader r(bytes.substr(0, kBatchHeaderBytes));
  uint32_t magic = 0, crc = 0, count = 0, unused = 0, body_crc = 0;
  uint64_t body_bytes = 0;
  if (!r.get(&magic) || !r.get(&crc) || !r.get(&count) || !r.get(&unused) || !r.get(&body_bytes) ||
      !r.get(&body_crc)) {
    return false;
  }
  if (magic != kBatchMagic) return false;
  if (crc32c::value(bytes.substr(8, kBatchHeaderBytes - 8)) != crc) return false;
  if (body_bytes > bytes.size() - frame_bytes) return false;
  const std::string_view body = bytes.substr(frame_bytes, body_bytes);
  if (crc32c::value(body) != body_crc) return false;
  if (count == 0 || body_bytes <= static_cast<uint64_t>(count - 1) * frame_bytes ||
      body_bytes > static_cast<uint64_t>(count) * frame_bytes) {
    return false;
  }
  for (uint32_t i = 0; i < count; ++i) {
    frames->push_back(body.substr(static_cast<size_t>(i) * frame_bytes, frame_bytes));
  }
  return true;
}

}  // namespace replsim::aries
