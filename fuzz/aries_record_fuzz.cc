// libFuzzer target: the ARIES log record decoder (engine/aries/log_record.h) over a log stream
// the way restart reads a segment (each record at its LSN = byte offset), and the page frame
// decoder (engine/aries/page_frame.h) on a page slot.
// Properties: decode_record returns 0 or a length inside its input, and an accepted record
// re-encodes to exactly its bytes; decode_frame never crashes, and an accepted frame
// re-encodes to exactly its used bytes with the header's entry count.
#include <cstring>
#include <string>
#include <vector>

#include "engine/aries/log_record.h"
#include "engine/aries/page_frame.h"
#include "engine/merkle/hash.h"
#include "fuzz/fuzz_util.h"

namespace replsim::aries {
namespace {

using fuzz::Input;

void fix_record(std::string* log, size_t offset, uint64_t lsn) {
  const uint32_t len = peek_record_length(std::string_view(*log).substr(offset));
  if (len < 16 || len > log->size() - offset) return;
  std::memcpy(&(*log)[offset + 8], &lsn, 8);  // the LSN field: where it was read
  const uint32_t crc = merkle::crc32c(std::string_view(*log).substr(offset + 8, len - 8));
  std::memcpy(&(*log)[offset + 4], &crc, 4);
}

void fuzz_log(std::string log, uint64_t base_lsn, bool fix) {
  size_t offset = 0;
  while (offset < log.size()) {
    const uint64_t lsn = base_lsn + offset;
    if (fix) fix_record(&log, offset, lsn);
    const std::string_view rest = std::string_view(log).substr(offset);
    LogRecord rec;
    const size_t n = decode_record(rest, lsn, &rec);
    if (n == 0) return;  // restart stops the log here (torn or corrupt tail)
    FUZZ_CHECK(n <= rest.size(), "record past the end of its input");
    FUZZ_CHECK(encode_record(rec) == rest.substr(0, n), "an accepted record does not re-encode");
    offset += n;
  }
}

void fix_page(std::string* page) {
  if (page->size() < kFrameHeaderBytes) return;
  uint32_t payload_bytes = 0;
  std::memcpy(&payload_bytes, page->data() + 24, 4);
  if (payload_bytes <= page->size() - kFrameHeaderBytes) {
    const uint32_t crc =
        merkle::crc32c(std::string_view(*page).substr(kFrameHeaderBytes, payload_bytes));
    std::memcpy(&(*page)[28], &crc, 4);
  }
  const uint32_t crc = merkle::crc32c(std::string_view(*page).substr(8, kFrameHeaderBytes - 8));
  std::memcpy(&(*page)[4], &crc, 4);
}

void fuzz_page(std::string page, bool fix) {
  if (fix) fix_page(&page);
  const merkle::MerkleShape shape{2, 2};
  FrameHeader header;
  std::vector<merkle::LeafEntry> entries;
  const FrameState state = decode_frame(page, shape, &header, &entries);
  if (state != FrameState::kValid) return;
  FUZZ_CHECK(entries.size() == header.count, "entry count");
  const std::string again = encode_frame(header.page, header.page_lsn, entries, header.hash,
                                         static_cast<uint32_t>(frame_bytes_needed(entries)));
  FUZZ_CHECK(again == std::string_view(page).substr(0, again.size()),
             "an accepted frame does not re-encode");
}

void run(Input in) {
  const uint8_t mode = in.u8();
  const bool fix = (mode & 1) != 0;
  if (mode & 2) return fuzz_page(std::string(in.rest()), fix);
  const uint64_t base_lsn = in.u16();
  fuzz_log(std::string(in.rest()), base_lsn, fix);
}

}  // namespace
}  // namespace replsim::aries

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::aries::run(replsim::aries::Input(data, size));
  return 0;
}
