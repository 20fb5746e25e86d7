// The netrig test-frame signature: carried at the start of the UDP payload of every test
// frame. 18 bytes, so it fits a 64-byte IPv4/UDP frame (14 + 20 + 8 + 18 = 60 bytes + FCS).
//
//   offset 0  magic    u16  0x4E52 ("NR")
//   offset 2  flow_id  u32  dense flow index assigned by the controller/plan
//   offset 6  seq      u32  per-flow sequence number, starts at 0, wraps modulo 2^32
//   offset 10 tx_ns    u64  transmit timestamp, nanoseconds on the agent's clock
//
// All fields are big-endian (network order). Header-only: used on the data plane.
#pragma once

#include <cstdint>
#include <cstring>

namespace netrig::packet {

inline constexpr uint16_t kSignatureMagic = 0x4E52;
inline constexpr uint32_t kSignatureBytes = 18;
inline constexpr uint32_t kSigMagicOffset = 0;
inline constexpr uint32_t kSigFlowOffset = 2;
inline constexpr uint32_t kSigSeqOffset = 6;
inline constexpr uint32_t kSigTsOffset = 10;

struct Signature {
  uint32_t flow_id = 0;
  uint32_t seq = 0;
  uint64_t tx_ns = 0;
  bool operator==(const Signature&) const = default;
};

inline void StoreBe16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof(v));
}
inline void StoreBe32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof(v));
}
inline void StoreBe64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof(v));
}
inline uint16_t LoadBe16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap16(v);
}
inline uint32_t LoadBe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap32(v);
}
inline uint64_t LoadBe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap64(v);
}

inline void WriteSignature(uint8_t* p, const Signature& s) {
  StoreBe16(p + kSigMagicOffset, kSignatureMagic);
  StoreBe32(p + kSigFlowOffset, s.flow_id);
  StoreBe32(p + kSigSeqOffset, s.seq);
  StoreBe64(p + kSigTsOffset, s.tx_ns);
}

// Returns false if the magic does not match (not a netrig test frame).
inline bool ReadSignature(const uint8_t* p, Signature* s) {
  if (LoadBe16(p + kSigMagicOffset) != kSignatureMagic) {
    return false;
  }
  s->flow_id = LoadBe32(p + kSigFlowOffset);
  s->seq = LoadBe32(p + kSigSeqOffset);
  s->tx_ns = LoadBe64(p + kSigTsOffset);
  return true;
}

}  // namespace netrig::packet
