// Validation of TestSuite, AgentPool and SutTemplate.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"
#include "lib/spec/validation.h"

namespace netrig::spec {

using internal::CheckDuration;
using internal::DurationRule;
using internal::Issues;
using internal::Quote;

namespace {
constexpr int kMaxSuiteRuns = 256;
constexpr uint32_t kMaxCpuId = 4095;
constexpr uint32_t kMaxAgentsPerNode = 64;
}  // namespace

std::vector<FieldError> ValidateTestSuite(const v1::TestSuite& suite,
                                          std::vector<FieldError>* warnings) {
  std::vector<FieldError> errors;
  Issues issues(&errors, warnings);
  internal::CheckTypeMeta(issues, suite.api_version(), suite.kind(), "TestSuite", false);
  internal::CheckObjectMeta(issues, suite.metadata(), "metadata");
  if (!suite.has_spec()) {
    issues.Error("spec", "required");
    return errors;
  }
  const v1::TestSuiteSpec& spec = suite.spec();
  internal::CheckLevel(issues, "spec.level", spec.level());
  if (!spec.schedule().empty()) {
    if (absl::Status s = ValidateCron(spec.schedule()); !s.ok()) {
      issues.Error("spec.schedule", std::string(s.message()));
    }
  }
  if (!spec.budget().empty()) {
    CheckDuration(issues, "spec.budget", spec.budget(),
                  DurationRule{absl::ZeroDuration(), true, absl::Hours(7 * 24)});
  }
  if (spec.runs().empty()) {
    issues.Error("spec.runs", "at least one run is required");
  } else if (spec.runs_size() > kMaxSuiteRuns) {
    issues.Error("spec.runs", absl::StrCat(spec.runs_size(), " runs; at most ", kMaxSuiteRuns));
    return errors;
  }
  std::map<std::string, int> names;
  for (int i = 0; i < spec.runs_size(); ++i) {
    const v1::TestRunTemplate& t = spec.runs(i);
    const std::string rp = IndexPath("spec.runs", static_cast<size_t>(i));
    if (t.name().empty()) {
      issues.Error(JoinPath(rp, "name"), "required");
    } else if (!IsDnsLabel(t.name())) {
      issues.Error(JoinPath(rp, "name"),
                   absl::StrCat(Quote(t.name()), " is not a valid run name: lowercase letters, "
                                                 "digits and '-', at most 63 characters"));
    } else if (auto [it, inserted] = names.emplace(t.name(), i); !inserted) {
      issues.Error(JoinPath(rp, "name"),
                   absl::StrCat("duplicate run name ", Quote(t.name()), " (also ",
                                IndexPath("spec.runs", static_cast<size_t>(it->second)), ")"));
    }
    internal::CheckLabels(issues, t.labels(), JoinPath(rp, "labels"), true);
    if (!t.has_spec()) {
      issues.Error(JoinPath(rp, "spec"), "required");
      continue;
    }
    ValidateTestRunSpec(t.spec(), JoinPath(rp, "spec"), &errors, warnings);
  }
  if (suite.has_status()) {
    const v1::TestSuiteStatus& s = suite.status();
    if (!s.last_schedule_time().empty()) {
      internal::CheckTimestamp(issues, "status.lastScheduleTime", s.last_schedule_time());
    }
    internal::CheckConditions(issues, s.conditions(), "status.conditions");
  }
  return errors;
}

std::vector<FieldError> ValidateAgentPool(const v1::AgentPool& pool,
                                          std::vector<FieldError>* warnings) {
  std::vector<FieldError> errors;
  Issues issues(&errors, warnings);
  internal::CheckTypeMeta(issues, pool.api_version(), pool.kind(), "AgentPool", false);
  internal::CheckObjectMeta(issues, pool.metadata(), "metadata");
  if (!pool.has_spec()) {
    issues.Error("spec", "required");
    return errors;
  }
  const v1::AgentPoolSpec& spec = pool.spec();
  internal::CheckLabels(issues, spec.node_selector(), "spec.nodeSelector", true);
  if (!spec.sriov_resource().empty()) {
    // Extended resource name: <domain>/<name>, e.g. intel.com/sriov_netdevice.
    const std::string& r = spec.sriov_resource();
    const size_t slash = r.find('/');
    if (slash == std::string::npos || !CheckQualifiedName(r).empty()) {
      issues.Error("spec.sriovResource",
                   absl::StrCat(Quote(r), " is not an extended resource name such as "
                                          "intel.com/sriov_netdevice"));
    }
  }
  if (!spec.hugepages().empty()) {
    absl::StatusOr<uint64_t> bytes = ParseByteQuantity(spec.hugepages());
    if (!bytes.ok()) {
      issues.Error("spec.hugepages", std::string(bytes.status().message()));
    } else if (*bytes == 0) {
      issues.Error("spec.hugepages", "must be greater than 0");
    } else if (*bytes % (uint64_t{1} << 30) != 0) {
      issues.Error("spec.hugepages",
                   absl::StrCat(spec.hugepages(), " is not a whole number of 1 GiB hugepages"));
    }
  }
  std::map<uint32_t, int> cpus;
  for (int i = 0; i < spec.cpus_size(); ++i) {
    const std::string cp = IndexPath("spec.cpus", static_cast<size_t>(i));
    const uint32_t cpu = spec.cpus(i);
    if (cpu > kMaxCpuId) {
      issues.Error(cp, absl::StrCat(cpu, " is above the highest CPU id ", kMaxCpuId));
    } else if (auto [it, inserted] = cpus.emplace(cpu, i); !inserted) {
      issues.Error(cp, absl::StrCat("duplicate CPU ", cpu, " (also ",
                                    IndexPath("spec.cpus", static_cast<size_t>(it->second)), ")"));
    }
  }
  if (spec.has_agents_per_node() &&
      (spec.agents_per_node() < 1 || spec.agents_per_node() > kMaxAgentsPerNode)) {
    issues.Error("spec.agentsPerNode", absl::StrCat("must be between 1 and ", kMaxAgentsPerNode,
                                                    ", got ", spec.agents_per_node()));
  }
  return errors;
}

std::vector<FieldError> ValidateSutTemplate(const v1::SutTemplate& tmpl,
                                            std::vector<FieldError>* warnings) {
  std::vector<FieldError> errors;
  Issues issues(&errors, warnings);
  internal::CheckTypeMeta(issues, tmpl.api_version(), tmpl.kind(), "SutTemplate", false);
  internal::CheckObjectMeta(issues, tmpl.metadata(), "metadata");
  if (!tmpl.has_spec()) {
    issues.Error("spec", "required");
    return errors;
  }
  const v1::SutTemplateSpec& spec = tmpl.spec();
  if (spec.kind().empty()) {
    issues.Error("spec.kind", "required (netns, pod or kubevirt)");
  } else {
    internal::CheckOneOf(issues, "spec.kind", spec.kind(), {"netns", "pod", "kubevirt"},
                         "SUT kind");
  }
  if (spec.recipe().empty()) issues.Error("spec.recipe", "required");
  std::map<std::string, int> events;
  for (int i = 0; i < spec.events_size(); ++i) {
    const std::string ep = IndexPath("spec.events", static_cast<size_t>(i));
    const std::string& e = spec.events(i);
    if (!IsDnsLabel(e)) {
      issues.Error(ep, absl::StrCat(Quote(e), " is not a valid event name: lowercase letters, "
                                              "digits and '-'"));
    } else if (auto [it, inserted] = events.emplace(e, i); !inserted) {
      issues.Error(ep, absl::StrCat("duplicate event ", Quote(e), " (also ",
                                    IndexPath("spec.events", static_cast<size_t>(it->second)), ")"));
    }
  }
  for (const auto& [key, value] : spec.parameters()) {
    if (key.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(key[0]))) {
      issues.Error(MapKeyPath("spec.parameters", key), "parameter names start with a letter");
    }
  }
  return errors;
}

}  // namespace netrig::spec
