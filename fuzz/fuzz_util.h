// Shared by the libFuzzer targets in fuzz/ (docs/fuzzing.md).
//
// Checksums stop a fuzzer cold: a mutated record almost never carries a matching CRC, so
// only the checksum check would ever run. Each target therefore reads one mode byte first;
// when its low bit is set the target recomputes the checksums of the mutated bytes before
// decoding, so the structure checks behind the checksum are fuzzed as well. With the bit clear
// the bytes are decoded as they came (the checksum refusal itself is fuzzed).
//
// A target crashes (FUZZ_CHECK → abort, which libFuzzer keeps as a crash input) only when a
// decoder broke its contract: it crashed, accepted bytes it cannot encode back, or refused them
// with a status other than the documented one or without saying what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace replsim::fuzz {

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line,
                                      const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed %s\n", file, line, expr, detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail)                                                   \
  do {                                                                             \
    if (!(cond)) ::replsim::fuzz::check_failed(#cond, __FILE__, __LINE__, detail); \
  } while (0)

// A refusal must be `code` and carry a message naming what was wrong.
inline void check_refusal(const Status& s, StatusCode code, std::string_view what) {
  FUZZ_CHECK(s.code() == code, std::string(what) + ": " + s.to_string());
  FUZZ_CHECK(!s.message().empty(), std::string(what) + ": refusal without a message");
}

// Consumes the fuzz input front to back; every read past the end yields zeros / empty.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : bytes_(reinterpret_cast<const char*>(data), size) {}
  uint8_t u8() {
    if (bytes_.empty()) return 0;
    const auto v = static_cast<uint8_t>(bytes_[0]);
    bytes_.remove_prefix(1);
    return v;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
  // Up to `n` bytes.
  std::string_view take(size_t n) {
    const std::string_view out = bytes_.substr(0, n);
    bytes_.remove_prefix(out.size());
    return out;
  }
  // A u16-length-prefixed blob.
  std::string_view blob() { return take(u16()); }
  std::string_view rest() { return take(bytes_.size()); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace replsim::fuzz
