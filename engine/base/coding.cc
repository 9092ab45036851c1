#include "engine/base/coding.h"

namespace replsim {

void put_fixed8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void put_fixed16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

void encode_fixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_fixed32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 4);
}

void put_fixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 8);
}

void put_varint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void put_length_prefixed(std::string* out, std::string_view bytes) {
  put_varint64(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

uint32_t decode_fixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint64_t decode_fixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

bool ByteReader::get_u8(uint8_t* v) {
  if (in_.empty()) return false;
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool ByteReader::get_fixed16(uint16_t* v) {
  if (in_.size() < 2) return false;
  *v = static_cast<uint16_t>(static_cast<uint8_t>(in_[0]) |
                             (static_cast<uint16_t>(static_cast<uint8_t>(in_[1])) << 8));
  in_.remove_prefix(2);
  return true;
}

bool ByteReader::get_fixed32(uint32_t* v) {
  if (in_.size() < 4) return false;
  *v = decode_fixed32(in_.data());
  in_.remove_prefix(4);
  return true;
}

bool ByteReader::get_fixed64(uint64_t* v) {
  if (in_.size() < 8) return false;
  *v = decode_fixed64(in_.data());
  in_.remove_prefix(8);
  return true;
}

bool ByteReader::get_varint64(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (in_.empty()) return false;
    const uint8_t byte = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;  // more than 10 bytes: malformed
}

bool ByteReader::get_bytes(size_t n, std::string_view* v) {
  if (in_.size() < n) return false;
  *v = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool ByteReader::get_length_prefixed(std::string_view* v) {
  uint64_t n = 0;
  if (!get_varint64(&n)) return false;
  if (n > in_.size()) return false;
  return get_bytes(static_cast<size_t>(n), v);
}

}  // namespace replsim
