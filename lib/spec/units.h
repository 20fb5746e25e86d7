// Parsers and format checks for the human-unit strings of the netrig schema. Each returns an
// error message without a path; the validators prefix the field path.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace netrig::spec {

// "30s", "500ms", "2m", "1h30m", "0". A bare number other than 0 is an error (no unit).
// Infinite and negative durations are errors.
absl::StatusOr<absl::Duration> ParseDurationText(absl::string_view text);
// "5%" or "5" -> 5.0. Finite, no range check.
absl::StatusOr<double> ParsePercent(absl::string_view text);
// Kubernetes quantity of bytes: "1Gi", "512Mi", "2G", "1073741824". Integral result.
absl::StatusOr<uint64_t> ParseByteQuantity(absl::string_view text);
// Standard 5-field cron (minute hour day-of-month month day-of-week) with *, */n, a-b, a-b/n,
// lists, month and day names (jan, mon), or a macro (@hourly @daily @midnight @weekly @monthly
// @yearly @annually). OK or InvalidArgument naming the field.
absl::Status ValidateCron(absl::string_view text);

// Kubernetes name formats (RFC 1123).
bool IsDnsLabel(absl::string_view s);      // [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63
bool IsDnsSubdomain(absl::string_view s);  // labels joined by '.', <= 253
// Label/annotation key: [prefix/]name, name <= 63 of [A-Za-z0-9_.-] starting/ending alnum,
// prefix a DNS subdomain. Empty string when valid, else the reason.
std::string CheckQualifiedName(absl::string_view key);
// Label value: empty or <= 63 of [A-Za-z0-9_.-] starting/ending alnum.
std::string CheckLabelValue(absl::string_view value);

// Formats a duration the way users write it: "2s", "1m30s", "500ms".
std::string HumanDuration(absl::Duration d);

}  // namespace netrig::spec
