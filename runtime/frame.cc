#include "runtime/frame.h"

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"

namespace replsim::runtime {
namespace {

uint32_t frame_crc(NodeId from, std::string_view payload) {
  std::string from_bytes;
  put_fixed32(&from_bytes, from.value);
  return crc32c::mask(crc32c::extend(crc32c::value(from_bytes), payload));
}

}  // namespace

std::string encode_frame(NodeId from, std::string_view payload) {
  REPLSIM_ASSERT(payload.size() <= UINT32_MAX);
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  put_fixed32(&out, kFrameMagic);
  put_fixed32(&out, static_cast<uint32_t>(payload.size()));
  put_fixed32(&out, from.value);
  put_fixed32(&out, frame_crc(from, payload));
  out.append(payload);
  return out;
}

Result<FrameHeader> decode_frame_header(std::string_view header, size_t frame_bytes_max) {
  REPLSIM_ASSERT(header.size() == kFrameHeaderBytes);
  FrameHeader h;
  h.magic = decode_fixed32(header.data());
  h.length = decode_fixed32(header.data() + 4);
  h.from = NodeId(decode_fixed32(header.data() + 8));
  h.crc_masked = decode_fixed32(header.data() + 12);
  if (h.magic != kFrameMagic) return Status::corruption("frame: bad magic");
  if (h.length > frame_bytes_max) {
    return Status::corruption("frame: length " + std::to_string(h.length) + " above bound " +
                              std::to_string(frame_bytes_max));
  }
  return h;
}

Status verify_frame_payload(const FrameHeader& header, std::string_view payload) {
  REPLSIM_ASSERT(payload.size() == header.length);
  if (frame_crc(header.from, payload) != header.crc_masked) {
    return Status::corruption("frame from node " + std::to_string(header.from.value) +
                              ": checksum mismatch");
  }
  return Status::ok();
}

}  // namespace replsim::runtime
