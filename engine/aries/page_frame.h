// Page images of the merkle page file (internal).
//
// A bucket's page image is its payload — per entry [u64 position][20-byte leaf][u16 path
// length][path], in the bucket's sorted order — cut into frames of at most frame_bytes each:
//   part 0, the primary frame, lives in slot `bucket` (slots 0 .. bucket_count-1, one each);
//   parts 1..parts-1, the overflow frames, live in one extent of consecutive slots from
//   `extent_start` (slots >= bucket_count), allocated by the index when the payload does not
//   fit the primary frame (a long path, or many entries in one bucket). No bucket size aborts.
// Frame: [u32 magic][u32 CRC32C of header bytes 8..kFrameHeaderBytes][u32 page][u32 part]
//        [u32 parts][u32 entry count][u64 slot][u64 pageLSN][u64 payload bytes (whole image)]
//        [u32 payload CRC32C (whole image)][u32 chunk bytes][u32 chunk CRC32C]
//        [u64 extent start][20-byte bucket hash] then the chunk (this frame's payload bytes).
// Every frame carries the image's page, pageLSN and parts, so a frame of another bucket or an
// older image found in an extent slot is refused; `slot` says where a frame belongs (the
// double-write area is repaired from it). An all-zero header is a page never written (empty).
// Frames are written unpadded: what follows a chunk in a slot is never read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/merkle/merkle_index.h"
#include "engine/types.h"

namespace replsim::aries {

constexpr size_t kFrameHeaderBytes = 88;
constexpr uint32_t kFrameMagic = 0x4d4b5032;  // "MKP2"
// Smallest frame that leaves room for payload (options are checked against it).
constexpr uint32_t kFrameBytesMin = 256;

struct FrameHeader {
  uint32_t page = 0;
  uint32_t part = 0;   // 0: the primary frame
  uint32_t parts = 1;  // frames of the image (1 + overflow frames)
  uint32_t count = 0;  // entries of the image
  uint64_t slot = 0;   // the page-file slot this frame belongs in
  Lsn page_lsn;
  uint64_t payload_bytes = 0;  // of the whole image
  uint32_t payload_crc = 0;
  uint32_t chunk_bytes = 0;  // of this frame
  uint32_t chunk_crc = 0;
  uint64_t extent_start = 0;  // first overflow slot (0 when parts == 1)
  merkle::Hash160 hash{};
};

enum class FrameState { kEmpty, kValid, kCorrupt };

// Payload bytes of a bucket's image, and the frames it takes at `frame_bytes` per frame.
uint64_t payload_bytes(const std::vector<merkle::LeafEntry>& entries);
uint32_t frames_needed(uint64_t payload_bytes, uint32_t frame_bytes);

// The frames of a bucket's image, primary first (unpadded). REQUIRES: extent_start is a slot
// past the primary frames when the image needs more than one frame, else 0.
std::vector<std::string> encode_page(uint32_t page, Lsn page_lsn,
                                     const std::vector<merkle::LeafEntry>& entries,
                                     const merkle::Hash160& hash, uint32_t frame_bytes,
                                     uint64_t extent_start);
// Decodes one frame's header (not its chunk).
FrameState decode_header(std::string_view bytes, FrameHeader* out);
// Checks one frame (header and chunk CRC); sets `chunk` to its payload bytes.
FrameState decode_frame(std::string_view bytes, FrameHeader* header, std::string_view* chunk);
// Decodes a whole image from its frames in part order (each one slot's bytes, primary first):
// every header agrees (page, pageLSN, parts, slot), every CRC matches, entries are sorted,
// in the bucket, and hash to the primary's bucket hash.
FrameState decode_page(const std::vector<std::string_view>& frames,
                       const merkle::MerkleShape& shape, FrameHeader* primary,
                       std::vector<merkle::LeafEntry>* entries);

// The double-write area holds the frames of one flush: [batch header, padded to a slot]
// [frame]... with each frame padded to a slot but the last. Header: [u32 magic][u32 CRC32C of
// header bytes 8..24][u32 frames][u32 unused][u64 bytes after the header slot][u32 CRC32C of
// those bytes]. In-place writes start only after the batch is durable, so a batch that fails
// its check was never written in place, and a valid one is the only flush that may be torn.
std::string encode_dw_batch(const std::vector<std::string>& frames, uint32_t frame_bytes);
// The frames of a valid batch (views into `bytes`); false when the batch is torn or absent.
bool decode_dw_batch(std::string_view bytes, uint32_t frame_bytes,
                     std::vector<std::string_view>* frames);

}  // namespace replsim::aries
