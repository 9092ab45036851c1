// Little-endian fixed-width and varint encoding, and a bounds-checked reader, shared by the WAL
// entry format and the storage record format. Readers never read past their input: every get_*
// returns false on a short or malformed input, so a decoder turns that into Status::corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace replsim {

void put_fixed32(std::string* out, uint32_t v);
void put_fixed64(std::string* out, uint64_t v);
void put_varint64(std::string* out, uint64_t v);
// Varint length, then the bytes.
void put_length_prefixed(std::string* out, std::string_view bytes);
uint32_t decode_fixed32(const char* p);
uint64_t decode_fixed64(const char* p);

// Consumes its input from the front.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool get_u8(uint8_t* v);
  bool get_fixed32(uint32_t* v);
  bool get_fixed64(uint64_t* v);
  bool get_varint64(uint64_t* v);
  // A view into the input; valid while the input is.
  bool get_length_prefixed(std::string_view* v);
  bool get_bytes(size_t n, std::string_view* v);
  size_t remaining() const { return in_.size(); }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace replsim
