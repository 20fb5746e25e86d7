// Fuzz target for the frame parsers: ParseFrame (full, control-plane) and FindSignature
// (data-plane probe). Both must survive any input, and they must agree wherever their
// contracts overlap.
//
// Built twice (tests/fuzz/CMakeLists.txt):
//  - frame_fuzzer: libFuzzer binary (clang only), `frame_fuzzer -max_total_time=60 corpus/`.
//  - frame_fuzz_regression: with NETRIG_FUZZ_REGRESSION defined, the same entry point is
//    driven by deterministic gtest cases (valid frames, every truncation, seeded mutations)
//    so every build exercises it, with or without clang.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/packet/frame.h"
#include "lib/packet/signature.h"

#ifdef NETRIG_FUZZ_REGRESSION
#include <algorithm>
#include <iterator>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#endif

namespace netrig::packet {
namespace {

[[noreturn]] void Fail(const char* condition, const uint8_t* data, size_t size) {
  std::fprintf(stderr, "frame_fuzz: property violated: %s\ninput (%zu bytes):", condition, size);
  for (size_t i = 0; i < size; ++i) std::fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", data[i]);
  std::fprintf(stderr, "\n");
  std::abort();
}

#define NB_FUZZ_CHECK(cond)               \
  do {                                    \
    if (!(cond)) Fail(#cond, data, size); \
  } while (0)

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int CheckOne(const uint8_t* data, size_t size) {
  const absl::StatusOr<ParsedFrame> parsed = ParseFrame(std::span<const uint8_t>(data, size));
  // FindSignature takes a 32-bit length; larger inputs are not frames.
  if (size > UINT32_MAX) return 0;
  const int32_t found = FindSignature(data, static_cast<uint32_t>(size));

  // FindSignature: either -1 or an in-bounds offset at which the magic really is.
  NB_FUZZ_CHECK(found >= -1);
  if (found >= 0) {
    NB_FUZZ_CHECK(static_cast<size_t>(found) + kSignatureBytes <= size);
    NB_FUZZ_CHECK(LoadBe16(data + found) == kSignatureMagic);
  }

  if (!parsed.ok()) {
    // Errors name the layer.
    const auto message = parsed.status().message();  // absl::string_view in Debian's Abseil
    const std::string_view msg(message.data(), message.size());
    NB_FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    NB_FUZZ_CHECK(StartsWith(msg, "ethernet: ") || StartsWith(msg, "vlan: ") ||
                  StartsWith(msg, "ipv4: ") || StartsWith(msg, "ipv6: ") ||
                  StartsWith(msg, "udp: "));
    // Nothing else is implied: FindSignature skips the length and fragment-flag checks that
    // make ParseFrame fail, so it may still find a signature here.
    return 0;
  }

  const ParsedFrame& p = *parsed;
  NB_FUZZ_CHECK(p.ether_type == (p.l3 == L3::kIpv4 ? kEtherTypeIpv4 : kEtherTypeIpv6));
  NB_FUZZ_CHECK(p.l3 == L3::kIpv4 || !p.ipv4_checksum_ok);
  NB_FUZZ_CHECK(p.udp_checksum_present || p.udp_checksum_ok == (p.l3 == L3::kIpv4));
  NB_FUZZ_CHECK(p.udp_length >= kUdpHeaderBytes);

  // Where ParseFrame put the UDP header, recomputed from the bytes it accepted.
  const uint32_t l3 = kEthHeaderBytes + (p.vlan_tci.has_value() ? kVlanTagBytes : 0);
  const uint32_t l4 = l3 + (p.l3 == L3::kIpv4 ? (data[l3] & 0x0fu) * 4 : kIpv6HeaderBytes);
  const uint32_t sig = l4 + kUdpHeaderBytes;
  NB_FUZZ_CHECK(l4 + p.udp_length <= size);
  NB_FUZZ_CHECK(LoadBe16(data + l4 + 4) == p.udp_length);

  // A frame ParseFrame accepts passes every structural check FindSignature makes (ether type,
  // one VLAN tag, version, IHL, protocol, fragment offset), so FindSignature returns exactly
  // `sig` when the 18 bytes there exist and carry the magic, and -1 otherwise — even when
  // the magic sits in Ethernet padding beyond the UDP datagram.
  const bool magic_at_sig =
      size >= static_cast<size_t>(sig) + kSignatureBytes && LoadBe16(data + sig) == kSignatureMagic;
  NB_FUZZ_CHECK(found == (magic_at_sig ? static_cast<int32_t>(sig) : -1));

  // ParseFrame reports a signature exactly when it lies inside the UDP datagram.
  const bool inside = p.udp_length >= kUdpHeaderBytes + kSignatureBytes;
  NB_FUZZ_CHECK(p.signature.has_value() == (inside && magic_at_sig));
  if (p.signature.has_value()) {
    Signature s;
    NB_FUZZ_CHECK(ReadSignature(data + found, &s));
    NB_FUZZ_CHECK(s == *p.signature);
  }
  return 0;
}

}  // namespace
}  // namespace netrig::packet

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return netrig::packet::CheckOne(data, size);
}

#ifdef NETRIG_FUZZ_REGRESSION
// ---- Deterministic replay (gtest) ---------------------------------------------------------------
namespace netrig::packet {
namespace {

using Bytes = std::vector<uint8_t>;

// Runs the fuzz entry point on an exactly-sized heap copy so ASan catches any read past
// `size` (a std::vector may have spare capacity that hides an over-read).
void Replay(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[std::max<size_t>(size, 1)]);
  std::copy(data, data + size, copy.get());
  LLVMFuzzerTestOneInput(copy.get(), size);
}
void Replay(const Bytes& b) { Replay(b.data(), b.size()); }

Bytes InsertVlan(const Bytes& frame, uint16_t tci) {
  Bytes out(frame.begin(), frame.begin() + 12);
  out.insert(out.end(), {0x81, 0x00, static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)});
  out.insert(out.end(), frame.begin() + 12, frame.end());
  return out;
}

// Valid frames: both L3s, UDP checksum on/off, with and without a VLAN tag.
std::vector<Bytes> ValidFrames(uint32_t max_bytes, uint32_t step) {
  std::vector<Bytes> frames;
  uint32_t n = 0;
  for (L3 l3 : {L3::kIpv4, L3::kIpv6}) {
    for (uint32_t size = MinFrameBytes(l3); size <= max_bytes; size += step) {
      FrameSpec spec;
      spec.dst_mac = {0x02, 0, 0, 0, 0, 0x02};
      spec.src_mac = {0x02, 0, 0, 0, 0, 0x01};
      spec.l3 = l3;
      spec.src_ipv4 = 0xc6120001 + n;
      spec.dst_ipv4 = 0xc6130001;
      spec.src_ipv6[0] = 0x20;
      spec.src_ipv6[15] = static_cast<uint8_t>(n);
      spec.dst_ipv6[0] = 0x20;
      spec.dst_ipv6[15] = 2;
      spec.ipv4_udp_checksum = n % 2 == 0;
      spec.dscp = static_cast<uint8_t>(n % 64);
      spec.frame_bytes = size;
      const absl::StatusOr<Bytes> f =
          BuildFrame(spec, Signature{.flow_id = n, .seq = n * 7, .tx_ns = n * 1000003ull});
      EXPECT_TRUE(f.ok()) << f.status();
      if (!f.ok()) continue;
      frames.push_back(*f);
      frames.push_back(InsertVlan(*f, static_cast<uint16_t>(n)));
      ++n;
    }
  }
  return frames;
}

TEST(FrameFuzzRegressionTest, ValidFramesOfManySizes) {
  const std::vector<Bytes> frames = ValidFrames(9216, 7);
  ASSERT_GT(frames.size(), 2000u);
  for (const Bytes& f : frames) {
    // Sanity: the property checks only bite if these really are probes.
    ASSERT_GE(FindSignature(f.data(), static_cast<uint32_t>(f.size())), 0);
    Replay(f);
  }
}

TEST(FrameFuzzRegressionTest, EveryTruncationOfValidFrames) {
  for (const Bytes& f : ValidFrames(600, 37)) {
    for (size_t len = 0; len <= f.size(); ++len) Replay(f.data(), len);
  }
}

// Offsets whose mutation steers the parsers into their interesting branches: ether type,
// VLAN tag, version/IHL, lengths, fragment field, protocol / next header, UDP length.
constexpr size_t kHotOffsets[] = {12, 13, 14, 15, 16, 17, 18, 19, 20,
                                  21, 23, 38, 39, 42, 43, 58, 59};
constexpr uint8_t kInterestingBytes[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x11, 0x1a, 0x20, 0x40,
                                         0x45, 0x46, 0x4e, 0x52, 0x60, 0x81, 0x86, 0xdd, 0xff};

Bytes Mutate(const Bytes& base, std::mt19937_64& rng) {
  Bytes f = base;
  const int mutations = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < mutations && !f.empty(); ++m) {
    switch (rng() % 6) {
      case 0:  // bit flip anywhere
        f[rng() % f.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // random byte anywhere
        f[rng() % f.size()] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // interesting byte at a header offset
        const size_t off = kHotOffsets[rng() % std::size(kHotOffsets)];
        if (off < f.size()) {
          f[off] = kInterestingBytes[rng() % std::size(kInterestingBytes)];
        }
        break;
      }
      case 3:  // small +/- change of a header byte (walks length fields across their bounds)
      {
        const size_t off = kHotOffsets[rng() % std::size(kHotOffsets)];
        if (off < f.size()) f[off] = static_cast<uint8_t>(f[off] + static_cast<int>(rng() % 9) - 4);
        break;
      }
      case 4:  // truncate
        f.resize(rng() % (f.size() + 1));
        break;
      case 5:  // append junk (Ethernet padding / trailers)
        for (size_t n = rng() % 32; n > 0; --n) f.push_back(static_cast<uint8_t>(rng()));
        break;
    }
  }
  return f;
}

TEST(FrameFuzzRegressionTest, SeededRandomMutationsOfValidFrames) {
  const std::vector<Bytes> frames = ValidFrames(1600, 23);
  std::mt19937_64 rng(0x6e657472696721);  // fixed seed: the same 200,000 inputs every run
  // Outcome counts: prove the mutations reach every branch family, so a generator that
  // degenerates (e.g. always producing garbage) fails this test instead of passing vacuously.
  size_t parse_ok_with_sig = 0, parse_ok_without_sig = 0, parse_err = 0, probe_only = 0;
  for (int i = 0; i < 200'000; ++i) {
    const Bytes f = Mutate(frames[rng() % frames.size()], rng);
    Replay(f);
    const absl::StatusOr<ParsedFrame> p = ParseFrame(f);
    const int32_t found = FindSignature(f.data(), static_cast<uint32_t>(f.size()));
    if (!p.ok()) {
      ++parse_err;
      if (found >= 0) ++probe_only;
    } else if (p->signature.has_value()) {
      ++parse_ok_with_sig;
    } else {
      ++parse_ok_without_sig;
    }
  }
  EXPECT_GT(parse_ok_with_sig, 10'000u);
  EXPECT_GT(parse_ok_without_sig, 100u);
  EXPECT_GT(parse_err, 10'000u);
  EXPECT_GT(probe_only, 100u);  // FindSignature accepts what ParseFrame rejects
}

TEST(FrameFuzzRegressionTest, HandPickedEdgeCases) {
  Replay(nullptr, 0);
  Replay(Bytes(13, 0));
  Replay(Bytes(14, 0));
  Replay(Bytes(60, 0xff));
  Bytes vlan_only(18, 0);
  vlan_only[12] = 0x81;
  Replay(vlan_only);
  // IHL 15 with everything else valid-looking, at the minimum probe length.
  Bytes ihl15(60, 0);
  ihl15[12] = 0x08;
  ihl15[14] = 0x4f;
  ihl15[23] = 17;
  Replay(ihl15);
}

}  // namespace
}  // namespace netrig::packet
#endif  // NETRIG_FUZZ_REGRESSION
