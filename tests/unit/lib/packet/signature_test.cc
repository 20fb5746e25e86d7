#include "lib/packet/signature.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/packet/frame.h"

namespace netrig::packet {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// The layout is a wire format shared by agents of different builds: pin it.
static_assert(kSignatureBytes == 18);
static_assert(kSigTsOffset + sizeof(uint64_t) == kSignatureBytes);
// The signature must fit the smallest IPv4 test frame: 14 + 20 + 8 + 18 + FCS 4 = 64.
static_assert(MinFrameBytes(L3::kIpv4) == 64);
static_assert(SignatureOffset(L3::kIpv4) + kSignatureBytes + 4 == 64);
static_assert(MinFrameBytes(L3::kIpv6) == 84);

TEST(SignatureTest, WritesBigEndianFieldsAtDocumentedOffsets) {
  std::array<uint8_t, kSignatureBytes> buf{};
  WriteSignature(buf.data(),
                 Signature{.flow_id = 0x01020304, .seq = 0xa0b0c0d0, .tx_ns = 0x1122334455667788});
  EXPECT_THAT(buf, ElementsAre(0x4e, 0x52,                                        // magic "NR"
                               0x01, 0x02, 0x03, 0x04,                            // flow_id
                               0xa0, 0xb0, 0xc0, 0xd0,                            // seq
                               0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88));  // tx_ns
}

TEST(SignatureTest, RoundTrips) {
  uint8_t buf[kSignatureBytes + 3];
  for (const Signature& s : {Signature{}, Signature{.flow_id = 1, .seq = 2, .tx_ns = 3},
                             Signature{.flow_id = 0xffffffff, .seq = 0xffffffff, .tx_ns = ~0ull}}) {
    // Unaligned on purpose: signatures sit at offset 42 or 62 of a frame.
    WriteSignature(buf + 1, s);
    Signature out{.flow_id = 9, .seq = 9, .tx_ns = 9};
    ASSERT_TRUE(ReadSignature(buf + 1, &out));
    EXPECT_EQ(out, s);
  }
}

TEST(SignatureTest, WrongMagicIsRejectedAndLeavesOutputUntouched) {
  uint8_t buf[kSignatureBytes];
  WriteSignature(buf, Signature{.flow_id = 5, .seq = 6, .tx_ns = 7});
  const Signature untouched{.flow_id = 1, .seq = 1, .tx_ns = 1};
  for (int byte = 0; byte < 2; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      uint8_t copy[kSignatureBytes];
      std::copy(buf, buf + kSignatureBytes, copy);
      copy[byte] ^= static_cast<uint8_t>(1u << bit);
      Signature out = untouched;
      EXPECT_FALSE(ReadSignature(copy, &out));
      EXPECT_EQ(out, untouched);
    }
  }
  // Byte-swapped magic ("RN") is not the magic: guards against a little-endian writer.
  uint8_t swapped[kSignatureBytes];
  std::copy(buf, buf + kSignatureBytes, swapped);
  std::swap(swapped[0], swapped[1]);
  Signature out;
  EXPECT_FALSE(ReadSignature(swapped, &out));
}

TEST(ByteOrderTest, LoadStoreAreBigEndianAndUnaligned) {
  uint8_t buf[9] = {};
  StoreBe16(buf + 1, 0x1234);
  EXPECT_THAT((std::array<uint8_t, 2>{buf[1], buf[2]}), ElementsAre(0x12, 0x34));
  EXPECT_EQ(LoadBe16(buf + 1), 0x1234);
  StoreBe32(buf + 1, 0x89abcdef);
  EXPECT_THAT((std::array<uint8_t, 4>{buf[1], buf[2], buf[3], buf[4]}),
              ElementsAre(0x89, 0xab, 0xcd, 0xef));
  EXPECT_EQ(LoadBe32(buf + 1), 0x89abcdefu);
  StoreBe64(buf + 1, 0x0102030405060708ull);
  EXPECT_THAT(
      (std::array<uint8_t, 8>{buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8]}),
      ElementsAreArray({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(LoadBe64(buf + 1), 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0);  // nothing written before the pointer
}

}  // namespace
}  // namespace netrig::packet
