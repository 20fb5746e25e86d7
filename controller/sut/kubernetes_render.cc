#include "controller/sut/kubernetes_render.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "controller/sut/netns_plan.h"
#include "lib/spec/units.h"

namespace netrig::controller::sut {
namespace {

std::string Quote(const std::string& s) { return absl::StrCat("\"", s, "\""); }

absl::Status Invalid(const std::string& path, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

bool IsLabelChar(char c) {
  return absl::ascii_islower(static_cast<unsigned char>(c)) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
}

// A DNS label usable as an interface name (and as a KubeVirt network name).
bool IsInterfaceLabel(const std::string& s) {
  return !s.empty() && s.size() <= kMaxIfnameLength && spec::IsDnsLabel(s);
}

// Strings of a JSON value that should be an object; empty when absent or not an object.
std::string StringAt(const kube::Json& object, const std::string& key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const kube::Json* Find(const kube::Json& object, std::initializer_list<const char*> path) {
  const kube::Json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// "<ns>/<name>" with the object's namespace when `network` has none.
std::string QualifiedNetwork(const std::string& network, const std::string& object_ns) {
  return absl::StrContains(network, '/') ? network : absl::StrCat(object_ns, "/", network);
}

// The condition of `type` in status.conditions, or nullptr.
const kube::Json* Condition(const kube::Json& object, const std::string& type) {
  const kube::Json* conditions = Find(object, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const kube::Json& c : *conditions) {
    if (StringAt(c, "type") == type) return &c;
  }
  return nullptr;
}

std::string ConditionText(const kube::Json& c) {
  std::string text = absl::StrCat(StringAt(c, "type"), " condition is ", StringAt(c, "status"));
  const std::string reason = StringAt(c, "reason"), message = StringAt(c, "message");
  if (!reason.empty() || !message.empty()) {
    absl::StrAppend(&text, " (", reason, reason.empty() || message.empty() ? "" : ": ", message,
                    ")");
  }
  return text;
}

Readiness Failed(std::string detail) {
  return Readiness{Readiness::State::kFailed, std::move(detail)};
}
Readiness Pending(std::string detail) {
  return Readiness{Readiness::State::kPending, std::move(detail)};
}

bool IsIpv4(const std::string& ip) {
  return !ip.empty() && !absl::StrContains(ip, ':') && absl::StrContains(ip, '.');
}

void SetLinkFromStatus(SutLink& link, const NetworkStatus& status, const std::string& mac,
                       NextHop& hop) {
  link.sut_mac = mac.empty() ? status.mac : mac;
  link.ipv4.clear();
  for (const std::string& ip : status.ips) {
    if (IsIpv4(ip)) {
      link.ipv4 = ip;
      break;
    }
  }
  hop.link = link.name;
  hop.mac = link.sut_mac;
  hop.ipv4 = link.ipv4.substr(0, link.ipv4.find('/'));
}

}  // namespace

std::string LabelOf(const kube::Json& object, const std::string& key) {
  const kube::Json* labels = Find(object, {"metadata", "labels"});
  return labels == nullptr ? "" : StringAt(*labels, key);
}

std::string AnnotationOf(const kube::Json& object, const std::string& key) {
  const kube::Json* annotations = Find(object, {"metadata", "annotations"});
  return annotations == nullptr ? "" : StringAt(*annotations, key);
}

bool BeingDeleted(const kube::Json& object) {
  return Find(object, {"metadata", "deletionTimestamp"}) != nullptr;
}

std::string SutObjectName(const std::string& run_id) {
  const std::string prefix = kNamespacePrefix;
  std::string sanitized;
  for (char c : run_id) {
    const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    sanitized.push_back(IsLabelChar(lower) ? lower : '-');
  }
  const bool verbatim = sanitized == run_id && spec::IsDnsLabel(run_id);
  if (verbatim && prefix.size() + run_id.size() <= kMaxSutObjectNameLength) {
    return prefix + run_id;
  }
  // prefix + head + '-' + 8 hex digits fits kMaxSutObjectNameLength; the head loses the
  // dashes it may end with so the name stays a DNS label.
  std::string head = sanitized.substr(0, kMaxSutObjectNameLength - prefix.size() - 9);
  while (!head.empty() && head.back() == '-') head.pop_back();
  while (!head.empty() && head.front() == '-') head.erase(head.begin());
  return absl::StrCat(prefix, head, head.empty() ? "" : "-", HashHex(run_id, 8));
}

std::string RunLabelValue(const std::string& run_id) {
  if (spec::CheckLabelValue(run_id).empty()) return run_id;
  return SutObjectName(run_id).substr(sizeof(kNamespacePrefix) - 1);
}

std::string ParamEnvName(const std::string& parameter) {
  std::string out = kParamEnvPrefix;
  for (size_t i = 0; i < parameter.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(parameter[i]);
    if (absl::ascii_isupper(c) && i > 0) {
      const unsigned char prev = static_cast<unsigned char>(parameter[i - 1]);
      if (absl::ascii_islower(prev) || absl::ascii_isdigit(prev)) out.push_back('_');
    }
    out.push_back(absl::ascii_isalnum(c) ? absl::ascii_toupper(c) : '_');
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ResolveParameters(
    const v1::SutTemplate& tmpl, const std::map<std::string, std::string>& requested) {
  std::map<std::string, std::string> resolved(tmpl.spec().parameters().begin(),
                                              tmpl.spec().parameters().end());
  for (const auto& [key, value] : requested) {
    if (!resolved.count(key)) {
      std::vector<std::string> known;
      for (const auto& [k, v] : tmpl.spec().parameters()) known.push_back(k);
      std::sort(known.begin(), known.end());
      return Invalid(
          absl::StrCat("sut.parameters.", key),
          absl::StrCat("unknown parameter (", tmpl.metadata().name(),
                       known.empty() ? " takes no parameters"
                                     : absl::StrCat(" takes ", absl::StrJoin(known, ", ")),
                       ")"));
    }
    resolved[key] = value;
  }
  return resolved;
}

absl::StatusOr<KubeSutPlan> PlanKubeSut(const v1::SutTemplate& tmpl, const SutRequest& request,
                                        const std::string& ns) {
  if (absl::Status s = ValidateRunId(request.run_id); !s.ok()) return s;
  const v1::SutTemplateSpec& spec = tmpl.spec();
  KubeSutPlan plan;
  plan.kind = spec.kind();
  plan.ns = ns;
  plan.run_id = request.run_id;
  plan.template_name = tmpl.metadata().name();
  plan.name = SutObjectName(request.run_id);
  if (plan.kind == "netns") {
    return absl::FailedPreconditionError(absl::StrCat(
        "sut.template: SutTemplate ", Quote(plan.template_name),
        " is kind netns (a network namespace on the controller's machine); the kubernetes SUT "
        "provider builds kind pod and kubevirt: run it with --sut-provider netns"));
  }
  if (plan.kind != kKindPod && plan.kind != kKindKubevirt) {
    return Invalid("sut.template", absl::StrCat("SutTemplate ", Quote(plan.template_name),
                                                " has unknown kind ", Quote(plan.kind)));
  }
  absl::StatusOr<std::map<std::string, std::string>> params =
      ResolveParameters(tmpl, request.parameters);
  if (!params.ok()) return params.status();
  plan.parameters = *std::move(params);

  const bool pod = plan.kind == kKindPod;
  const auto& networks = pod ? spec.pod().networks() : spec.vm().networks();
  const std::string networks_path = pod ? "spec.pod.networks" : "spec.vm.networks";
  if (request.links.size() > static_cast<size_t>(networks.size())) {
    std::vector<std::string> names;
    for (const SutLinkRequest& l : request.links) names.push_back(l.name);
    return Invalid(
        networks_path,
        absl::StrCat("SutTemplate ", Quote(plan.template_name), " lists ", networks.size(),
                     " network(s) but the run has ", request.links.size(), " links (",
                     absl::StrJoin(names, ", "), "); one network per link, in link order"));
  }
  std::set<std::string> link_names, interfaces;
  for (int i = 0; i < networks.size(); ++i) {
    const size_t index = static_cast<size_t>(i);
    SutAttachment a;
    a.network = networks[i];
    const size_t slash = a.network.find('/');
    a.ns = slash == std::string::npos ? ns : a.network.substr(0, slash);
    a.name = slash == std::string::npos ? a.network : a.network.substr(slash + 1);
    a.interface = absl::StrCat("net", i + 1);  // Multus' own default naming
    if (index < request.links.size()) {
      const SutLinkRequest& l = request.links[index];
      const std::string lp = absl::StrCat("sut.links[", i, "]");
      if (l.name.empty()) return Invalid(lp + ".name", "required");
      if (!link_names.insert(l.name).second) {
        return Invalid(lp + ".name", absl::StrCat("duplicate link ", Quote(l.name)));
      }
      a.link = l.name;
      if (!l.sut_ifname.empty()) {
        if (!IsInterfaceLabel(l.sut_ifname)) {
          return Invalid(lp + ".sutIfname", absl::StrCat(Quote(l.sut_ifname),
                                                         " is not an interface name for a "
                                                         "pod: lowercase letters, digits and "
                                                         "'-', at most 15 characters"));
        }
        a.interface = l.sut_ifname;
      } else if (IsInterfaceLabel(l.name)) {
        a.interface = l.name;
      }
      a.ipv4 = l.ipv4;
      if (!pod) a.mac = DerivedMac(absl::StrCat(request.run_id, "/", l.name));
    }
    if (a.interface == "eth0" || a.interface == "lo") {
      return Invalid(absl::StrCat("sut.links[", i, "]"),
                     absl::StrCat("interface ", a.interface, " is the pod's own; rename the link"));
    }
    if (!interfaces.insert(a.interface).second) {
      return Invalid(absl::StrCat("sut.links[", i, "]"),
                     absl::StrCat("interface name ", Quote(a.interface), " used twice"));
    }
    a.binding = "bridge";
    plan.attachments.push_back(std::move(a));
  }
  return plan;
}

std::string BindingForNetworkAttachment(const kube::Json& nad) {
  const kube::Json* config = Find(nad, {"spec", "config"});
  if (config == nullptr || !config->is_string()) return "bridge";
  kube::Json parsed = kube::Json::parse(config->get<std::string>(), nullptr,
                                        /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return "bridge";
  std::string type = StringAt(parsed, "type");
  if (auto plugins = parsed.find("plugins");
      type.empty() && plugins != parsed.end() && plugins->is_array() && !plugins->empty()) {
    type = StringAt(plugins->front(), "type");
  }
  return type == "sriov" ? "sriov" : "bridge";
}

kube::Json SutObjectMetadata(const KubeSutPlan& plan) {
  kube::Json meta = kube::Json::object();
  meta["name"] = plan.name;
  meta["namespace"] = plan.ns;
  meta["labels"][kRunLabel] = RunLabelValue(plan.run_id);
  meta["labels"][kSutTemplateLabel] = plan.template_name;
  meta["labels"][kManagedByLabel] = kManagedByValue;
  meta["annotations"][kRunIdAnnotation] = plan.run_id;
  return meta;
}

kube::Json RenderPod(const KubeSutPlan& plan, const v1::SutPodTemplate& pod) {
  kube::Json obj = kube::Json::object();
  obj["apiVersion"] = "v1";
  obj["kind"] = "Pod";
  obj["metadata"] = SutObjectMetadata(plan);
  // The JSON form of the Multus selection, so the interface names are ours (link names).
  kube::Json networks = kube::Json::array();
  std::vector<std::string> link_interfaces;
  for (const SutAttachment& a : plan.attachments) {
    kube::Json n = kube::Json::object();
    n["name"] = a.name;
    if (a.network != a.name) n["namespace"] = a.ns;
    n["interface"] = a.interface;
    if (!a.ipv4.empty()) n["ips"] = kube::Json::array({a.ipv4});
    networks.push_back(std::move(n));
    if (!a.link.empty()) link_interfaces.push_back(a.interface);
  }
  if (!networks.empty()) obj["metadata"]["annotations"][kNetworksAnnotation] = networks.dump();

  kube::Json c = kube::Json::object();
  c["name"] = kSutContainerName;
  c["image"] = pod.image();
  if (!pod.command().empty())
    c["command"] = std::vector<std::string>(pod.command().begin(), pod.command().end());
  if (!pod.args().empty()) {
    c["args"] = std::vector<std::string>(pod.args().begin(), pod.args().end());
  }
  kube::Json env = kube::Json::array();
  const auto add_env = [&env](const std::string& name, const std::string& value) {
    kube::Json e = kube::Json::object();
    e["name"] = name;
    e["value"] = value;
    env.push_back(std::move(e));
  };
  const std::map<std::string, std::string> template_env(pod.env().begin(), pod.env().end());
  for (const auto& [name, value] : template_env) add_env(name, value);
  add_env("NETRIG_RUN_ID", plan.run_id);
  add_env("NETRIG_SUT_INTERFACES", absl::StrJoin(link_interfaces, ","));
  for (const auto& [name, value] : plan.parameters) add_env(ParamEnvName(name), value);
  c["env"] = std::move(env);
  if (!pod.resources().empty()) {
    const std::map<std::string, std::string> resources(pod.resources().begin(),
                                                       pod.resources().end());
    c["resources"]["requests"] = resources;
    c["resources"]["limits"] = resources;  // requests = limits: Guaranteed QoS, pinnable CPUs
  }
  c["securityContext"]["capabilities"]["add"] = kube::Json::array({"NET_ADMIN", "NET_RAW"});
  if (pod.privileged()) c["securityContext"]["privileged"] = true;

  kube::Json& spec = obj["spec"];
  spec["restartPolicy"] = "Never";  // a SUT that dies fails the run; it is not restarted
  spec["terminationGracePeriodSeconds"] = 5;
  spec["automountServiceAccountToken"] = false;
  spec["enableServiceLinks"] = false;
  if (!pod.node_selector().empty()) {
    spec["nodeSelector"] =
        std::map<std::string, std::string>(pod.node_selector().begin(), pod.node_selector().end());
  }
  spec["containers"] = kube::Json::array({std::move(c)});
  return obj;
}

kube::Json RenderVirtualMachine(const KubeSutPlan& plan, const v1::SutVmTemplate& vm) {
  kube::Json obj = kube::Json::object();
  obj["apiVersion"] = kube::kVirtualMachines.ApiVersion();
  obj["kind"] = kube::kVirtualMachines.kind;
  obj["metadata"] = SutObjectMetadata(plan);
  kube::Json interfaces = kube::Json::array(), networks = kube::Json::array();
  for (const SutAttachment& a : plan.attachments) {
    kube::Json i = kube::Json::object();
    i["name"] = a.interface;
    i[a.binding] = kube::Json::object();
    if (!a.mac.empty()) i["macAddress"] = a.mac;
    interfaces.push_back(std::move(i));
    kube::Json n = kube::Json::object();
    n["name"] = a.interface;
    n["multus"]["networkName"] = absl::StrCat(a.ns, "/", a.name);
    networks.push_back(std::move(n));
  }
  kube::Json disks = kube::Json::array(), volumes = kube::Json::array();
  kube::Json root_disk = kube::Json::object(), root_volume = kube::Json::object();
  root_disk["name"] = "rootdisk";
  root_disk["disk"]["bus"] = "virtio";
  disks.push_back(std::move(root_disk));
  root_volume["name"] = "rootdisk";
  root_volume["containerDisk"]["image"] = vm.container_disk();
  volumes.push_back(std::move(root_volume));
  if (!vm.cloud_init().empty()) {
    // Kubernetes expands $(VAR) in a pod's command; cloud-init user data gets the same for the
    // parameters, so one template text works for both kinds.
    std::vector<std::pair<std::string, std::string>> subst;
    for (const auto& [name, value] : plan.parameters) {
      subst.emplace_back(absl::StrCat("$(", ParamEnvName(name), ")"), value);
    }
    subst.emplace_back("$(NETRIG_RUN_ID)", plan.run_id);
    kube::Json ci_disk = kube::Json::object(), ci_volume = kube::Json::object();
    ci_disk["name"] = "cloudinitdisk";
    ci_disk["disk"]["bus"] = "virtio";
    disks.push_back(std::move(ci_disk));
    ci_volume["name"] = "cloudinitdisk";
    ci_volume["cloudInitNoCloud"]["userData"] = absl::StrReplaceAll(vm.cloud_init(), subst);
    volumes.push_back(std::move(ci_volume));
  }
  kube::Json& spec = obj["spec"];
  spec["runStrategy"] = "Always";
  kube::Json& vmi = spec["template"]["spec"];
  vmi["domain"]["cpu"]["cores"] = vm.has_cpus() ? vm.cpus() : 2;
  vmi["domain"]["resources"]["requests"]["memory"] = vm.memory().empty() ? "2Gi" : vm.memory();
  vmi["domain"]["devices"]["disks"] = std::move(disks);
  vmi["domain"]["devices"]["interfaces"] = std::move(interfaces);
  vmi["networks"] = std::move(networks);
  vmi["volumes"] = std::move(volumes);
  vmi["terminationGracePeriodSeconds"] = 5;
  return obj;
}

SutInstance InstanceOf(const KubeSutPlan& plan) {
  SutInstance inst;
  inst.run_id = plan.run_id;
  inst.template_name = plan.template_name;
  inst.namespace_name = absl::StrCat(plan.kind == kKindPod ? "pod/" : "virtualmachine/", plan.name);
  inst.parameters = plan.parameters;
  for (const SutAttachment& a : plan.attachments) {
    if (a.link.empty()) continue;
    SutLink l;
    l.name = a.link;
    l.sut_ifname = a.interface;
    l.sut_mac = a.mac;
    l.ipv4 = a.ipv4;
    inst.links.push_back(std::move(l));
  }
  return inst;
}

std::string SutObjectRef::Display() const {
  return absl::StrCat(resource == &kube::kPods ? "pod/" : "virtualmachine/", name);
}

absl::StatusOr<SutObjectRef> ParseSutObjectRef(const std::string& namespace_name) {
  SutObjectRef ref;
  if (absl::StartsWith(namespace_name, "pod/")) {
    ref.resource = &kube::kPods;
    ref.name = namespace_name.substr(4);
  } else if (absl::StartsWith(namespace_name, "virtualmachine/")) {
    ref.resource = &kube::kVirtualMachines;
    ref.name = namespace_name.substr(15);
  }
  if (ref.resource == nullptr || !absl::StartsWith(ref.name, kNamespacePrefix) ||
      !spec::IsDnsLabel(ref.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sut: ", Quote(namespace_name),
                     " is not a kubernetes SUT (pod/nrsut-<run> or virtualmachine/nrsut-<run>)"));
  }
  return ref;
}

Readiness PodReadiness(const kube::Json& pod) {
  const std::string name = kube::NameOf(pod);
  if (BeingDeleted(pod)) {
    return Failed(absl::StrCat("pod ", name, " is being deleted"));
  }
  const kube::Json* status = Find(pod, {"status"});
  const std::string phase = status == nullptr ? "" : StringAt(*status, "phase");
  if (phase == "Failed" || phase == "Succeeded") {
    std::string detail = absl::StrCat("pod ", name, " ended (phase ", phase, ")");
    if (const std::string r = StringAt(*status, "reason"); !r.empty()) {
      absl::StrAppend(&detail, ": ", r);
    }
    if (const std::string m = StringAt(*status, "message"); !m.empty()) {
      absl::StrAppend(&detail, ": ", m);
    }
    if (const kube::Json* cs = Find(pod, {"status", "containerStatuses"}); cs && cs->is_array()) {
      for (const kube::Json& c : *cs) {
        const kube::Json* t = Find(c, {"state", "terminated"});
        if (t == nullptr) continue;
        const kube::Json* code = Find(*t, {"exitCode"});
        absl::StrAppend(&detail, "; container ", StringAt(c, "name"), " exited with code ",
                        code != nullptr && code->is_number_integer() ? code->get<int64_t>() : -1);
        if (const std::string r = StringAt(*t, "reason"); !r.empty()) {
          absl::StrAppend(&detail, " (", r, ")");
        }
        if (const std::string m = StringAt(*t, "message"); !m.empty()) {
          absl::StrAppend(&detail, ": ", m);
        }
      }
    }
    return Failed(std::move(detail));
  }
  static const std::set<std::string> kFatalWaiting = {
      "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
      "CrashLoopBackOff"};
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const kube::Json* cs = Find(pod, {"status", list});
    if (cs == nullptr || !cs->is_array()) continue;
    for (const kube::Json& c : *cs) {
      const kube::Json* w = Find(c, {"state", "waiting"});
      if (w == nullptr) continue;
      const std::string reason = StringAt(*w, "reason");
      if (kFatalWaiting.count(reason)) {
        const std::string message = StringAt(*w, "message");
        return Failed(absl::StrCat("pod ", name, ": container ", StringAt(c, "name"), " ", reason,
                                   message.empty() ? "" : ": ", message));
      }
    }
  }
  if (const kube::Json* s = Condition(pod, "PodScheduled");
      s != nullptr && StringAt(*s, "status") == "False" &&
      StringAt(*s, "reason") == "Unschedulable") {
    return Failed(absl::StrCat("pod ", name, " is unschedulable: ", StringAt(*s, "message")));
  }
  const kube::Json* ready = Condition(pod, "Ready");
  if (ready != nullptr && StringAt(*ready, "status") == "True") {
    return Readiness{Readiness::State::kReady, ""};
  }
  return Pending(absl::StrCat("pod ", name, " phase ", phase.empty() ? "(none)" : phase, ", ",
                              ready == nullptr ? "no Ready condition" : ConditionText(*ready)));
}

Readiness VirtualMachineReadiness(const kube::Json& vm) {
  const std::string name = kube::NameOf(vm);
  if (BeingDeleted(vm)) {
    return Failed(absl::StrCat("virtualmachine ", name, " is being deleted"));
  }
  const kube::Json* status = Find(vm, {"status"});
  const std::string printable = status == nullptr ? "" : StringAt(*status, "printableStatus");
  static const std::set<std::string> kFatal = {"ErrorUnschedulable", "ErrImagePull",
                                               "ImagePullBackOff",   "CrashLoopBackOff",
                                               "ErrorPvcNotFound",   "DataVolumeError"};
  if (kFatal.count(printable)) {
    std::string detail = absl::StrCat("virtualmachine ", name, " is ", printable);
    if (const kube::Json* c = Condition(vm, "Failure"))
      absl::StrAppend(&detail, ": ", ConditionText(*c));
    return Failed(std::move(detail));
  }
  if (const kube::Json* c = Condition(vm, "Failure");
      c != nullptr && StringAt(*c, "status") == "True") {
    return Failed(absl::StrCat("virtualmachine ", name, ": ", ConditionText(*c)));
  }
  const kube::Json* ready = Condition(vm, "Ready");
  const kube::Json* ready_flag = Find(vm, {"status", "ready"});
  if ((ready_flag != nullptr && ready_flag->is_boolean() && ready_flag->get<bool>()) ||
      (ready != nullptr && StringAt(*ready, "status") == "True")) {
    return Readiness{Readiness::State::kReady, ""};
  }
  return Pending(absl::StrCat("virtualmachine ", name, " status ",
                              printable.empty() ? "(none)" : printable, ", ",
                              ready == nullptr ? "no Ready condition" : ConditionText(*ready)));
}

absl::StatusOr<std::vector<NetworkStatus>> ParseNetworkStatus(const std::string& annotation) {
  const std::string where = absl::StrCat("annotation ", kNetworkStatusAnnotation);
  kube::Json parsed = kube::Json::parse(annotation, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not valid JSON: ", Quote(annotation)));
  }
  if (!parsed.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a JSON list of attachments, got a ", parsed.type_name()));
  }
  std::vector<NetworkStatus> out;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const kube::Json& e = parsed[i];
    const std::string at = absl::StrCat(where, "[", i, "]");
    if (!e.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": expected an object"));
    }
    NetworkStatus s;
    s.name = StringAt(e, "name");
    if (s.name.empty()) return absl::InvalidArgumentError(absl::StrCat(at, ".name: required"));
    s.interface = StringAt(e, "interface");
    s.mac = StringAt(e, "mac");
    if (auto ips = e.find("ips"); ips != e.end()) {
      if (!ips->is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".ips: expected a list"));
      }
      for (const kube::Json& ip : *ips) {
        if (ip.is_string()) s.ips.push_back(ip.get<std::string>());
      }
    }
    if (auto d = e.find("default"); d != e.end() && d->is_boolean()) s.is_default = d->get<bool>();
    out.push_back(std::move(s));
  }
  return out;
}

absl::Status FillLinksFromNetworkStatus(const kube::Json& object, const std::string& network_status,
                                        SutInstance& instance) {
  absl::StatusOr<std::vector<NetworkStatus>> statuses = ParseNetworkStatus(network_status);
  if (!statuses.ok()) return statuses.status();
  const std::string object_ns = kube::NamespaceOf(object);
  const bool is_vm = StringAt(object, "kind") == kube::kVirtualMachines.kind;
  // Filled on copies: on an error the instance is left as it was.
  std::vector<SutLink> links = instance.links;
  std::vector<NextHop> hops(links.size());

  if (!is_vm) {
    // Our networks annotation says which network each interface is on (for the messages).
    std::map<std::string, std::string> network_of;
    kube::Json selection = kube::Json::parse(AnnotationOf(object, kNetworksAnnotation), nullptr,
                                             /*allow_exceptions=*/false);
    if (selection.is_array()) {
      for (const kube::Json& n : selection) {
        const std::string ns = StringAt(n, "namespace");
        network_of[StringAt(n, "interface")] =
            absl::StrCat(ns.empty() ? object_ns : ns, "/", StringAt(n, "name"));
      }
    }
    for (size_t i = 0; i < links.size(); ++i) {
      SutLink& link = links[i];
      auto found = std::find_if(statuses->begin(), statuses->end(), [&](const NetworkStatus& s) {
        return s.interface == link.sut_ifname;
      });
      if (found == statuses->end()) {
        return absl::NotFoundError(absl::StrCat(
            kNetworkStatusAnnotation, " lists no interface ", link.sut_ifname, " (link ", link.name,
            ", network ",
            network_of.count(link.sut_ifname) ? network_of[link.sut_ifname] : "unknown", ")"));
      }
      SetLinkFromStatus(link, *found, "", hops[i]);
    }
    instance.links = std::move(links);
    instance.next_hops = std::move(hops);
    return absl::OkStatus();
  }

  // A VirtualMachine: its networks name the NADs, its interfaces carry the guest MACs.
  std::map<std::string, std::string> nad_of, mac_of;
  if (const kube::Json* nets = Find(object, {"spec", "template", "spec", "networks"});
      nets != nullptr && nets->is_array()) {
    for (const kube::Json& n : *nets) {
      const kube::Json* multus = Find(n, {"multus", "networkName"});
      if (multus != nullptr && multus->is_string()) {
        nad_of[StringAt(n, "name")] = QualifiedNetwork(multus->get<std::string>(), object_ns);
      }
    }
  }
  if (const kube::Json* ifs =
          Find(object, {"spec", "template", "spec", "domain", "devices", "interfaces"});
      ifs != nullptr && ifs->is_array()) {
    for (const kube::Json& i : *ifs) mac_of[StringAt(i, "name")] = StringAt(i, "macAddress");
  }
  // The k-th interface on a network matches the k-th status entry of that network.
  std::map<std::string, size_t> used;
  for (size_t i = 0; i < links.size(); ++i) {
    SutLink& link = links[i];
    auto nad = nad_of.find(link.sut_ifname);
    if (nad == nad_of.end()) {
      return absl::NotFoundError(absl::StrCat("virtualmachine ", kube::NameOf(object),
                                              " has no multus network ", link.sut_ifname, " (link ",
                                              link.name, ")"));
    }
    size_t skip = used[nad->second]++;
    const NetworkStatus* match = nullptr;
    for (const NetworkStatus& s : *statuses) {
      if (s.is_default || QualifiedNetwork(s.name, object_ns) != nad->second) continue;
      if (skip-- == 0) {
        match = &s;
        break;
      }
    }
    if (match == nullptr) {
      return absl::NotFoundError(absl::StrCat(kNetworkStatusAnnotation,
                                              " of the virt-launcher pod lists no attachment to ",
                                              nad->second, " for link ", link.name));
    }
    SetLinkFromStatus(link, *match, mac_of[link.sut_ifname], hops[i]);
  }
  instance.links = std::move(links);
  instance.next_hops = std::move(hops);
  return absl::OkStatus();
}

}  // namespace netrig::controller::sut
