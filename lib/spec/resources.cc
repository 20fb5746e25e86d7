// Validation of TestSuite, AgentPool and SutTemplate.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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
constexpr uint32_t kMaxVmCpus = 256;

// A Kubernetes resource quantity (resource.Quantity): an unsigned decimal number ("2", "0.5",
// ".5") followed by nothing, a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix
// (n u m k M G T P E) or an exponent (e3, E-2). "" when valid, else the reason.
std::string CheckQuantity(absl::string_view q) {
  const std::string expected =
      absl::StrCat("expected a quantity such as 2, 500m, 512Mi or 1Gi, got ", Quote(q));
  size_t i = 0, digits = 0;
  while (i < q.size() && absl::ascii_isdigit(static_cast<unsigned char>(q[i]))) ++i, ++digits;
  if (i < q.size() && q[i] == '.') {
    ++i;
    while (i < q.size() && absl::ascii_isdigit(static_cast<unsigned char>(q[i]))) ++i, ++digits;
  }
  if (digits == 0) return expected;
  const absl::string_view suffix = q.substr(i);
  static const std::set<std::string, std::less<>> kSuffixes = {
      "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (kSuffixes.count(suffix)) return "";
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    absl::string_view exp = suffix.substr(1);
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
    if (!exp.empty() && std::all_of(exp.begin(), exp.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        })) {
      return "";
    }
  }
  return expected;
}

// SutTemplate resources: requests = limits, so the keys are resource names ("cpu", "memory",
// "hugepages-1Gi", "intel.com/sriov_netdevice") and the values quantities.
void CheckSutResources(Issues& issues,
                       const google::protobuf::Map<std::string, std::string>& resources) {
  for (const auto& [name, value] : resources) {
    const std::string path = MapKeyPath("spec.pod.resources", name);
    if (std::string why = CheckQualifiedName(name); !why.empty()) {
      issues.Error(path, absl::StrCat("invalid resource name: ", why));
    }
    if (std::string why = CheckQuantity(value); !why.empty()) issues.Error(path, why);
  }
}

// Multus attachments: a NetworkAttachmentDefinition name, optionally "<namespace>/<name>".
void CheckSutNetworks(Issues& issues, const std::string& path,
                      const google::protobuf::RepeatedPtrField<std::string>& networks) {
  for (int i = 0; i < networks.size(); ++i) {
    const std::string& n = networks[i];
    const size_t slash = n.find('/');
    const bool valid = slash == std::string::npos
                           ? IsDnsSubdomain(n)
                           : IsDnsLabel(absl::string_view(n).substr(0, slash)) &&
                                 IsDnsSubdomain(absl::string_view(n).substr(slash + 1));
    if (!valid) {
      issues.Error(IndexPath(path, static_cast<size_t>(i)),
                   absl::StrCat(Quote(n), " is not a network attachment name: <name> or "
                                          "<namespace>/<name>, lowercase letters, digits, '-' "
                                          "and '.'"));
    }
  }
}

// Container environment variable names (what Kubernetes accepts: [-._a-zA-Z][-._a-zA-Z0-9]*);
// NETRIG_PARAM_* is reserved for the template parameters.
std::string CheckEnvName(absl::string_view name) {
  if (name.empty()) return "environment variable names must not be empty";
  const auto allowed = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  };
  if (absl::ascii_isdigit(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return absl::StrCat(Quote(name), " is not a valid environment variable name: letters, "
                                     "digits, '_', '-' and '.', not starting with a digit");
  }
  if (absl::StartsWith(name, "NETRIG_PARAM_")) {
    return "the NETRIG_PARAM_ prefix is reserved for the template parameters";
  }
  return "";
}

// An image reference as a container runtime takes it: no whitespace, not empty.
std::string CheckImageReference(absl::string_view image) {
  for (char c : image) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return absl::StrCat(Quote(image), " is not an image reference (no whitespace allowed)");
    }
  }
  return "";
}
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

namespace {
constexpr uint32_t kMaxReplicas = 1000;
constexpr uint32_t kMinAgentCpus = 2;  // --lcores auto: a main lcore and one worker
constexpr uint32_t kMaxAgentCpus = 256;
constexpr uint64_t kMinAgentMemory = uint64_t{256} << 20;
constexpr uint32_t kMaxVfsPerAgent = 64;
constexpr uint32_t kDefaultPorts = 2;  // portNames default: p0, p1

// netrig-agent flags the operator derives from the pool; spec.extraArgs must not repeat them.
struct ManagedFlag {
  const char* flag;
  const char* from;
};
constexpr ManagedFlag kManagedFlags[] = {
    {"--controller", "its --controller-address"},
    {"--id", "the pod name"},
    {"--label", "spec.labels"},
    {"--sriov-resource", "spec.sriovResource"},
    {"--port-names", "spec.portNames"},
    {"--lcores", "the pod's cpuset (spec.cpu)"},
    {"--workers", "spec.cpu"},
    {"--no-huge", "spec.hugepages"},
    {"--mem", "spec.hugepages or spec.memory"},
    {"--metrics-address", "its probes (port 9465)"},
};

// An agent port given directly (--port name=..,pmd=..): a pool without SR-IOV.
bool HasPortArg(const google::protobuf::RepeatedPtrField<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--port" || a.rfind("--port=", 0) == 0) return true;
  }
  return false;
}

// A Multus network selection element: [namespace/]name[@interface].
bool IsNetworkReference(absl::string_view ref) {
  if (const size_t at = ref.find('@'); at != absl::string_view::npos) {
    const absl::string_view iface = ref.substr(at + 1);
    if (iface.empty() || iface.size() > 15) return false;  // IFNAMSIZ - 1
    ref = ref.substr(0, at);
  }
  if (const size_t slash = ref.find('/'); slash != absl::string_view::npos) {
    if (!IsDnsLabel(ref.substr(0, slash))) return false;
    ref = ref.substr(slash + 1);
  }
  return IsDnsSubdomain(ref);
}
}  // namespace

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
  } else if (!HasPortArg(spec.extra_args())) {
    issues.Warn("spec.sriovResource",
                "not set: the agents get no ports unless spec.extraArgs give --port");
  }

  uint64_t page_bytes = uint64_t{1} << 30;
  std::string page_words = "1 GiB";
  if (!spec.hugepage_size().empty() &&
      internal::CheckOneOf(issues, "spec.hugepageSize", spec.hugepage_size(), {"1Gi", "2Mi"},
                           "hugepage size") &&
      spec.hugepage_size() == "2Mi") {
    page_bytes = uint64_t{2} << 20;
    page_words = "2 MiB";
  }
  if (!spec.hugepages().empty()) {
    absl::StatusOr<uint64_t> bytes = ParseByteQuantity(spec.hugepages());
    if (!bytes.ok()) {
      issues.Error("spec.hugepages", std::string(bytes.status().message()));
    } else if (*bytes == 0) {
      issues.Error("spec.hugepages", "must be greater than 0");
    } else if (*bytes % page_bytes != 0) {
      issues.Error("spec.hugepages", absl::StrCat(spec.hugepages(), " is not a whole number of ",
                                                  page_words, " hugepages"));
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

  // Where the agents run: a Deployment of `replicas` (or scaled by the queue), or a DaemonSet.
  bool daemonset = false;
  if (!spec.mode().empty() &&
      internal::CheckOneOf(issues, "spec.mode", spec.mode(), {"Deployment", "DaemonSet"}, "mode")) {
    daemonset = spec.mode() == "DaemonSet";
  }
  if (spec.has_agents_per_node() &&
      (spec.agents_per_node() < 1 || spec.agents_per_node() > kMaxAgentsPerNode)) {
    issues.Error("spec.agentsPerNode", absl::StrCat("must be between 1 and ", kMaxAgentsPerNode,
                                                    ", got ", spec.agents_per_node()));
  } else if (daemonset && spec.agents_per_node() > 1) {
    issues.Error("spec.agentsPerNode",
                 "a DaemonSet runs one agent per node; use mode Deployment for more");
  }
  if (spec.has_replicas()) {
    if (daemonset) {
      issues.Error("spec.replicas",
                   "only for mode Deployment (a DaemonSet runs one agent per selected node)");
    } else if (spec.replicas() > kMaxReplicas) {
      issues.Error("spec.replicas",
                   absl::StrCat(spec.replicas(), " is above the maximum of ", kMaxReplicas));
    } else if (spec.has_scaling()) {
      issues.Warn("spec.replicas", "ignored: spec.scaling sets the number of agents");
    }
  }
  if (spec.has_scaling()) {
    const v1::AgentPoolScaling& s = spec.scaling();
    if (daemonset) {
      issues.Error("spec.scaling", "only for mode Deployment (a DaemonSet is not scaled)");
    }
    if (s.max_replicas() == 0) {
      issues.Error("spec.scaling.maxReplicas", "required (at least 1)");
    } else if (s.max_replicas() > kMaxReplicas) {
      issues.Error("spec.scaling.maxReplicas",
                   absl::StrCat(s.max_replicas(), " is above the maximum of ", kMaxReplicas));
    } else if (s.min_replicas() > s.max_replicas()) {
      issues.Error("spec.scaling.minReplicas", absl::StrCat(s.min_replicas(),
                                                            " is above maxReplicas ",
                                                            s.max_replicas()));
    }
    if (s.has_queued_runs_per_agent() && s.queued_runs_per_agent() == 0) {
      issues.Error("spec.scaling.queuedRunsPerAgent", "must be at least 1");
    }
  }

  // What each agent pod gets.
  if (!spec.image().empty() && (spec.image().find_first_of(" \t\r\n") != std::string::npos ||
                                spec.image().front() == '-')) {
    issues.Error("spec.image", absl::StrCat(Quote(spec.image()),
                                            " is not an image reference such as "
                                            "registry.example/netrig-agent:0.1.0"));
  }
  if (spec.has_cpu() && (spec.cpu() < kMinAgentCpus || spec.cpu() > kMaxAgentCpus)) {
    issues.Error("spec.cpu",
                 absl::StrCat("must be between ", kMinAgentCpus, " and ", kMaxAgentCpus,
                              " whole CPUs (a main lcore plus at least one worker), got ",
                              spec.cpu()));
  }
  if (!spec.memory().empty()) {
    absl::StatusOr<uint64_t> bytes = ParseByteQuantity(spec.memory());
    if (!bytes.ok()) {
      issues.Error("spec.memory", std::string(bytes.status().message()));
    } else if (*bytes < kMinAgentMemory) {
      issues.Error("spec.memory",
                   absl::StrCat(spec.memory(), " is below the 256Mi an agent needs"));
    }
  }
  std::map<std::string, int> port_names;
  for (int i = 0; i < spec.port_names_size(); ++i) {
    const std::string pp = IndexPath("spec.portNames", static_cast<size_t>(i));
    const std::string& n = spec.port_names(i);
    if (!IsDnsLabel(n)) {
      issues.Error(pp, absl::StrCat(Quote(n), " is not a valid port name: lowercase letters, "
                                              "digits and '-', at most 63 characters"));
    } else if (auto [it, inserted] = port_names.emplace(n, i); !inserted) {
      issues.Error(pp, absl::StrCat("duplicate port name ", Quote(n), " (also ",
                                    IndexPath("spec.portNames", static_cast<size_t>(it->second)),
                                    ")"));
    }
  }
  const uint32_t ports = spec.port_names().empty() ? kDefaultPorts
                                                   : static_cast<uint32_t>(spec.port_names_size());
  if (spec.has_sriov_count()) {
    if (spec.sriov_count() < 1 || spec.sriov_count() > kMaxVfsPerAgent) {
      issues.Error("spec.sriovCount", absl::StrCat("must be between 1 and ", kMaxVfsPerAgent,
                                                   ", got ", spec.sriov_count()));
    } else if (spec.sriov_count() < ports) {
      issues.Error("spec.sriovCount",
                   absl::StrCat(spec.sriov_count(), " VFs for ", ports,
                                " ports (spec.portNames): each port needs its own VF"));
    }
  }
  for (int i = 0; i < spec.networks_size(); ++i) {
    const std::string np = IndexPath("spec.networks", static_cast<size_t>(i));
    if (!IsNetworkReference(spec.networks(i))) {
      issues.Error(np, absl::StrCat(Quote(spec.networks(i)),
                                    " is not a NetworkAttachmentDefinition reference: "
                                    "[namespace/]name[@interface]"));
    }
  }
  if (!spec.networks().empty() && static_cast<uint32_t>(spec.networks_size()) != ports) {
    issues.Error("spec.networks",
                 absl::StrCat(spec.networks_size(), " networks for ", ports,
                              " ports (spec.portNames): one network per port, in port order"));
  }
  internal::CheckLabels(issues, spec.labels(), "spec.labels", true);
  if (spec.labels().count("pool") > 0) {
    issues.Error(MapKeyPath("spec.labels", "pool"),
                 "reserved: every agent gets pool=<the AgentPool's name>");
  }
  if (!spec.service_account().empty() && !IsDnsSubdomain(spec.service_account())) {
    issues.Error("spec.serviceAccount",
                 absl::StrCat(Quote(spec.service_account()), " is not a valid ServiceAccount name"));
  }
  if (!spec.priority_class().empty() && !IsDnsSubdomain(spec.priority_class())) {
    issues.Error("spec.priorityClass", absl::StrCat(Quote(spec.priority_class()),
                                                    " is not a valid PriorityClass name"));
  }
  for (int i = 0; i < spec.extra_args_size(); ++i) {
    const std::string ap = IndexPath("spec.extraArgs", static_cast<size_t>(i));
    const std::string& arg = spec.extra_args(i);
    if (arg.empty()) {
      issues.Error(ap, "empty argument");
      continue;
    }
    const std::string flag = arg.substr(0, arg.find('='));
    for (const ManagedFlag& m : kManagedFlags) {
      if (flag == m.flag) {
        issues.Error(ap, absl::StrCat(flag, " is set by the operator from ", m.from));
      }
    }
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
  if (spec.kind() == "netns" && spec.recipe().empty()) {
    issues.Error("spec.recipe", "required for kind netns (the built-in recipe to run)");
  }
  if (spec.kind() == "pod") {
    if (spec.pod().image().empty()) {
      issues.Error("spec.pod.image", "required for kind pod (the SUT's container image)");
    } else if (std::string why = CheckImageReference(spec.pod().image()); !why.empty()) {
      issues.Error("spec.pod.image", why);
    }
    CheckSutNetworks(issues, "spec.pod.networks", spec.pod().networks());
    CheckSutResources(issues, spec.pod().resources());
    internal::CheckLabels(issues, spec.pod().node_selector(), "spec.pod.nodeSelector", true);
    for (const auto& [name, value] : spec.pod().env()) {
      if (std::string why = CheckEnvName(name); !why.empty()) {
        issues.Error(MapKeyPath("spec.pod.env", name), why);
      }
    }
  } else if (spec.has_pod()) {
    issues.Warn("spec.pod", absl::StrCat("ignored: only used with kind pod, not ",
                                         Quote(spec.kind())));
  }
  if (spec.kind() == "kubevirt") {
    const v1::SutVmTemplate& vm = spec.vm();
    if (vm.container_disk().empty()) {
      issues.Error("spec.vm.containerDisk", "required for kind kubevirt (the root disk image)");
    } else if (std::string why = CheckImageReference(vm.container_disk()); !why.empty()) {
      issues.Error("spec.vm.containerDisk", why);
    }
    if (vm.has_cpus() && (vm.cpus() < 1 || vm.cpus() > kMaxVmCpus)) {
      issues.Error("spec.vm.cpus",
                   absl::StrCat("must be between 1 and ", kMaxVmCpus, ", got ", vm.cpus()));
    }
    if (!vm.memory().empty()) {
      absl::StatusOr<uint64_t> bytes = ParseByteQuantity(vm.memory());
      if (!bytes.ok()) {
        issues.Error("spec.vm.memory", std::string(bytes.status().message()));
      } else if (*bytes == 0) {
        issues.Error("spec.vm.memory", "must be greater than 0");
      }
    }
    CheckSutNetworks(issues, "spec.vm.networks", vm.networks());
  } else if (spec.has_vm()) {
    issues.Warn("spec.vm", absl::StrCat("ignored: only used with kind kubevirt, not ",
                                        Quote(spec.kind())));
  }
  if (!spec.ready_timeout().empty()) {
    CheckDuration(issues, "spec.readyTimeout", spec.ready_timeout(),
                  DurationRule{absl::ZeroDuration(), true, absl::Hours(1)});
  }
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
