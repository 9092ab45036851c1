#include "runtime/frame.h"

#include <gtest/gtest.h>

namespace replsim::runtime {
namespace {

Result<std::string> roundtrip(const std::string& frame) {
  auto h = decode_frame_header(std::string_view(frame).substr(0, kFrameHeaderBytes), 1 << 20);
  if (!h.is_ok()) return h.status();
  std::string payload = frame.substr(kFrameHeaderBytes);
  if (payload.size() != h->length) return Status::corruption("length");
  REPLSIM_RETURN_IF_ERROR(verify_frame_payload(h.value(), payload));
  return payload;
}

TEST(Frame, EncodedFrameDecodesToSamePayloadAndSender) {
  std::string frame = encode_frame(NodeId(7), "hello");
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + 5);
  auto h = decode_frame_header(std::string_view(frame).substr(0, kFrameHeaderBytes), 100);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->from, NodeId(7));
  EXPECT_EQ(h->length, 5u);
  auto p = roundtrip(frame);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p.value(), "hello");
  EXPECT_TRUE(roundtrip(encode_frame(NodeId(1), "")).is_ok());
}

TEST(Frame, EveryFlippedBitIsRefused) {
  const std::string frame = encode_frame(NodeId(3), "payload bytes");
  for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
    std::string bad = frame;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    auto r = roundtrip(bad);
    EXPECT_FALSE(r.is_ok()) << "bit " << bit;
  }
}

TEST(Frame, LengthAboveBoundIsCorruption) {
  std::string frame = encode_frame(NodeId(3), std::string(200, 'x'));
  auto h = decode_frame_header(std::string_view(frame).substr(0, kFrameHeaderBytes), 100);
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace replsim::runtime
