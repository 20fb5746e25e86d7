// What a Kubernetes pod tells the agent about its hardware: the SR-IOV device plugin puts the
// PCI addresses of the VFs it allocated in PCIDEVICE_<RESOURCE> ("intel.com/sriov_netdevice" ->
// PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE=0000:3b:02.0,0000:3b:02.1), and the static CPU manager
// gives a guaranteed pod exclusive cores through its cpuset. The agent turns them into DPDK
// ports (pmd pci) and lcores, so a pod spec needs no per-node port or core list.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::agent::control {

// "intel.com/sriov_netdevice" -> "PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE" (the plugin's rule:
// upper case, every character that is not a letter or digit becomes '_').
std::string DevicePluginEnvName(absl::string_view resource);

// "0000:3b:02.0,0000:3b:02.1" -> PCI addresses (domain:bus:device.function, hex, lower-cased).
// Errors name `what` (the variable) and the bad entry.
absl::StatusOr<std::vector<std::string>> ParsePciList(absl::string_view what, absl::string_view value);

// Linux CPU list ("2-3,6", as in cpuset.cpus and /proc/self/status) -> sorted unique CPUs.
absl::StatusOr<std::vector<unsigned>> ParseCpuList(absl::string_view what, absl::string_view value);

using EnvLookup = std::function<const char*(const char* name)>;

// One pci port per name, in order, on the VFs the device plugin allocated for `resource`.
// Errors: the variable is missing, malformed, or has fewer VFs than names (with the counts).
absl::StatusOr<std::vector<v1::PortConfig>> PortsFromDevicePlugin(
    absl::string_view resource, const std::vector<std::string>& names, const EnvLookup& env);

// The CPUs this process may run on: cgroup v2 cpuset.cpus.effective of its cgroup when
// readable, else the scheduler affinity mask.
absl::StatusOr<std::vector<unsigned>> AllowedCpus();

}  // namespace netrig::agent::control
