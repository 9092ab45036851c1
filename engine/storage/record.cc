#include "engine/storage/record.h"

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim {
namespace {

constexpr uint8_t kHasWal = 1;
constexpr uint8_t kHasGeneration = 2;
constexpr uint8_t kHasEpoch = 4;
constexpr uint8_t kHasRemote = 8;
constexpr uint8_t kFlagsAll = 15;

constexpr uint8_t kMutationDeleted = 1;
constexpr uint8_t kMutationInWal = 2;

}  // namespace

void append_frame(std::string* out, RecordType type, std::string_view payload) {
  REPLSIM_ASSERT(payload.size() <= kFramePayloadMax);
  const char type_byte = static_cast<char>(type);
  uint32_t crc = crc32c::extend(0, std::string_view(&type_byte, 1));
  crc = crc32c::extend(crc, payload);
  put_fixed32(out, static_cast<uint32_t>(payload.size()));
  put_fixed32(out, crc32c::mask(crc));
  out->push_back(type_byte);
  out->append(payload.data(), payload.size());
}

std::optional<Frame> parse_frame(std::string_view in) {
  if (in.size() < kFrameHeaderBytes) return std::nullopt;
  const uint32_t length = decode_fixed32(in.data());
  if (length > kFramePayloadMax || length > in.size() - kFrameHeaderBytes) return std::nullopt;
  const uint8_t type = static_cast<uint8_t>(in[8]);
  if (type < 1 || type > 5) return std::nullopt;
  const uint32_t stored = crc32c::unmask(decode_fixed32(in.data() + 4));
  if (stored != crc32c::value(in.substr(8, 1 + length))) return std::nullopt;
  return Frame{static_cast<RecordType>(type), in.substr(kFrameHeaderBytes, length),
               kFrameHeaderBytes + length};
}

WalEntry StoreRecord::wal_entry() const {
  REPLSIM_ASSERT(wal_index.has_value());
  WalEntry entry{*wal_index, wal_epoch, {}};
  for (const StoredMutation& m : mutations) {
    if (!m.in_wal) continue;
    entry.changes.push_back({m.mutation.path, m.mutation.value, m.mutation.deleted});
  }
  return entry;
}

std::string encode_record(const StoreRecord& r) {
  std::string out;
  put_fixed64(&out, r.seq);
  uint8_t flags = 0;
  if (r.wal_index) flags |= kHasWal;
  if (r.new_generation) flags |= kHasGeneration;
  if (r.new_epoch) flags |= kHasEpoch;
  if (r.last_remote) flags |= kHasRemote;
  out.push_back(static_cast<char>(flags));
  if (r.wal_index) {
    put_fixed64(&out, r.wal_index->value);
    put_fixed64(&out, r.wal_epoch.value);
  }
  if (r.new_generation) put_fixed64(&out, r.new_generation->value);
  if (r.new_epoch) put_fixed64(&out, r.new_epoch->value);
  if (r.last_remote) {
    put_fixed64(&out, r.last_remote->index.value);
    put_fixed64(&out, r.last_remote->epoch.value);
  }
  put_varint64(&out, r.mutations.size());
  for (const StoredMutation& m : r.mutations) {
    REPLSIM_ASSERT(!m.mutation.deleted || m.mutation.value.empty());
    uint8_t mflags = (m.mutation.deleted ? kMutationDeleted : 0) | (m.in_wal ? kMutationInWal : 0);
    out.push_back(static_cast<char>(mflags));
    put_length_prefixed(&out, m.mutation.path);
    put_length_prefixed(&out, m.mutation.value);
  }
  return out;
}

Result<StoreRecord> decode_record(std::string_view payload) {
  ByteReader in(payload);
  StoreRecord r;
  uint8_t flags = 0;
  if (!in.get_fixed64(&r.seq) || !in.get_u8(&flags) || (flags & ~kFlagsAll) != 0) {
    return Status::corruption("record: bad header");
  }
  uint64_t a = 0;
  uint64_t b = 0;
  if (flags & kHasWal) {
    if (!in.get_fixed64(&a) || !in.get_fixed64(&b)) return Status::corruption("record: wal");
    // WAL indexes start at 1 (0 is "none"): recovery would restart the buffer at index -1.
    if (a == 0) return Status::corruption("record: wal index 0");
    r.wal_index = WalIndex(a);
    r.wal_epoch = Epoch(b);
  }
  if (flags & kHasGeneration) {
    if (!in.get_fixed64(&a)) return Status::corruption("record: generation");
    r.new_generation = LockGeneration(a);
  }
  if (flags & kHasEpoch) {
    if (!in.get_fixed64(&a)) return Status::corruption("record: epoch");
    r.new_epoch = Epoch(a);
  }
  if (flags & kHasRemote) {
    if (!in.get_fixed64(&a) || !in.get_fixed64(&b)) return Status::corruption("record: remote");
    r.last_remote = RemotePosition{WalIndex(a), Epoch(b)};
  }
  uint64_t count = 0;
  if (!in.get_varint64(&count) || count > in.remaining()) {
    return Status::corruption("record: mutation count");
  }
  r.mutations.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t mflags = 0;
    std::string_view path;
    std::string_view value;
    if (!in.get_u8(&mflags) || mflags > 3 || !in.get_length_prefixed(&path) ||
        !in.get_length_prefixed(&value)) {
      return Status::corruption("record: mutation");
    }
    const bool deleted = (mflags & kMutationDeleted) != 0;
    if (deleted && !value.empty()) return Status::corruption("record: deleted with value");
    r.mutations.push_back(
        {Mutation{std::string(path), std::string(value), deleted}, (mflags & kMutationInWal) != 0});
  }
  if (!in.empty()) return Status::corruption("record: trailing bytes");
  return r;
}

std::string encode_snapshot_header(const SnapshotHeader& h) {
  std::string out;
  put_fixed64(&out, h.seq);
  put_fixed64(&out, h.generation.value);
  put_fixed64(&out, h.epoch.value);
  put_fixed64(&out, h.last_wal_index.value);
  out.push_back(h.last_remote ? 1 : 0);
  put_fixed64(&out, h.last_remote ? h.last_remote->index.value : 0);
  put_fixed64(&out, h.last_remote ? h.last_remote->epoch.value : 0);
  put_fixed64(&out, h.key_count);
  put_fixed64(&out, h.wal_count);
  return out;
}

Result<SnapshotHeader> decode_snapshot_header(std::string_view payload) {
  ByteReader in(payload);
  SnapshotHeader h;
  uint8_t has_remote = 0;
  uint64_t ri = 0;
  uint64_t re = 0;
  if (!in.get_fixed64(&h.seq) || !in.get_fixed64(&h.generation.value) ||
      !in.get_fixed64(&h.epoch.value) || !in.get_fixed64(&h.last_wal_index.value) ||
      !in.get_u8(&has_remote) || has_remote > 1 || !in.get_fixed64(&ri) || !in.get_fixed64(&re) ||
      !in.get_fixed64(&h.key_count) || !in.get_fixed64(&h.wal_count) || !in.empty()) {
    return Status::corruption("snapshot: bad header");
  }
  if (has_remote == 1) h.last_remote = RemotePosition{WalIndex(ri), Epoch(re)};
  return h;
}

}  // namespace replsim
