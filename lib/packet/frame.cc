#include "lib/packet/frame.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "lib/common/status_macros.h"
#include "lib/packet/checksum.h"
#include "lib/packet/signature.h"
#include "lib/rate/line_rate.h"

namespace netrig::packet {
namespace {

constexpr uint32_t kFcsBytes = rate::kFcsBytes;
// IPv4 flags/fragment-offset field: MF flag and the 13-bit offset.
constexpr uint16_t kIpv4MoreFragments = 0x2000;
constexpr uint16_t kIpv4FragmentOffsetMask = 0x1fff;

// Input text quoted in error messages, with control characters escaped so a stray NUL or
// newline from a config file stays visible and harmless in logs.
std::string Escaped(std::string_view text) {
  return absl::CHexEscape(absl::string_view(text.data(), text.size()));
}

const char* L3Name(L3 l3) { return l3 == L3::kIpv4 ? "IPv4" : "IPv6"; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// inet_pton needs a NUL-terminated string; an embedded NUL would silently cut the text short
// ("1.2.3.4\0junk" parsing as 1.2.3.4), so reject it up front.
bool InetPton(int family, std::string_view text, void* out) {
  if (text.find('\0') != std::string_view::npos) return false;
  return inet_pton(family, std::string(text).c_str(), out) == 1;
}

// Sum of the UDP pseudo-header words (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6).
uint64_t Ipv4PseudoHeaderSum(uint32_t src, uint32_t dst, uint16_t udp_length) {
  return ChecksumWords32(src) + ChecksumWords32(dst) + kIpProtoUdp + udp_length;
}
uint64_t Ipv6PseudoHeaderSum(const uint8_t* src, const uint8_t* dst, uint32_t udp_length) {
  return ChecksumPartial(std::span<const uint8_t>(src, 16)) +
         ChecksumPartial(std::span<const uint8_t>(dst, 16)) + ChecksumWords32(udp_length) +
         kIpProtoUdp;
}

// Sum of the big-endian words the payload pattern forms over one 256-byte period starting at
// an even offset: sum(k = 0..127) of (2k << 8 | 2k + 1) = 256 * 16256 + 16384.
constexpr uint64_t kPatternPeriodBytes = 256;
constexpr uint64_t kPatternPeriodSum = 4'177'920;

}  // namespace

absl::StatusOr<MacAddr> ParseMac(std::string_view text) {
  // Exactly "xx:xx:xx:xx:xx:xx": six two-digit hex octets. Shorter forms ("2:0:0:0:0:1")
  // and other separators are rejected so a typo can never yield a plausible address.
  MacAddr mac{};
  bool ok = text.size() == 17;
  for (size_t i = 0; ok && i < mac.size(); ++i) {
    const int hi = HexValue(text[3 * i]);
    const int lo = HexValue(text[3 * i + 1]);
    ok = hi >= 0 && lo >= 0 && (i == 5 || text[3 * i + 2] == ':');
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mac \"%s\": expected six hex octets separated by ':', like 02:00:00:00:00:01",
        Escaped(text)));
  }
  return mac;
}

std::string FormatMac(const MacAddr& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                         mac[5]);
}

absl::StatusOr<uint32_t> ParseIpv4(std::string_view text) {
  in_addr addr{};
  if (!InetPton(AF_INET, text, &addr)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ipv4 \"%s\": expected a dotted quad like 198.18.0.1", Escaped(text)));
  }
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t host_order) {
  return absl::StrFormat("%u.%u.%u.%u", host_order >> 24, (host_order >> 16) & 0xff,
                         (host_order >> 8) & 0xff, host_order & 0xff);
}

absl::StatusOr<Ipv6Addr> ParseIpv6(std::string_view text) {
  Ipv6Addr addr{};
  if (!InetPton(AF_INET6, text, addr.data())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ipv6 \"%s\": expected an RFC 4291 address like 2001:db8::1", Escaped(text)));
  }
  return addr;
}

std::string FormatIpv6(const Ipv6Addr& addr) {
  char buf[INET6_ADDRSTRLEN];
  // Cannot fail: the family is valid and the buffer has the documented maximum size.
  inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
  return buf;
}

absl::Status ValidateFrameSpec(const FrameSpec& spec) {
  if (spec.frame_bytes < rate::kMinEthernetFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("frame_bytes: %u is below the %u-byte minimum", spec.frame_bytes,
                        rate::kMinEthernetFrameBytes));
  }
  if (spec.frame_bytes < MinFrameBytes(spec.l3)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "frame_bytes: %u is too small for an %s frame with the %u-byte signature (minimum %u)",
        spec.frame_bytes, L3Name(spec.l3), kSignatureBytes, MinFrameBytes(spec.l3)));
  }
  if (spec.frame_bytes > rate::kMaxEthernetFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("frame_bytes: %u is above the %u-byte maximum", spec.frame_bytes,
                        rate::kMaxEthernetFrameBytes));
  }
  if (spec.ttl == 0) {
    // A TTL / hop limit of 0 is dropped by the first router (RFC 791, RFC 8200).
    return absl::InvalidArgumentError("ttl: must be 1..255, got 0");
  }
  if (spec.dscp > 63) {
    return absl::InvalidArgumentError(absl::StrFormat("dscp: must be 0..63, got %u", spec.dscp));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> BuildFrame(const FrameSpec& spec, const Signature& sig) {
  RETURN_IF_ERROR(ValidateFrameSpec(spec));
  const uint32_t len = spec.frame_bytes - kFcsBytes;
  std::vector<uint8_t> f(len, 0);
  uint8_t* p = f.data();

  // Ethernet II.
  std::memcpy(p, spec.dst_mac.data(), 6);
  std::memcpy(p + 6, spec.src_mac.data(), 6);
  StoreBe16(p + 12, spec.l3 == L3::kIpv4 ? kEtherTypeIpv4 : kEtherTypeIpv6);

  const uint32_t l3 = kEthHeaderBytes;
  const uint32_t l4 = SignatureOffset(spec.l3) - kUdpHeaderBytes;
  const uint32_t udp_length = len - l4;  // fits in 16 bits: frame_bytes <= 9216
  const uint8_t traffic_class = static_cast<uint8_t>(spec.dscp << 2);  // ECN bits 0 (not-ECT)
  uint64_t pseudo_sum = 0;
  if (spec.l3 == L3::kIpv4) {
    uint8_t* ip = p + l3;
    ip[0] = 0x45;  // version 4, IHL 5 words
    ip[1] = traffic_class;
    StoreBe16(ip + 2, static_cast<uint16_t>(len - l3));  // total length = frame - 18
    // Identification 0 and flags/fragment offset 0, as in the RFC 2544 App. C test frame. The
    // ID only matters for reassembly, and test frames never exceed the path MTU.
    ip[8] = spec.ttl;
    ip[9] = kIpProtoUdp;
    StoreBe32(ip + 12, spec.src_ipv4);
    StoreBe32(ip + 16, spec.dst_ipv4);
    StoreBe16(ip + 10, InternetChecksum(std::span<const uint8_t>(ip, kIpv4HeaderBytes)));
    pseudo_sum =
        Ipv4PseudoHeaderSum(spec.src_ipv4, spec.dst_ipv4, static_cast<uint16_t>(udp_length));
  } else {
    uint8_t* ip = p + l3;
    StoreBe32(ip, 6u << 28 | static_cast<uint32_t>(traffic_class) << 20);  // flow label 0
    StoreBe16(ip + 4, static_cast<uint16_t>(len - l4));                    // payload length
    ip[6] = kIpProtoUdp;                                                   // next header
    ip[7] = spec.ttl;                                                      // hop limit
    std::memcpy(ip + 8, spec.src_ipv6.data(), 16);
    std::memcpy(ip + 24, spec.dst_ipv6.data(), 16);
    pseudo_sum = Ipv6PseudoHeaderSum(ip + 8, ip + 24, udp_length);
  }

  uint8_t* udp = p + l4;
  StoreBe16(udp, spec.src_port);
  StoreBe16(udp + 2, spec.dst_port);
  StoreBe16(udp + 4, static_cast<uint16_t>(udp_length));
  const uint32_t sig_off = SignatureOffset(spec.l3);
  WriteSignature(p + sig_off, sig);
  for (uint32_t o = sig_off + kSignatureBytes; o < len; ++o) p[o] = PayloadPatternByte(o);

  if (spec.l3 == L3::kIpv6 || spec.ipv4_udp_checksum) {
    uint16_t csum =
        ChecksumFinish(ChecksumPartial(std::span<const uint8_t>(udp, udp_length), pseudo_sum));
    // 0 means "no checksum" on the wire, so a computed 0 is sent as its one's-complement
    // equivalent 0xFFFF (RFC 768).
    if (csum == 0) csum = 0xffff;
    StoreBe16(udp + 6, csum);
  }
  return f;
}

uint64_t PayloadPatternPartialSum(uint32_t begin, uint32_t end) {
  // Each byte at frame offset o contributes byte << 8 when o is even (high byte of its
  // word) and byte when o is odd. The pattern repeats every 256 bytes, so whole periods
  // are added in one multiplication and only the ragged ends are walked.
  uint64_t sum = 0;
  uint64_t o = begin;
  const uint64_t e = end;
  if (o >= e) return 0;
  if (o % 2 == 1) {
    sum += PayloadPatternByte(static_cast<uint32_t>(o));
    ++o;
  }
  const uint64_t periods = (e - o) / kPatternPeriodBytes;
  sum += periods * kPatternPeriodSum;
  o += periods * kPatternPeriodBytes;
  for (; o + 1 < e; o += 2) {
    sum += static_cast<uint64_t>(PayloadPatternByte(static_cast<uint32_t>(o))) << 8 |
           PayloadPatternByte(static_cast<uint32_t>(o + 1));
  }
  if (o < e) {
    sum += static_cast<uint64_t>(PayloadPatternByte(static_cast<uint32_t>(o))) << 8;
  }
  return sum;
}

absl::StatusOr<ParsedFrame> ParseFrame(std::span<const uint8_t> data) {
  // Every access below is preceded by a length check against `len`; offsets are kept in
  // 32-bit values derived from at most a few 16-bit header fields, so they cannot wrap.
  const auto error = [](std::string_view layer, const std::string& reason) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", layer, reason));
  };
  const uint8_t* p = data.data();
  if (data.size() > UINT32_MAX) return error("ethernet", "frame larger than 4 GiB");
  const uint32_t len = static_cast<uint32_t>(data.size());

  ParsedFrame out;
  if (len < kEthHeaderBytes) {
    return error("ethernet", absl::StrFormat("frame of %u bytes is shorter than the %u-byte header",
                                             len, kEthHeaderBytes));
  }
  std::memcpy(out.dst_mac.data(), p, 6);
  std::memcpy(out.src_mac.data(), p + 6, 6);
  uint32_t off = 12;
  uint16_t ether_type = LoadBe16(p + off);
  off += 2;
  if (ether_type == kEtherTypeVlan) {
    if (len < off + kVlanTagBytes) {
      return error("vlan",
                   absl::StrFormat("%u bytes left, need %u for the tag", len - off, kVlanTagBytes));
    }
    out.vlan_tci = LoadBe16(p + off);
    ether_type = LoadBe16(p + off + 2);
    off += kVlanTagBytes;
    if (ether_type == kEtherTypeVlan || ether_type == 0x88a8) {
      return error("vlan",
                   absl::StrFormat("nested tag (ether type 0x%04x) is not supported", ether_type));
    }
  }
  out.ether_type = ether_type;

  uint32_t l4 = 0;
  uint32_t l4_len = 0;  // bytes the IP header says follow it
  if (ether_type == kEtherTypeIpv4) {
    out.l3 = L3::kIpv4;
    const uint8_t* ip = p + off;
    if (len - off < kIpv4HeaderBytes) {
      return error("ipv4", absl::StrFormat("%u bytes left, need %u", len - off, kIpv4HeaderBytes));
    }
    const uint32_t version = ip[0] >> 4;
    const uint32_t ihl_words = ip[0] & 0x0f;
    if (version != 4) return error("ipv4", absl::StrFormat("version %u is not 4", version));
    if (ihl_words < 5) {
      return error("ipv4", absl::StrFormat("header length %u words is below 5", ihl_words));
    }
    const uint32_t ihl = ihl_words * 4;
    if (ihl > len - off) {
      return error("ipv4", absl::StrFormat("header length %u bytes exceeds the %u bytes left", ihl,
                                           len - off));
    }
    const uint32_t total_length = LoadBe16(ip + 2);
    if (total_length < ihl) {
      return error("ipv4", absl::StrFormat("total length %u is below the header length %u",
                                           total_length, ihl));
    }
    // Shorter is fine: Ethernet pads short frames up to 60 bytes after the IP packet.
    if (total_length > len - off) {
      return error("ipv4", absl::StrFormat("total length %u exceeds the %u bytes left",
                                           total_length, len - off));
    }
    const uint16_t frag = LoadBe16(ip + 6);
    if ((frag & (kIpv4MoreFragments | kIpv4FragmentOffsetMask)) != 0) {
      // UDP length and checksum cover the whole datagram, which a fragment does not carry.
      return error("ipv4", absl::StrFormat("fragment (offset %u, more fragments %u) is not "
                                           "supported",
                                           (frag & kIpv4FragmentOffsetMask) * 8u,
                                           (frag & kIpv4MoreFragments) ? 1u : 0u));
    }
    if (ip[9] != kIpProtoUdp) {
      return error("ipv4", absl::StrFormat("protocol %u is not UDP (17)", ip[9]));
    }
    out.dscp = ip[1] >> 2;
    out.ttl = ip[8];
    out.src_ipv4 = LoadBe32(ip + 12);
    out.dst_ipv4 = LoadBe32(ip + 16);
    // A header with a correct checksum sums to 0xFFFF (RFC 1071 §1).
    out.ipv4_checksum_ok =
        ChecksumFold(ChecksumPartial(std::span<const uint8_t>(ip, ihl))) == 0xffff;
    l4 = off + ihl;
    l4_len = total_length - ihl;
  } else if (ether_type == kEtherTypeIpv6) {
    out.l3 = L3::kIpv6;
    const uint8_t* ip = p + off;
    if (len - off < kIpv6HeaderBytes) {
      return error("ipv6", absl::StrFormat("%u bytes left, need %u", len - off, kIpv6HeaderBytes));
    }
    const uint32_t version = ip[0] >> 4;
    if (version != 6) return error("ipv6", absl::StrFormat("version %u is not 6", version));
    const uint32_t payload_length = LoadBe16(ip + 4);
    if (payload_length > len - off - kIpv6HeaderBytes) {
      return error("ipv6", absl::StrFormat("payload length %u exceeds the %u bytes left",
                                           payload_length, len - off - kIpv6HeaderBytes));
    }
    if (ip[6] != kIpProtoUdp) {
      return error("ipv6",
                   absl::StrFormat("next header %u is not UDP (17); extension headers are not "
                                   "supported",
                                   ip[6]));
    }
    const uint32_t traffic_class = (LoadBe16(ip) >> 4) & 0xff;
    out.dscp = static_cast<uint8_t>(traffic_class >> 2);
    out.ttl = ip[7];
    std::memcpy(out.src_ipv6.data(), ip + 8, 16);
    std::memcpy(out.dst_ipv6.data(), ip + 24, 16);
    l4 = off + kIpv6HeaderBytes;
    l4_len = payload_length;
  } else {
    return error("ethernet",
                 absl::StrFormat("ether type 0x%04x is not IPv4, IPv6 or 802.1Q", ether_type));
  }

  if (l4_len < kUdpHeaderBytes) {
    return error("udp", absl::StrFormat("%u bytes left, need %u", l4_len, kUdpHeaderBytes));
  }
  const uint8_t* udp = p + l4;
  out.src_port = LoadBe16(udp);
  out.dst_port = LoadBe16(udp + 2);
  out.udp_length = LoadBe16(udp + 4);
  if (out.udp_length < kUdpHeaderBytes) {
    return error("udp", absl::StrFormat("length %u is below the %u-byte header", out.udp_length,
                                        kUdpHeaderBytes));
  }
  // May be shorter than the IP payload (RFC 768 leaves trailing octets to IP); never longer.
  if (out.udp_length > l4_len) {
    return error("udp",
                 absl::StrFormat("length %u exceeds the %u bytes left", out.udp_length, l4_len));
  }
  const uint16_t udp_checksum = LoadBe16(udp + 6);
  out.udp_checksum_present = udp_checksum != 0;
  if (!out.udp_checksum_present) {
    // Optional on IPv4 (RFC 768); mandatory on IPv6 (RFC 8200 §8.1), so 0 there is an error
    // we report through the flag rather than refusing the frame.
    out.udp_checksum_ok = out.l3 == L3::kIpv4;
  } else {
    const uint8_t* ip = p + off;
    const uint64_t pseudo = out.l3 == L3::kIpv4
                                ? Ipv4PseudoHeaderSum(out.src_ipv4, out.dst_ipv4, out.udp_length)
                                : Ipv6PseudoHeaderSum(ip + 8, ip + 24, out.udp_length);
    out.udp_checksum_ok = ChecksumFold(ChecksumPartial(
                              std::span<const uint8_t>(udp, out.udp_length), pseudo)) == 0xffff;
  }
  if (out.udp_length - kUdpHeaderBytes >= kSignatureBytes) {
    Signature sig;
    if (ReadSignature(udp + kUdpHeaderBytes, &sig)) out.signature = sig;
  }
  return out;
}

}  // namespace netrig::packet
