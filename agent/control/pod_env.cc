#include "agent/control/pod_env.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace netrig::agent::control {
namespace {

bool IsHex(absl::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// DDDD:BB:DD.F
bool IsPciAddress(absl::string_view a) {
  const std::vector<absl::string_view> parts = absl::StrSplit(a, ':');
  if (parts.size() != 3 || !IsHex(parts[0], 4) || !IsHex(parts[1], 2)) return false;
  const std::vector<absl::string_view> dev = absl::StrSplit(parts[2], '.');
  return dev.size() == 2 && IsHex(dev[0], 2) && dev[1].size() == 1 && dev[1][0] >= '0' &&
         dev[1][0] <= '7';
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string DevicePluginEnvName(absl::string_view resource) {
  std::string out = "PCIDEVICE_";
  for (char c : resource) {
    out += std::isalnum(static_cast<unsigned char>(c)) != 0
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : '_';
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParsePciList(absl::string_view what, absl::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view entry : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    const std::string a = absl::AsciiStrToLower(absl::StripAsciiWhitespace(entry));
    if (!IsPciAddress(a)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": \"", a, "\" is not a PCI address (domain:bus:device.function, 0000:3b:02.0)"));
    }
    out.push_back(a);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no PCI address"));
  return out;
}

absl::StatusOr<std::vector<unsigned>> ParseCpuList(absl::string_view what, absl::string_view value) {
  std::set<unsigned> cpus;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    const size_t dash = part.find('-');
    unsigned lo = 0, hi = 0;
    bool ok = absl::SimpleAtoi(part.substr(0, dash), &lo);
    if (dash == absl::string_view::npos) {
      hi = lo;
    } else {
      ok = ok && absl::SimpleAtoi(part.substr(dash + 1), &hi);
    }
    if (!ok || hi < lo || hi >= 4096) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": \"", part, "\" is not a CPU or a range of CPUs (\"2-3,6\")"));
    }
    for (unsigned c = lo; c <= hi; ++c) cpus.insert(c);
  }
  if (cpus.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no CPU"));
  return std::vector<unsigned>(cpus.begin(), cpus.end());
}

absl::StatusOr<std::vector<v1::PortConfig>> PortsFromDevicePlugin(
    absl::string_view resource, const std::vector<std::string>& names, const EnvLookup& env) {
  const std::string var = DevicePluginEnvName(resource);
  const char* value = env(var.c_str());
  if (value == nullptr || *value == '\0') {
    return absl::NotFoundError(absl::StrCat(
        var, " is not set: the pod requests no ", resource,
        " device (resources.limits), or the SR-IOV device plugin does not run on this node"));
  }
  std::vector<std::string> pcis;
  {
    auto parsed = ParsePciList(var, value);
    if (!parsed.ok()) return parsed.status();
    pcis = std::move(*parsed);
  }
  if (pcis.size() < names.size()) {
    return absl::InvalidArgumentError(absl::StrCat(var, " has ", pcis.size(), " device(s) for ",
                                                   names.size(), " ports: request ", names.size(),
                                                   " of ", resource));
  }
  std::vector<v1::PortConfig> ports;
  for (size_t i = 0; i < names.size(); ++i) {
    v1::PortConfig p;
    p.set_name(names[i]);
    p.set_pmd("pci");
    p.set_pci(pcis[i]);
    ports.push_back(std::move(p));
  }
  return ports;
}

absl::StatusOr<std::vector<unsigned>> AllowedCpus() {
  // cgroup v2: "0::/kubepods/pod.../container" in /proc/self/cgroup.
  const std::string cgroup = ReadFirstLine("/proc/self/cgroup");
  if (absl::StartsWith(cgroup, "0::")) {
    const std::string path = "/sys/fs/cgroup" + cgroup.substr(3) + "/cpuset.cpus.effective";
    const std::string cpus = ReadFirstLine(path);
    if (!cpus.empty()) return ParseCpuList(path, cpus);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return absl::InternalError("sched_getaffinity failed");
  }
  std::vector<unsigned> out;
  for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.push_back(c);
  }
  if (out.empty()) return absl::InternalError("no CPU in the affinity mask");
  return out;
}

}  // namespace netrig::agent::control
