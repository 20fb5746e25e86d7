// Log lines of netrig-operator on stderr: "2026-11-22T22:30:00.123Z I testrun default/x: ...".
// One fprintf per line, so lines of concurrent workers do not interleave. (Debian's Abseil
// predates absl/log.)
#pragma once

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netrig::op {

enum class Severity : char { kInfo = 'I', kWarning = 'W', kError = 'E' };

inline void Log(Severity severity, absl::string_view message) {
  const std::string now =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::fprintf(stderr, "%s %c %.*s\n", now.c_str(), static_cast<char>(severity),
               static_cast<int>(message.size()), message.data());
}

}  // namespace netrig::op
