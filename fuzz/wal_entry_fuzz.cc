// libFuzzer target: the replication WAL entry decoder (engine/wal/wal_entry.h), which reads the
// `bytes` of every WalEntryMsg a secondary receives and every entry the store recovers.
// Properties: a refusal is kCorruption with a message; an accepted entry re-encodes to bytes
// that decode to the same entry, of the size wal_entry_encoded_bytes() predicts.
#include <string>

#include "engine/base/crc32c.h"
#include "engine/wal/wal_entry.h"
#include "fuzz/fuzz_util.h"

namespace replsim::fuzz {
namespace {

void run(Input in) {
  const bool fix_checksum = (in.u8() & 1) != 0;
  std::string bytes(in.rest());
  if (fix_checksum && bytes.size() >= 4) {
    const uint32_t crc = crc32c::mask(crc32c::value(std::string_view(bytes).substr(4)));
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  Result<WalEntry> entry = decode_wal_entry(bytes);
  if (!entry.is_ok()) {
    check_refusal(entry.status(), StatusCode::kCorruption, "wal entry");
    return;
  }
  const std::string again = encode_wal_entry(*entry);
  FUZZ_CHECK(again.size() == wal_entry_encoded_bytes(*entry), "encoded size mispredicted");
  Result<WalEntry> back = decode_wal_entry(again);
  FUZZ_CHECK(back.is_ok(), back.status().to_string());
  FUZZ_CHECK(*back == *entry, "an accepted entry does not survive re-encoding");
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
