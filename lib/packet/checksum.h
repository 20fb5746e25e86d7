// Internet checksum (RFC 1071) and incremental update helpers (RFC 1624).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace netrig::packet {

// One's-complement sum of big-endian 16-bit words (odd trailing byte padded with zero),
// added to `initial`, NOT folded and NOT complemented. Combine partial sums by adding them
// (each partial must start at an even offset of the checksummed region).
uint64_t ChecksumPartial(std::span<const uint8_t> data, uint64_t initial = 0);

// Folds a partial sum to 16 bits (end-around carry), not complemented.
inline uint16_t ChecksumFold(uint64_t sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum field value for a region whose words sum to `sum` (with the field zeroed).
inline uint16_t ChecksumFinish(uint64_t sum) { return static_cast<uint16_t>(~ChecksumFold(sum)); }

// Full RFC 1071 checksum of `data` (field inside must be zero): ~fold(sum).
uint16_t InternetChecksum(std::span<const uint8_t> data);

// Sum of the 16-bit words of a 32/64-bit big-endian value (for incremental stamping).
inline uint64_t ChecksumWords32(uint32_t v) { return (v >> 16) + (v & 0xffffu); }
inline uint64_t ChecksumWords64(uint64_t v) {
  return ChecksumWords32(static_cast<uint32_t>(v >> 32)) +
         ChecksumWords32(static_cast<uint32_t>(v));
}

}  // namespace netrig::packet
