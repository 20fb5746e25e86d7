// The pure part of the kubernetes SUT provider: object names and labels, parameter resolution,
// the Pod / VirtualMachine objects, readiness of an observed object and the Multus
// network-status annotation, so all of it is tested without an API server.
//
//   ASSIGN_OR_RETURN(KubeSutPlan plan, PlanKubeSut(tmpl, request, "lab"));
//   kube::Json pod = RenderPod(plan, tmpl.spec().pod());
//   ... the pod becomes Ready, Multus annotates it ...
//   RETURN_IF_ERROR(FillLinksFromNetworkStatus(pod_as_read, annotation, instance));
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/sut/sut_provider.h"
#include "lib/kube/client.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::controller::sut {

inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "netrig-controller";
inline constexpr char kRunLabel[] = "netrig.io/run";
inline constexpr char kSutTemplateLabel[] = "netrig.io/sut-template";
inline constexpr char kRunIdAnnotation[] = "netrig.io/run-id";  // the exact run id
inline constexpr char kNetworksAnnotation[] = "k8s.v1.cni.cncf.io/networks";
inline constexpr char kNetworkStatusAnnotation[] = "k8s.v1.cni.cncf.io/network-status";
inline constexpr char kVmNameLabel[] = "vm.kubevirt.io/name";  // on virt-launcher pods
inline constexpr char kParamEnvPrefix[] = "NETRIG_PARAM_";
inline constexpr char kSutContainerName[] = "sut";
inline constexpr char kKindPod[] = "pod";
inline constexpr char kKindKubevirt[] = "kubevirt";
inline constexpr size_t kMaxSutObjectNameLength = 40;  // "nrsut-" + run id, hashed beyond

// KubeVirt reads the binding of a Multus interface from the NetworkAttachmentDefinition.
inline const kube::Resource kNetworkAttachmentDefinitions{
    "k8s.cni.cncf.io", "v1", "network-attachment-definitions", "NetworkAttachmentDefinition", true};

// metadata.labels[key] / metadata.annotations[key]; "" when absent or not a string.
std::string LabelOf(const kube::Json& object, const std::string& key);
std::string AnnotationOf(const kube::Json& object, const std::string& key);
// metadata.deletionTimestamp is set.
bool BeingDeleted(const kube::Json& object);

// The Pod / VirtualMachine name of a run: "nrsut-<run id>" when the run id is already a DNS
// label of lowercase letters, digits and '-' and the result fits kMaxSutObjectNameLength; else
// "nrsut-<sanitized head>-<8 hex digits of the run id's hash>" (two run ids differing only in
// case or punctuation get different names). Requires a valid run id (ValidateRunId).
std::string SutObjectName(const std::string& run_id);
// The netrig.io/run label value: the run id when it is a valid label value, else the hashed
// object name without its prefix. The exact id is always in the netrig.io/run-id annotation.
std::string RunLabelValue(const std::string& run_id);
// NETRIG_PARAM_<NAME>: camelCase split at the humps, upper-cased, other characters '_'
// ("ipv6Forwarding" -> "NETRIG_PARAM_IPV6_FORWARDING").
std::string ParamEnvName(const std::string& parameter);

// Template defaults overridden by `requested`. InvalidArgument "sut.parameters.<name>: unknown
// parameter (<template> takes a, b)" for a name the template does not declare.
absl::StatusOr<std::map<std::string, std::string>> ResolveParameters(
    const v1::SutTemplate& tmpl, const std::map<std::string, std::string>& requested);

// One Multus attachment of the SUT.
struct SutAttachment {
  std::string network;    // as the template writes it ("sut-west", "lab/sut-west")
  std::string ns;         // resolved: the object's namespace when the template gives none
  std::string name;       // the NetworkAttachmentDefinition
  std::string interface;  // interface name in the pod; the KubeVirt network/interface name
  std::string link;       // the link it carries; empty for a network beyond the run's links
  std::string ipv4;       // requested address/prefix (Multus "ips"); empty: the NAD's IPAM
  std::string mac;        // kubevirt: the guest MAC (set explicitly, derived from the run)
  std::string binding;    // kubevirt: "bridge" or "sriov"
};

struct KubeSutPlan {
  std::string kind;  // kKindPod | kKindKubevirt
  std::string ns;    // Kubernetes namespace of the object
  std::string name;  // SutObjectName(run id)
  std::string run_id;
  std::string template_name;
  std::map<std::string, std::string> parameters;  // resolved
  std::vector<SutAttachment> attachments;         // link order first, then extra networks
};

// Checks the request against the template and decides names, interfaces and parameters.
// FailedPrecondition for kind netns (that is the netns provider's), InvalidArgument for a bad
// request (more links than networks names spec.pod.networks / spec.vm.networks).
absl::StatusOr<KubeSutPlan> PlanKubeSut(const v1::SutTemplate& tmpl, const SutRequest& request,
                                        const std::string& ns);

// "bridge", or "sriov" when the NetworkAttachmentDefinition's CNI config (spec.config, a
// single plugin or the first of a plugin list) has type sriov.
std::string BindingForNetworkAttachment(const kube::Json& nad);

// labels and annotations shared by both kinds.
kube::Json SutObjectMetadata(const KubeSutPlan& plan);
kube::Json RenderPod(const KubeSutPlan& plan, const v1::SutPodTemplate& pod);
kube::Json RenderVirtualMachine(const KubeSutPlan& plan, const v1::SutVmTemplate& vm);

// The instance Create returns: namespace_name "pod/<name>" or "virtualmachine/<name>", links
// with their interface names (and guest MACs for VMs); next hops come with readiness.
SutInstance InstanceOf(const KubeSutPlan& plan);

// namespace_name <-> (resource, name).
struct SutObjectRef {
  const kube::Resource* resource = nullptr;  // &kube::kPods or &kube::kVirtualMachines
  std::string name;
  std::string Display() const;  // "pod/nrsut-x"
};
absl::StatusOr<SutObjectRef> ParseSutObjectRef(const std::string& namespace_name);

// Readiness of an observed object.
struct Readiness {
  enum class State { kPending, kReady, kFailed };
  State state = State::kPending;
  std::string detail;  // pending: what is missing; failed: why (phase, reason, message)
};
// Ready condition True -> ready. Failed fast: phase Failed or Succeeded (restartPolicy Never),
// a container waiting in ImagePullBackOff, ErrImageNeverPull, InvalidImageName,
// CreateContainerConfigError or CrashLoopBackOff, PodScheduled False with reason Unschedulable,
// or a deletionTimestamp.
Readiness PodReadiness(const kube::Json& pod);
// status.ready true or a Ready condition True -> ready. Failed fast: printableStatus
// ErrorUnschedulable, ErrImagePull, ImagePullBackOff, CrashLoopBackOff, ErrorPvcNotFound,
// DataVolumeError, a Failure condition True, or a deletionTimestamp.
Readiness VirtualMachineReadiness(const kube::Json& vm);

// One element of the k8s.v1.cni.cncf.io/network-status annotation.
struct NetworkStatus {
  std::string name;       // "<namespace>/<nad>" (or the cluster network's name)
  std::string interface;  // may be empty (not every CNI reports it)
  std::vector<std::string> ips;
  std::string mac;
  bool is_default = false;
};
// InvalidArgument naming the annotation and the element for malformed JSON, a non-list, or an
// element without a name.
absl::StatusOr<std::vector<NetworkStatus>> ParseNetworkStatus(const std::string& annotation);

// Fills instance.links (sut_mac, ipv4) and instance.next_hops (one per link, same order) from
// the network-status annotation. `object` is what the instance names, as read: for a Pod the
// attachments come from its networks annotation and match network-status by interface name;
// for a VirtualMachine from spec.template.spec.networks/interfaces, matched by network name in
// order (KubeVirt names the pod interfaces itself) and the guest MAC from the spec.
// `network_status` is the annotation of the Pod or of the VM's virt-launcher pod.
// NotFound naming the link, interface and network that network-status does not list.
absl::Status FillLinksFromNetworkStatus(const kube::Json& object, const std::string& network_status,
                                        SutInstance& instance);

}  // namespace netrig::controller::sut
