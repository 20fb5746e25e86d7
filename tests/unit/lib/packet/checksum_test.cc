#include "lib/packet/checksum.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "gtest/gtest.h"
#include "lib/packet/signature.h"

namespace netrig::packet {
namespace {

// Independent reference: RFC 1071 §4.1 "C" algorithm, byte-wise, 32-bit accumulator folded
// as it goes. Deliberately shares no code with the implementation under test.
uint16_t ReferenceChecksum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += static_cast<uint32_t>(bytes[i]) * 256 + bytes[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  }
  if (i < bytes.size()) {
    sum += static_cast<uint32_t>(bytes[i]) * 256;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum & 0xffff);
}

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2.
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumPartial(bytes), 0x2ddf0u);
  EXPECT_EQ(ChecksumFold(ChecksumPartial(bytes)), 0xddf2);
  EXPECT_EQ(InternetChecksum(bytes), 0x220d);
}

TEST(ChecksumTest, KnownIpv4Header) {
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  // With the checksum in place the header verifies: the sum folds to 0xFFFF.
  header[10] = 0xb8;
  header[11] = 0x61;
  EXPECT_EQ(ChecksumFold(ChecksumPartial(header)), 0xffff);
  EXPECT_EQ(InternetChecksum(header), 0);
}

TEST(ChecksumTest, OddLengthPadsTheLastByteWithZero) {
  const std::vector<uint8_t> one = {0xab};
  EXPECT_EQ(ChecksumPartial(one), 0xab00u);
  const std::vector<uint8_t> three = {0x12, 0x34, 0x56};
  EXPECT_EQ(ChecksumPartial(three), 0x1234u + 0x5600u);
  // Odd lengths around the 8-byte unrolled loop boundary.
  const std::vector<uint8_t> nine = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(ChecksumPartial(nine), 0x0102u + 0x0304u + 0x0506u + 0x0708u + 0x0900u);
}

TEST(ChecksumTest, EmptyInputReturnsInitial) {
  EXPECT_EQ(ChecksumPartial({}), 0u);
  EXPECT_EQ(ChecksumPartial({}, 12345), 12345u);
  EXPECT_EQ(InternetChecksum({}), 0xffff);
}

TEST(ChecksumTest, InitialIsAdded) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03};
  EXPECT_EQ(ChecksumPartial(bytes, 0x10000), 0x10000u + 0x0001u + 0xf203u);
}

TEST(ChecksumTest, MatchesIndependentReferenceOnRandomData) {
  std::mt19937_64 rng(20240601);
  for (size_t n = 0; n < 300; ++n) {
    const std::vector<uint8_t> bytes = RandomBytes(rng, n);
    ASSERT_EQ(InternetChecksum(bytes), ReferenceChecksum(bytes)) << "length " << n;
  }
  for (int i = 0; i < 200; ++i) {
    const std::vector<uint8_t> bytes = RandomBytes(rng, rng() % 9300);
    ASSERT_EQ(InternetChecksum(bytes), ReferenceChecksum(bytes)) << "length " << bytes.size();
  }
}

TEST(ChecksumTest, AllOnesDoesNotOverflow) {
  // 9216 bytes of 0xFF: 4608 words of 0xFFFF, fold is 0xFFFF, checksum 0.
  const std::vector<uint8_t> bytes(9216, 0xff);
  EXPECT_EQ(ChecksumPartial(bytes), 4608u * 0xffff);
  EXPECT_EQ(InternetChecksum(bytes), ReferenceChecksum(bytes));
  EXPECT_EQ(InternetChecksum(bytes), 0);
}

TEST(ChecksumTest, PartialsAtEvenOffsetsCombineByAddition) {
  std::mt19937_64 rng(7);
  const std::vector<uint8_t> bytes = RandomBytes(rng, 1001);
  const std::span<const uint8_t> all(bytes);
  for (size_t split = 0; split <= bytes.size(); split += 2) {
    const uint64_t sum =
        ChecksumPartial(all.subspan(0, split)) + ChecksumPartial(all.subspan(split));
    ASSERT_EQ(sum, ChecksumPartial(all)) << "split at " << split;
    // Chaining through `initial` is the same thing.
    ASSERT_EQ(ChecksumPartial(all.subspan(split), ChecksumPartial(all.subspan(0, split))),
              ChecksumPartial(all));
  }
}

TEST(ChecksumFoldTest, PreservesValueModulo0xFFFFAndNeverReturnsZeroForNonZero) {
  const std::vector<uint64_t> values = {0,
                                        1,
                                        0xffff,
                                        0x10000,
                                        0x1fffe,
                                        0xffffffff,
                                        0x100000000,
                                        0x2ddf0,
                                        0xffffffffffffffff,
                                        0xfffffffffffffffe,
                                        0x8000000000000000,
                                        0x123456789abcdef0};
  for (uint64_t v : values) {
    const uint16_t folded = ChecksumFold(v);
    // In one's-complement arithmetic 0xFFFF and 0 are both zero.
    EXPECT_EQ(folded % 0xffff, v % 0xffff) << std::hex << v;
    if (v != 0) {
      EXPECT_NE(folded, 0) << std::hex << v;
    }
  }
  EXPECT_EQ(ChecksumFold(0), 0);
  EXPECT_EQ(ChecksumFold(0x2ddf0), 0xddf2);
  EXPECT_EQ(ChecksumFold(0xffffffffffffffff), 0xffff);
  EXPECT_EQ(ChecksumFinish(0x2ddf0), 0x220d);
}

TEST(ChecksumWordsTest, MatchBigEndianBytes) {
  uint8_t buf[8];
  StoreBe32(buf, 0xdeadbeef);
  EXPECT_EQ(ChecksumWords32(0xdeadbeef), ChecksumPartial(std::span<const uint8_t>(buf, 4)));
  StoreBe64(buf, 0x0123456789abcdefull);
  EXPECT_EQ(ChecksumWords64(0x0123456789abcdefull),
            ChecksumPartial(std::span<const uint8_t>(buf, 8)));
  EXPECT_EQ(ChecksumWords64(~0ull), 4u * 0xffff);
}

TEST(ChecksumWordsTest, IncrementalStampingMatchesFullRecompute) {
  // How the TX engine stamps a timestamp: checksum the frame once with the field zeroed,
  // then add the new field's words. Field at an even offset of the checksummed region.
  std::mt19937_64 rng(99);
  std::vector<uint8_t> bytes = RandomBytes(rng, 77);
  constexpr size_t kField = 10;
  std::fill(bytes.begin() + kField, bytes.begin() + kField + 8, 0);
  const uint64_t base = ChecksumPartial(bytes);
  for (int i = 0; i < 100; ++i) {
    const uint64_t ts = rng();
    StoreBe64(bytes.data() + kField, ts);
    ASSERT_EQ(ChecksumFinish(base + ChecksumWords64(ts)), ReferenceChecksum(bytes));
  }
}

}  // namespace
}  // namespace netrig::packet
