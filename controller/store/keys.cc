#include "controller/store/keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netrig::controller::store::keys {

absl::Status ValidateId(absl::string_view what, absl::string_view id) {
  if (id.empty() || id.size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": must be 1 to 128 characters, got ", id.size()));
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": '", id, "' contains a character outside [A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

std::string RunsPrefix() { return absl::StrCat(kRoot, "runs/"); }
std::string Run(absl::string_view run_id) { return absl::StrCat(RunsPrefix(), run_id); }
std::string TrialsPrefix(absl::string_view run_id) { return absl::StrCat(Run(run_id), "/trials/"); }
std::string Trial(absl::string_view run_id, int64_t n) {
  return absl::StrCat(TrialsPrefix(run_id), absl::StrFormat("%08d", n));
}
std::string RunReport(absl::string_view run_id) { return absl::StrCat(Run(run_id), "/report"); }
std::string AgentsPrefix() { return absl::StrCat(kRoot, "agents/"); }
std::string Agent(absl::string_view agent_id) { return absl::StrCat(AgentsPrefix(), agent_id); }
std::string Request(absl::string_view request_id) {
  return absl::StrCat(kRoot, "requests/", request_id);
}
std::string QueuePrefix() { return absl::StrCat(kRoot, "queue/"); }
std::string QueueEntry(int priority, absl::string_view run_id) {
  return absl::StrCat(QueuePrefix(), absl::StrFormat("%02d", priority), "/", run_id);
}

}  // namespace netrig::controller::store::keys
