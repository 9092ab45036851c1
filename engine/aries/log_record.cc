#include "engine/aries/log_record.h"

#include <cstring>

#include "engine/assert.h"
#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim::aries {
namespace {

void put_hash(std::string* out, const std::optional<merkle::Hash160>& h) {
  put_fixed8(out, h.has_value() ? 1 : 0);
  if (h.has_value()) out->append(reinterpret_cast<const char*>(h->data()), merkle::kHashBytes);
}

bool get_hash(ByteReader* r, std::optional<merkle::Hash160>* h) {
  uint8_t has = 0;
  if (!r->get(&has) || has > 1) return false;
  if (has == 0) {
    h->reset();
    return true;
  }
  std::string_view bytes;
  if (!r->get_bytes(merkle::kHashBytes, &bytes)) return false;
  merkle::Hash160 v;
  std::memcpy(v.data(), bytes.data(), merkle::kHashBytes);
  *h = v;
  return true;
}

bool decode_payload(ByteReader* r, LogRecord* out) {
  switch (out->type) {
    case RecordType::kUpdate:
    case RecordType::kClr: {
      uint16_t n = 0;
      std::string_view path;
      if (!r->get(&out->page) || !r->get(&out->position) || !r->get(&n)) return false;
      if (!r->get_bytes(n, &path)) return false;
      out->path.assign(path);
      if (out->type == RecordType::kUpdate && !get_hash(r, &out->before)) return false;
      if (!get_hash(r, &out->after)) return false;
      return out->type == RecordType::kUpdate || r->get(&out->undo_next.value);
    }
    case RecordType::kCommit:
      return r->get(&out->wal_index);
    case RecordType::kEnd:
    case RecordType::kBeginCheckpoint:
      return true;
    case RecordType::kEndCheckpoint: {
      uint32_t ndpt = 0, ntxn = 0;
      if (!r->get(&out->begin_lsn.value) || !r->get(&out->wal_index) || !r->get(&ndpt))
        return false;
      if (ndpt > kRecordBytesMax / 12) return false;
      out->dpt.resize(ndpt);
      for (DptEntry& e : out->dpt) {
        if (!r->get(&e.page) || !r->get(&e.rec_lsn.value)) return false;
      }
      if (!r->get(&ntxn) || ntxn > kRecordBytesMax / 24) return false;
      out->txns.resize(ntxn);
      for (TxnEntry& t : out->txns) {
        if (!r->get(&t.txn) || !r->get(&t.last_lsn.value) || !r->get(&t.undo_next.value))
          return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

std::string encode_record(const LogRecord& rec) {
  REPLSIM_ASSERT(rec.lsn != Lsn{});
  std::string out(8, '\0');
  put_fixed64(&out, rec.lsn.value);
  put_fixed8(&out, static_cast<uint8_t>(rec.type));
  put_fixed64(&out, rec.txn);
  put_fixed64(&out, rec.prev_lsn.value);
  switch (rec.type) {
    case RecordType::kUpdate:
    case RecordType::kClr:
      REPLSIM_ASSERT(rec.path.size() < 65536);
      put_fixed32(&out, rec.page);
      put_fixed64(&out, rec.position);
      put_fixed16(&out, static_cast<uint16_t>(rec.path.size()));
      out.append(rec.path);
      if (rec.type == RecordType::kUpdate) put_hash(&out, rec.before);
      put_hash(&out, rec.after);
      if (rec.type == RecordType::kClr) put_fixed64(&out, rec.undo_next.value);
      break;
    case RecordType::kCommit:
      put_fixed64(&out, rec.wal_index);
      break;
    case RecordType::kEnd:
    case RecordType::kBeginCheckpoint:
      break;
    case RecordType::kEndCheckpoint:
      put_fixed64(&out, rec.begin_lsn.value);
      put_fixed64(&out, rec.wal_index);
      put_fixed32(&out, static_cast<uint32_t>(rec.dpt.size()));
      for (const DptEntry& e : rec.dpt) {
        put_fixed32(&out, e.page);
        put_fixed64(&out, e.rec_lsn.value);
      }
      put_fixed32(&out, static_cast<uint32_t>(rec.txns.size()));
      for (const TxnEntry& t : rec.txns) {
        put_fixed64(&out, t.txn);
        put_fixed64(&out, t.last_lsn.value);
        put_fixed64(&out, t.undo_next.value);
      }
      break;
  }
  REPLSIM_ASSERT(out.size() <= kRecordBytesMax);
  const uint32_t len = static_cast<uint32_t>(out.size());
  encode_fixed32(&out[0], len);
  const uint32_t crc = crc32c::value(std::string_view(out).substr(8));
  encode_fixed32(&out[4], crc);
  return out;
}

uint32_t peek_record_length(std::string_view bytes) {
  if (bytes.size() < 8) return 0;
  return decode_fixed32(bytes.data());
}

size_t decode_record(std::string_view bytes, Lsn lsn, LogRecord* out) {
  const uint32_t len = peek_record_length(bytes);
  if (len < 8 + 25 || len > kRecordBytesMax || len > bytes.size()) return 0;
  const uint32_t crc = decode_fixed32(bytes.data() + 4);
  if (crc32c::value(bytes.substr(8, len - 8)) != crc) return 0;
  ByteReader r(bytes.substr(8, len - 8));
  *out = LogRecord{};
  uint8_t type = 0;
  if (!r.get(&out->lsn.value) || !r.get(&type) || !r.get(&out->txn) ||
      !r.get(&out->prev_lsn.value)) {
    return 0;
  }
  // LSN 0 means "no LSN" (log_manager.h): no record is ever written there.
  if (out->lsn != lsn || lsn == Lsn{} || type < 1 || type > 6) return 0;
  out->type = static_cast<RecordType>(type);
  if (!decode_payload(&r, out) || r.consumed() != len - 8) return 0;
  return len;
}

}  // namespace replsim::aries
