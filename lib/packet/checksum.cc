#include "lib/packet/checksum.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/packet/signature.h"

namespace netrig::packet {

uint64_t ChecksumPartial(std::span<const uint8_t> data, uint64_t initial) {
  // The one's-complement sum is order-independent and end-around carries can be deferred
  // (RFC 1071 §2), so we add plain 16-bit words into a 64-bit accumulator and let
  // ChecksumFold() deal with the carries once. 2^48 words would be needed to overflow.
  uint64_t sum = initial;
  const uint8_t* p = data.data();
  size_t n = data.size();
  // Four words per iteration: summing the two 32-bit halves of a big-endian 64-bit load
  // would need a second carry pass, so keep it simple and let the compiler vectorise.
  while (n >= 8) {
    sum += LoadBe16(p) + LoadBe16(p + 2) + LoadBe16(p + 4) + LoadBe16(p + 6);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    sum += LoadBe16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    sum += static_cast<uint64_t>(*p) << 8;  // odd trailing byte, padded with a zero byte
  }
  return sum;
}

uint16_t InternetChecksum(std::span<const uint8_t> data) {
  return ChecksumFinish(ChecksumPartial(data));
}

}  // namespace netrig::packet
