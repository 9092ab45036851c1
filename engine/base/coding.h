// Little-endian fixed-width and varint encoding, and a bounds-checked reader: the one byte codec
// of every on-disk and on-wire format of the engine (WAL entries, store records, ARIES log
// records, merkle page frames, the master record, runtime frames). Byte order is explicit, never
// the host's. Readers never read past their input: every get_*
// returns false on a short or malformed input, so a decoder turns that into Status::corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace replsim {

void put_fixed8(std::string* out, uint8_t v);
void put_fixed16(std::string* out, uint16_t v);
void put_fixed32(std::string* out, uint32_t v);
void put_fixed64(std::string* out, uint64_t v);
void put_varint64(std::string* out, uint64_t v);
// Varint length, then the bytes.
void put_length_prefixed(std::string* out, std::string_view bytes);
// Overwrites 4 bytes at `dst` (a checksum or length field filled in after the fact).
void encode_fixed32(char* dst, uint32_t v);
uint32_t decode_fixed32(const char* p);
uint64_t decode_fixed64(const char* p);

// Consumes its input from the front.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in), size_(in.size()) {}
  bool get_u8(uint8_t* v);
  bool get_fixed16(uint16_t* v);
  bool get_fixed32(uint32_t* v);
  bool get_fixed64(uint64_t* v);
  bool get_varint64(uint64_t* v);
  // A view into the input; valid while the input is.
  bool get_length_prefixed(std::string_view* v);
  bool get_bytes(size_t n, std::string_view* v);
  // The fixed-width get for T's size (uint8_t .. uint64_t).
  template <typename T>
  bool get(T* v) {
    static_assert(std::is_unsigned_v<T>);
    if constexpr (sizeof(T) == 1) return get_u8(reinterpret_cast<uint8_t*>(v));
    if constexpr (sizeof(T) == 2) return get_fixed16(reinterpret_cast<uint16_t*>(v));
    if constexpr (sizeof(T) == 4) return get_fixed32(reinterpret_cast<uint32_t*>(v));
    if constexpr (sizeof(T) == 8) return get_fixed64(reinterpret_cast<uint64_t*>(v));
  }
  size_t remaining() const { return in_.size(); }
  size_t consumed() const { return size_ - in_.size(); }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
  size_t size_;
};

}  // namespace replsim
