#include "engine/wal/wal_entry.h"

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim {
namespace {

size_t varint_bytes(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

size_t wal_entry_encoded_bytes(const WalEntry& entry) {
  size_t n = 4 + 8 + 8 + varint_bytes(entry.changes.size());
  for (const KeyChange& c : entry.changes) {
    n += 1 + varint_bytes(c.path.size()) + c.path.size();
    n += varint_bytes(c.ciphertext.size()) + c.ciphertext.size();
  }
  return n;
}

std::string encode_wal_entry(const WalEntry& entry) {
  std::string out;
  out.reserve(wal_entry_encoded_bytes(entry));
  put_fixed32(&out, 0);  // checksum placeholder
  put_fixed64(&out, entry.index.value);
  put_fixed64(&out, entry.epoch.value);
  put_varint64(&out, entry.changes.size());
  for (const KeyChange& c : entry.changes) {
    REPLSIM_ASSERT(!c.deleted || c.ciphertext.empty());
    out.push_back(c.deleted ? 1 : 0);
    put_length_prefixed(&out, c.path);
    put_length_prefixed(&out, c.ciphertext);
  }
  const uint32_t crc = crc32c::mask(crc32c::value(std::string_view(out).substr(4)));
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  REPLSIM_ASSERT(out.size() == wal_entry_encoded_bytes(entry));
  return out;
}

Result<WalEntry> decode_wal_entry(std::string_view bytes) {
  if (bytes.size() < 4) return Status::corruption("wal entry: shorter than its checksum");
  const uint32_t stored = crc32c::unmask(decode_fixed32(bytes.data()));
  if (stored != crc32c::value(bytes.substr(4))) {
    return Status::corruption("wal entry: checksum mismatch");
  }
  ByteReader in(bytes.substr(4));
  WalEntry entry;
  uint64_t count = 0;
  if (!in.get_fixed64(&entry.index.value) || !in.get_fixed64(&entry.epoch.value) ||
      !in.get_varint64(&count)) {
    return Status::corruption("wal entry: truncated header");
  }
  if (entry.index.value == 0) return Status::corruption("wal entry: index 0");  // starts at 1
  if (count > in.remaining()) return Status::corruption("wal entry: bad change count");
  entry.changes.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t deleted = 0;
    std::string_view path;
    std::string_view value;
    if (!in.get_u8(&deleted) || !in.get_length_prefixed(&path) || !in.get_length_prefixed(&value)) {
      return Status::corruption("wal entry: truncated change");
    }
    if (deleted > 1) return Status::corruption("wal entry: bad delete flag");
    if (deleted == 1 && !value.empty()) return Status::corruption("wal entry: deleted value");
    entry.changes.push_back({std::string(path), std::string(value), deleted == 1});
  }
  if (!in.empty()) return Status::corruption("wal entry: trailing bytes");
  return entry;
}

}  // namespace replsim
