#include <gtest/gtest.h>

#include "engine/base/coding.h"
#include "engine/base/crc32c.h"
#include "engine/base/hex.h"
#include "engine/base/sha256.h"

namespace replsim {
namespace {

TEST(Crc32c, MatchesTheCastagnoliCheckValueAndExtendsIncrementally) {
  EXPECT_EQ(crc32c::value("123456789"), 0xe3069283u);  // the standard check value
  EXPECT_EQ(crc32c::value(""), 0u);
  const std::string data(1000, 'x');
  EXPECT_EQ(crc32c::extend(crc32c::value(data.substr(0, 333)), data.substr(333)),
            crc32c::value(data));
  EXPECT_EQ(crc32c::unmask(crc32c::mask(0x12345678u)), 0x12345678u);
}

TEST(Coding, FixedWidthIsLittleEndianWhateverTheHost) {
  std::string out;
  put_fixed8(&out, 0x01);
  put_fixed16(&out, 0x0302);
  put_fixed32(&out, 0x07060504u);
  put_fixed64(&out, 0x0f0e0d0c0b0a0908ull);
  ASSERT_EQ(out.size(), 15u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<char>(i + 1));
  ByteReader r(out);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  ASSERT_TRUE(r.get(&a) && r.get(&b) && r.get(&c) && r.get(&d));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0302);
  EXPECT_EQ(c, 0x07060504u);
  EXPECT_EQ(d, 0x0f0e0d0c0b0a0908ull);
  EXPECT_EQ(r.consumed(), 15u);
  EXPECT_FALSE(r.get(&a));  // never past the end
  char buf[4];
  encode_fixed32(buf, 0xa1b2c3d4u);
  EXPECT_EQ(decode_fixed32(buf), 0xa1b2c3d4u);
  EXPECT_EQ(buf[0], static_cast<char>(0xd4));
}

TEST(Hex, RoundTripsAndRefusesWhatIsNotHex) {
  const std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(base::to_hex(bytes), "0001abff");
  EXPECT_EQ(base::from_hex("0001ABff").value(), bytes);
  EXPECT_EQ(base::from_hex("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(base::from_hex("zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(base::hex_u64(0x1234abcdull), "000000001234abcd");
  EXPECT_EQ(base::hex_u64(UINT64_MAX), "ffffffffffffffff");
}

TEST(Sha256, MatchesTheFipsVectorAndIncrementalEqualsOneShot) {
  EXPECT_EQ(base::to_hex(base::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  base::Sha256 h;
  h.update("a").update("bc");
  EXPECT_EQ(h.finish(), base::sha256_digest("abc"));
}

}  // namespace
}  // namespace replsim
