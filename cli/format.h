// Text and JSON renderings of the user API messages for netrigctl: tables for `get`, the
// `describe` page, the results report and the live progress line. Pure functions of the
// messages (and of "now" for ages), so they are tested without a server.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::cli {

// Proto3 JSON (camelCase keys, as in the YAML specs), indented, with every field present so
// that scripts can rely on the keys ("verdict": "" rather than a missing key).
std::string ToJson(const google::protobuf::Message& message);

// Left-aligned columns separated by three spaces, kubectl style. Empty cells print as "-".
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& os, absl::string_view indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// RFC 3339 -> time; nullopt for empty or malformed text.
std::optional<absl::Time> ParseTimestamp(absl::string_view rfc3339);
// "45s", "12m", "3h4m", "2d5h"; "-" when `rfc3339` is empty or malformed.
std::string FormatAge(absl::string_view rfc3339, absl::Time now);
std::string FormatAge(absl::Duration d);
// Link speed: 10000000000 -> "10G", 2500000000 -> "2.5G", 100000000 -> "100M"; 0 -> "-".
std::string FormatSpeed(uint64_t bps);
// Fixed point with at most `decimals` decimals, trailing zeros removed: 12.30 -> "12.3", 0 -> "0".
std::string FormatNumber(double value, int decimals);

// Tables of `netrigctl get runs` and `netrigctl get agents`.
void PrintRunsTable(const std::vector<v1::Run>& runs, absl::Time now, std::ostream& os);
void PrintAgentsTable(const std::vector<v1::AgentInfo>& agents, absl::Time now, std::ostream& os);

// The PROGRESS column: "2/3 throughput 512B" while running, "3/3" when done, "-" when unknown.
std::string ProgressCell(const v1::TestRunStatus& status);

// One progress line of `run --wait`: phase, current test, frame size, direction, trial,
// offered rate (% and fps), last loss, frame sizes done. Without a current test: the phase
// and the latest message (progress message or newest condition).
std::string ProgressLine(const v1::Run& run);

// `netrigctl describe run ID`.
void PrintRunDescription(const v1::Run& run, absl::Time now, std::ostream& os);

// `netrigctl results ID`: per direction, one row per frame size (throughput fps, % of line
// rate, Mbit/s, latency min/avg/max/p99 in us, frame-loss curve "100%:12.3 90%:0", back-to-back
// average frames); figures of other tests in a generic table; then the per-trial table.
// The RFC 2544 table per direction, the self-calibration, then up to `max_trial_rows` trials
// (-1: all).
void PrintResults(const v1::RunResults& results, std::ostream& os, int max_trial_rows = -1);

// The one-line outcome of a finished run: "run ID Succeeded, verdict Pass: summary".
std::string OutcomeLine(const v1::Run& run);

}  // namespace netrig::cli
