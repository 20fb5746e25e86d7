// 64-bit FNV-1a: a hash that is the same in every process and build, for names and fingerprints
// that must survive a restart (SUT namespaces, agent workload spec hashes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace netrig::common {

inline uint64_t StableHash(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// The first `digits` (at most 16) lower-case hex digits of StableHash(s), zero-padded.
inline std::string HashHex(std::string_view s, size_t digits = 16) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(StableHash(s)));
  return std::string(buf, digits > 16 ? 16 : digits);
}

}  // namespace netrig::common
