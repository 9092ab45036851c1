// libFuzzer target: the store's on-disk record formats (engine/storage/record.h): the frame
// parser over a stream of frames (as recovery walks data.log and snapshot), and the
// transaction record and snapshot header decoders on each frame's payload.
// Properties: parse_frame never reads past its input and returns a frame inside it; a refused
// payload is kCorruption with a message; an accepted record re-encodes to bytes that decode
// to the same record; an accepted snapshot header re-encodes to exactly its payload.
#include <string>

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"
#include "engine/storage/record.h"
#include "fuzz/fuzz_util.h"

namespace replsim::fuzz {
namespace {

// Rewrites the checksum of the frame at the front of `in` (when its length fits).
void fix_frame_checksum(std::string* stream, size_t offset) {
  const std::string_view in = std::string_view(*stream).substr(offset);
  if (in.size() < kFrameHeaderBytes) return;
  const uint32_t length = decode_fixed32(in.data());
  if (length > in.size() - kFrameHeaderBytes) return;
  std::string fixed;
  put_fixed32(&fixed, crc32c::mask(crc32c::value(in.substr(8, 1 + length))));
  stream->replace(offset + 4, 4, fixed);
}

void check_payload(RecordType type, std::string_view payload) {
  if (type == RecordType::kTransaction) {
    Result<StoreRecord> r = decode_record(payload);
    if (!r.is_ok()) return check_refusal(r.status(), StatusCode::kCorruption, "record");
    // Varints may be stored overlong (accepted, harmless under the checksum), so the
    // property is that the re-encoding decodes and is a fixpoint.
    const std::string again = encode_record(*r);
    Result<StoreRecord> back = decode_record(again);
    FUZZ_CHECK(back.is_ok(), back.status().to_string());
    FUZZ_CHECK(encode_record(*back) == again, "an accepted record does not survive re-encoding");
    if (r->wal_index) (void)r->wal_entry();
  } else if (type == RecordType::kSnapshotHeader) {
    Result<SnapshotHeader> h = decode_snapshot_header(payload);
    if (!h.is_ok()) return check_refusal(h.status(), StatusCode::kCorruption, "snapshot");
    // A header without a remote position encodes zeros there, whatever was stored.
    if (!h->last_remote) return;
    FUZZ_CHECK(encode_snapshot_header(*h) == payload, "an accepted header does not re-encode");
  }
}

void run(Input in) {
  const uint8_t mode = in.u8();
  std::string stream(in.rest());
  // Every payload is also decoded as a bare record / header (the fuzzer's shortest path).
  check_payload(RecordType::kTransaction, stream);
  check_payload(RecordType::kSnapshotHeader, stream);
  size_t offset = 0;
  while (offset < stream.size()) {
    if (mode & 1) fix_frame_checksum(&stream, offset);
    const std::string_view rest = std::string_view(stream).substr(offset);
    std::optional<Frame> frame = parse_frame(rest);
    if (!frame) return;
    FUZZ_CHECK(frame->bytes == kFrameHeaderBytes + frame->payload.size(), "frame size");
    FUZZ_CHECK(frame->bytes <= rest.size(), "frame past the end of its input");
    std::string again;
    append_frame(&again, frame->type, frame->payload);
    FUZZ_CHECK(again == rest.substr(0, frame->bytes), "an accepted frame does not re-encode");
    check_payload(frame->type, frame->payload);
    offset += frame->bytes;
  }
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
