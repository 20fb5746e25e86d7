// Building and parsing Ethernet / IPv4 / IPv6 / UDP test frames.
//
// Frame size convention: `frame_bytes` is the RFC 1242 frame size, destination MAC through
// FCS. The bytes we build and hand to a NIC are frame_bytes - 4: the NIC (or the kernel for a
// veth) appends or omits the FCS.
//
// Test-frame layout (RFC 2544 App. C style, UDP):
//   Ethernet II (14) | IPv4 (20, no options) or IPv6 (40) | UDP (8) | Signature (18) | payload
// Payload bytes after the signature follow the pattern byte[o] = o & 0xff, with o the offset
// from the start of the frame (incrementing octets, never all-zeros/all-ones).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/packet/signature.h"

namespace netrig::packet {

inline constexpr uint32_t kEthHeaderBytes = 14;
inline constexpr uint32_t kVlanTagBytes = 4;
inline constexpr uint32_t kIpv4HeaderBytes = 20;
inline constexpr uint32_t kIpv6HeaderBytes = 40;
inline constexpr uint32_t kUdpHeaderBytes = 8;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint8_t kIpProtoUdp = 17;

using MacAddr = std::array<uint8_t, 6>;
using Ipv6Addr = std::array<uint8_t, 16>;

// "02:00:00:00:00:01" -> bytes. InvalidArgument naming the text otherwise.
absl::StatusOr<MacAddr> ParseMac(std::string_view text);
std::string FormatMac(const MacAddr& mac);
// Dotted quad -> host-order u32.
absl::StatusOr<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t host_order);
// RFC 4291 text form -> bytes (uses inet_pton).
absl::StatusOr<Ipv6Addr> ParseIpv6(std::string_view text);
std::string FormatIpv6(const Ipv6Addr& addr);

enum class L3 { kIpv4, kIpv6 };

// Everything needed to build one test frame.
struct FrameSpec {
  MacAddr dst_mac{};
  MacAddr src_mac{};
  L3 l3 = L3::kIpv4;
  uint32_t src_ipv4 = 0;  // host order
  uint32_t dst_ipv4 = 0;  // host order
  Ipv6Addr src_ipv6{};
  Ipv6Addr dst_ipv6{};
  uint16_t src_port = 0xC020;  // RFC 2544 App. C source port
  uint16_t dst_port = 7;       // RFC 2544 App. C: UDP echo
  uint8_t ttl = 64;            // hop limit for IPv6
  uint8_t dscp = 0;
  // IPv4 may carry UDP checksum 0 (RFC 768; RFC 2544 App. C test frames do); IPv6 always
  // carries a real checksum (RFC 8200 §8.1), so this only matters for IPv4.
  bool ipv4_udp_checksum = false;
  uint32_t frame_bytes = 64;  // incl. FCS
};

// Offset of the UDP payload (= the signature) from the start of the frame.
constexpr uint32_t SignatureOffset(L3 l3) {
  return kEthHeaderBytes + (l3 == L3::kIpv4 ? kIpv4HeaderBytes : kIpv6HeaderBytes) +
         kUdpHeaderBytes;
}
// Smallest frame (incl. FCS) that holds the headers and the signature, never below 64.
constexpr uint32_t MinFrameBytes(L3 l3) {
  const uint32_t need = SignatureOffset(l3) + kSignatureBytes + 4;
  return need < 64 ? 64 : need;
}

// Checks a spec; errors name the field: "frame_bytes: 60 is below the 64-byte minimum", or
// "frame_bytes: 70 is too small for an IPv6 frame with the 18-byte signature (minimum 84)".
absl::Status ValidateFrameSpec(const FrameSpec& spec);

// Builds the frame bytes (frame_bytes - 4 of them, no FCS) with correct IPv4 header and UDP
// checksums (UDP checksum 0 for IPv4 unless ipv4_udp_checksum) and the given signature.
absl::StatusOr<std::vector<uint8_t>> BuildFrame(const FrameSpec& spec, const Signature& sig);

// Sum of the payload pattern bytes for frame offsets [begin, end) as big-endian 16-bit words
// aligned on even frame offsets (both must be even offsets relative to an even-aligned
// checksum region start; `begin` must be even). Used by the TX engine to finish UDP
// checksums incrementally for any frame size.
uint64_t PayloadPatternPartialSum(uint32_t begin, uint32_t end);
inline uint8_t PayloadPatternByte(uint32_t frame_offset) {
  return static_cast<uint8_t>(frame_offset & 0xff);
}

// Everything a full parse finds. Used by tests, fuzzing and control-plane tools; the RX hot
// path uses FindSignature() below.
struct ParsedFrame {
  MacAddr dst_mac{};
  MacAddr src_mac{};
  std::optional<uint16_t> vlan_tci;
  uint16_t ether_type = 0;
  L3 l3 = L3::kIpv4;
  uint32_t src_ipv4 = 0;
  uint32_t dst_ipv4 = 0;
  Ipv6Addr src_ipv6{};
  Ipv6Addr dst_ipv6{};
  uint8_t ttl = 0;
  uint8_t dscp = 0;
  bool ipv4_checksum_ok = false;  // always false for IPv6
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t udp_length = 0;
  bool udp_checksum_present = false;  // false when an IPv4 UDP checksum is 0
  bool udp_checksum_ok = false;       // true when present and correct, or absent on IPv4
  std::optional<Signature> signature;
};

// Parses Ethernet II (one optional 802.1Q tag), IPv4 (with options) or IPv6 (no extension
// headers), UDP. Data is the frame without FCS. InvalidArgument names the layer and reason
// ("ipv4: header length 4 words is below 5", "udp: length 9 exceeds the 8 bytes left").
// Never reads out of bounds, whatever the input (fuzzed).
absl::StatusOr<ParsedFrame> ParseFrame(std::span<const uint8_t> data);

// Data-plane probe lookup: returns the offset of the signature within `data` if the frame is
// Ethernet (+ optional one VLAN tag) / IPv4 (no fragment offset) or IPv6 / UDP with at least
// kSignatureBytes of payload and the magic matches; otherwise -1. Header-only, no checks of
// checksums (the NIC or kernel drops bad frames; the magic guards against foreign traffic).
inline int32_t FindSignature(const uint8_t* data, uint32_t len) {
  if (len < kEthHeaderBytes + kIpv4HeaderBytes + kUdpHeaderBytes + kSignatureBytes) {
    return -1;
  }
  uint32_t off = 12;
  uint16_t ether_type = LoadBe16(data + off);
  off += 2;
  if (ether_type == kEtherTypeVlan) {
    ether_type = LoadBe16(data + off + 2);
    off += 4;
  }
  uint32_t l4;
  if (ether_type == kEtherTypeIpv4) {
    if (len < off + kIpv4HeaderBytes) return -1;
    const uint8_t vihl = data[off];
    const uint32_t ihl = (vihl & 0x0f) * 4u;
    if ((vihl >> 4) != 4 || ihl < kIpv4HeaderBytes) return -1;
    if (data[off + 9] != kIpProtoUdp) return -1;
    if ((LoadBe16(data + off + 6) & 0x1fff) != 0) return -1;  // not a first fragment
    l4 = off + ihl;
  } else if (ether_type == kEtherTypeIpv6) {
    if (len < off + kIpv6HeaderBytes) return -1;
    if ((data[off] >> 4) != 6 || data[off + 6] != kIpProtoUdp) return -1;
    l4 = off + kIpv6HeaderBytes;
  } else {
    return -1;
  }
  const uint32_t sig = l4 + kUdpHeaderBytes;
  if (len < sig + kSignatureBytes) return -1;
  if (LoadBe16(data + sig) != kSignatureMagic) return -1;
  return static_cast<int32_t>(sig);
}

}  // namespace netrig::packet
