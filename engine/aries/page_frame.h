// Page frames of the merkle page file: one fixed-size frame per bucket (internal).
//
// Layout: [u32 magic][u32 CRC32C of bytes 8..52][u32 page id][u32 entry count][u64 pageLSN]
//         [u32 payload length][u32 CRC32C of the payload][20-byte bucket hash]
//         payload: per entry [u64 position][20-byte leaf][u16 path length][path].
// The header has its own CRC so open() can read the 52-byte headers alone (bucket hash and
// pageLSN) and leave the payload for the first access. An all-zero header is a page never
// written: empty, pageLSN 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/merkle/merkle_index.h"

namespace replsim::aries {

constexpr size_t kFrameHeaderBytes = 52;
constexpr uint32_t kFrameMagic = 0x4d4b5047;  // "MKPG"

struct FrameHeader {
  uint32_t page = 0;
  uint32_t count = 0;
  uint64_t page_lsn = 0;
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
  merkle::Hash160 hash{};
};

enum class FrameState { kEmpty, kValid, kCorrupt };

// Bytes a bucket's frame needs (header included).
size_t frame_bytes_needed(const std::vector<merkle::LeafEntry>& entries);
// REQUIRES: frame_bytes_needed(entries) <= frame_bytes. Returns the frame's used bytes only
// (header + payload, frame_bytes_needed(entries) of them): what follows them in a frame slot is
// never read (the header's payload length bounds every check), so a flush writes no padding.
std::string encode_frame(uint32_t page, uint64_t page_lsn,
                         const std::vector<merkle::LeafEntry>& entries, const merkle::Hash160& hash,
                         uint32_t frame_bytes);
FrameState decode_header(std::string_view bytes, FrameHeader* out);
// Decodes and checks the whole frame (header CRC, payload CRC, entry order, bucket, hash).
FrameState decode_frame(std::string_view bytes, const merkle::MerkleShape& shape,
                        FrameHeader* header, std::vector<merkle::LeafEntry>* entries);

}  // namespace replsim::aries
