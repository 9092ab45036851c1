// Little-endian fixed-width encoding helpers for the ARIES files (internal).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace replsim::aries {

inline void put_u8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline void put_u16(std::string* out, uint16_t v) { out->append(reinterpret_cast<char*>(&v), 2); }
inline void put_u32(std::string* out, uint32_t v) { out->append(reinterpret_cast<char*>(&v), 4); }
inline void put_u64(std::string* out, uint64_t v) { out->append(reinterpret_cast<char*>(&v), 8); }

// Reads from a bounded cursor; every get fails (returns false) past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool get(T* v) {
    if (pos_ + sizeof(T) > bytes_.size()) return false;
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool get_bytes(size_t n, std::string_view* v) {
    if (pos_ + n > bytes_.size()) return false;
    *v = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace replsim::aries
