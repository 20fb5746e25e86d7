// AgentPool -> the Deployment or DaemonSet of netrig-agent pods that serves it. Pure functions
// of the pool object and the operator's defaults: no API calls, so every field of the rendered
// pod spec is unit-tested (tests/unit/operator/agentpool_workload_test.cc).
//
// Each agent pod is a guaranteed-QoS pod (requests = limits, whole CPUs) so that the kubelet's
// static CPU manager gives it exclusive cores, which the agent reads back from its cpuset
// (--lcores auto). Its ports are the SR-IOV VFs the device plugin allocates for
// spec.sriovResource (the agent reads PCIDEVICE_<RESOURCE>: --sriov-resource, --port-names),
// attached through Multus (spec.networks). docs/agent-pools.md describes the rendered objects.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/spec/field_error.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::op {

// What the operator's command line gives every pool (a pool's own fields win).
struct AgentPoolDefaults {
  std::string image;               // --agent-image
  std::string controller_address;  // host:port the agents dial
  std::string service_account;     // the chart's agent ServiceAccount
  std::string image_pull_policy = "IfNotPresent";
};

inline constexpr int kAgentMetricsPort = 9465;
// On the workload: the hash of what was rendered, so an unchanged pool writes nothing even
// after the API server and other controllers defaulted fields of the stored object.
inline constexpr char kSpecHashAnnotation[] = "netrig.io/spec-hash";
inline constexpr char kPoolLabel[] = "netrig.io/pool";
inline constexpr char kNameLabel[] = "app.kubernetes.io/name";
inline constexpr char kAgentName[] = "netrig-agent";
inline constexpr char kMultusAnnotation[] = "k8s.v1.cni.cncf.io/networks";

// "netrig-agent-<pool>": the name of the pool's Deployment or DaemonSet.
std::string AgentWorkloadName(const std::string& pool_name);

// The Kubernetes AgentPool object -> the validated proto (lib/spec's ValidateAgentPool, the
// same rules as netrigctl validate). Only apiVersion, kind, metadata.name/namespace and spec
// are read; status and server-set metadata are ignored. Returns the field errors (empty: valid);
// `pool` holds whatever could be decoded.
std::vector<spec::FieldError> AgentPoolFromObject(const kube::Json& object, v1::AgentPool* pool);

// spec.replicas (default 1), or scaling.minReplicas when spec.scaling is set.
int DefaultReplicas(const v1::AgentPoolSpec& spec);

// The Deployment (mode Deployment) or DaemonSet (mode DaemonSet, one agent per node that
// spec.nodeSelector selects) for the pool, as the JSON object to create. `replicas` is the
// Deployment's count as the reconciler decided it (< 0: DefaultReplicas); a DaemonSet ignores
// it. InvalidArgument naming the field ("spec.cpu: ...", one "path: message" per line) when
// the pool is invalid; FailedPrecondition when neither the pool nor the defaults give an image
// or the defaults give no controller address. The object carries kSpecHashAnnotation.
absl::StatusOr<kube::Json> RenderAgentWorkload(const kube::Json& pool, const AgentPoolDefaults& d,
                                               int replicas);

// The hash RenderAgentWorkload stores in kSpecHashAnnotation: FNV-1a (64 bit, hex) of the
// object's labels, annotations (without the hash itself) and spec, serialised with sorted keys.
std::string WorkloadHash(const kube::Json& workload);

}  // namespace netrig::op
