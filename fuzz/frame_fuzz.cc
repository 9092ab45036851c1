// libFuzzer target: the runtime's TCP frame decoder (runtime/frame.h), over a byte stream the
// way runtime/transport.cc reads it: a 16-byte header, then `length` payload bytes, repeated
// until the stream ends or a frame is refused (the connection would be closed there).
// Properties: a refusal is kCorruption with a message; an accepted frame re-encodes to exactly
// the bytes it was read from.
#include <string>

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"
#include "fuzz/fuzz_util.h"
#include "runtime/frame.h"

namespace replsim::fuzz {
namespace {

constexpr size_t kFrameBytesMax = 1024;  // small, so the fuzzer reaches the bound

void run(Input in) {
  const bool fix_checksums = (in.u8() & 1) != 0;
  std::string stream(in.rest());
  size_t offset = 0;
  while (stream.size() - offset >= runtime::kFrameHeaderBytes) {
    auto header = runtime::decode_frame_header(
        std::string_view(stream).substr(offset, runtime::kFrameHeaderBytes), kFrameBytesMax);
    if (!header.is_ok()) {
      check_refusal(header.status(), StatusCode::kCorruption, "frame header");
      return;
    }
    const size_t payload_at = offset + runtime::kFrameHeaderBytes;
    if (stream.size() - payload_at < header->length) return;  // the stream ends mid-frame
    const std::string_view payload = std::string_view(stream).substr(payload_at, header->length);
    if (fix_checksums) {
      const std::string good = runtime::encode_frame(header->from, payload);
      stream.replace(offset + 12, 4, good.substr(12, 4));
      header->crc_masked = decode_fixed32(stream.data() + offset + 12);
    }
    const Status s = runtime::verify_frame_payload(*header, payload);
    if (!s.is_ok()) {
      check_refusal(s, StatusCode::kCorruption, "frame payload");
      return;
    }
    const std::string again = runtime::encode_frame(header->from, payload);
    FUZZ_CHECK(again == std::string_view(stream).substr(offset, again.size()),
               "an accepted frame does not re-encode to its bytes");
    offset = payload_at + header->length;
  }
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
