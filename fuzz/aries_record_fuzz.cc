// libFuzzer target: the ARIES log record decoder (engine/aries/log_record.h) over a log stream
// the way restart reads a segment (each record at its LSN = byte offset), and the page frame
// decoder (engine/aries/page_frame.h) on the slots of one page image.
// Properties: decode_record returns 0 or a length inside its input, and an accepted record
// re-encodes to exactly its bytes; decode_page never crashes, and an accepted image
// re-encodes to exactly its frames' used bytes with the header's entry count.
#include <cstring>
#include <string>
#include <vector>

#include "engine//aries/log_record.h"
#include "engine/aries/page_frame.h"
#include "engine/base/crc32c.h"
#include "engine/merkle/hash.h"
#include "fuzz/fuzz_util.h"

namespace replsim::aries {
namespace {

using fuzz::Input;

void fix_record(std::string* log, size_t offset, uint64_t lsn) {
  const uint32_t len = peek_record_length(std::string_view(*log).substr(offset));
  if (len < 16 || len > log->size() - offset) return;
  std::memcpy(&(*log)[offset + 8], &lsn, 8);  // the LSN field: where it was read
  const uint32_t crc = crc32c::value(std::string_view(*log).substr(offset + 8, len - 8));
  std::memcpy(&(*log)[offset + 4], &crc, 4);
}

void fuzz_log(std::string log, uint64_t base_lsn, bool fix) {
  size_t offset = 0;
  while (offset < log.size()) {
    const uint64_t lsn = base_lsn + offset;
    if (fix) fix_record(&log, offset, lsn);
    const std::string_view rest = std::string_view(log).substr(offset);
    LogRecord rec;
    const size_t n = decode_record(rest, Lsn(lsn), &rec);
    if (n == 0) return;  // restart stops the log here (torn or corrupt tail)
    FUZZ_CHECK(n <= rest.size(), "record past the end of its input");
    FUZZ_CHECK(encode_record(rec) == rest.substr(0, n), "an accepted record does not re-encode");
    offset += n;
  }
}

// Makes a frame's checksums match its bytes (layout in engine/aries/page_frame.h): the chunk
// CRC, the whole-image CRC as if this frame were the whole image, then the header CRC.
void fix_frame(std::string* frame) {
  if (frame->size() < kFrameHeaderBytes) return;
  uint32_t chunk_bytes = 0;
  std::memcpy(&chunk_bytes, frame->data() + 52, 4);
  if (chunk_bytes <= frame->size() - kFrameHeaderBytes) {
    const uint32_t crc =
        crc32c::value(std::string_view(*frame).substr(kFrameHeaderBytes, chunk_bytes));
    std::memcpy(&(*frame)[56], &crc, 4);
    std::memcpy(&(*frame)[48], &crc, 4);
  }
  const uint32_t crc = crc32c::value(std::string_view(*frame).substr(8, kFrameHeaderBytes - 8));
  std::memcpy(&(*frame)[4], &crc, 4);
}

// The input is cut into 1..4 slots of `frame_bytes`; an image decode_page accepts re-encodes
// to exactly the bytes it was read from.
void fuzz_page(Input& in, bool fix) {
  const uint32_t frame_bytes = kFrameBytesMin + 64 * (in.u8() % 8);
  const size_t parts = 1 + in.u8() % 4;
  std::string rest(in.rest());
  std::vector<std::string> frames;
  for (size_t i = 0; i < parts && !rest.empty(); ++i) {
    frames.push_back(rest.substr(0, frame_bytes));
    rest.erase(0, std::min<size_t>(frame_bytes, rest.size()));
    if (fix) fix_frame(&frames.back());
  }
  if (frames.empty()) return;
  std::vector<std::string_view> views(frames.begin(), frames.end());
  const merkle::MerkleShape shape{2, 2};
  FrameHeader primary;
  std::vector<merkle::LeafEntry> entries;
  if (decode_page(views, shape, &primary, &entries) != FrameState::kValid) return;
  FUZZ_CHECK(entries.size() == primary.count, "entry count");
  const std::vector<std::string> again = encode_page(
      primary.page, primary.page_lsn, entries, primary.hash, frame_bytes, primary.extent_start);
  FUZZ_CHECK(again.size() == frames.size(), "an accepted image re-encodes to other parts");
  for (size_t i = 0; i < again.size(); ++i) {
    FUZZ_CHECK(again[i] == std::string_view(frames[i]).substr(0, again[i].size()),
               "an accepted frame does not re-encode");
  }
}

void run(Input in) {
  const uint8_t mode = in.u8();
  const bool fix = (mode & 1) != 0;
  if (mode & 2) return fuzz_page(in, fix);
  const uint64_t base_lsn = in.u16();
  fuzz_log(std::string(in.rest()), base_lsn, fix);
}

}  // namespace
}  // namespace replsim::aries

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::aries::run(replsim::aries::Input(data, size));
  return 0;
}
