// runtime/frame.h — the wire frame of the runtime's node-to-node TCP transport.
//
// Protocol: a TCP connection carries a sequence of frames, in either direction once open.
//   magic   u32 LE  kFrameMagic ("RPF1"), so a stray client or a desynchronised stream fails fast
//   length  u32 LE  payload bytes, at most the receiver's frame_bytes_max
//   from    u32 LE  the sender's NodeId (trusted: no authentication, see docs/runtime.md)
//   crc     u32 LE  masked CRC-32C over the `from` field and the payload
//   payload         one serialized protobuf message (opaque here)
// A frame whose magic, length bound or checksum fails is refused: the receiver logs it and closes
// the connection (the stream can no longer be trusted to be framed). Nothing is retransmitted:
// Env::send is best effort, the engine retries on its own timers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "engine/types.h"

namespace replsim::runtime {

constexpr uint32_t kFrameMagic = 0x31465052;  // "RPF1" little-endian
constexpr size_t kFrameHeaderBytes = 16;
constexpr size_t kFrameBytesMaxDefault = 64 * 1024 * 1024;

struct FrameHeader {
  uint32_t magic = 0;
  uint32_t length = 0;
  NodeId from;
  uint32_t crc_masked = 0;
};

// The whole frame (header + payload) for `payload` sent by `from`.
// REQUIRES: payload.size() fits in u32.
std::string encode_frame(NodeId from, std::string_view payload);

// Parses a header. REQUIRES: header.size() == kFrameHeaderBytes. Corruption when the magic is
// wrong or the length exceeds `frame_bytes_max`.
Result<FrameHeader> decode_frame_header(std::string_view header, size_t frame_bytes_max);

// Corruption when the payload does not match the header's checksum.
Status verify_frame_payload(const FrameHeader& header, std::string_view payload);

}  // namespace replsim::runtime
