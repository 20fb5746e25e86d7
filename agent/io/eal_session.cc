#include "agent/io/eal_session.h"

#include <unistd.h>

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace netrig::agent::io {
namespace {
bool g_eal_initialised = false;

// DPDK leaves /var/run/dpdk/<prefix> behind. Our prefix is "netrig<pid>": remove the
// directories of agents that are gone (also after kill -9) before adding ours.
void RemoveStaleRuntimeDirs() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/dpdk", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("netrig", 0) != 0) continue;
    size_t digits = 6;
    while (digits < name.size() && !std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + digits));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

bool HugepagesAvailable() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") {
      return value > 0;
    }
    meminfo.ignore(256, '\n');
  }
  return false;
}

absl::StatusOr<std::unique_ptr<EalSession>> EalSession::Create(const EalOptions& options) {
  if (g_eal_initialised) {
    return absl::FailedPreconditionError("the DPDK EAL is already initialised in this process");
  }
  if (options.lcores.empty()) {
    return absl::InvalidArgumentError("lcores: at least one lcore (the main one) is needed");
  }
  RemoveStaleRuntimeDirs();
  std::vector<std::string> args = {"netrig-agent"};
  args.push_back("-l");
  args.push_back(absl::StrJoin(options.lcores, ","));
  args.push_back(absl::StrCat("--main-lcore=", options.lcores.front()));
  if (options.no_huge) {
    args.push_back("--no-huge");
  }
  args.push_back("-m");
  args.push_back(std::to_string(options.memory_mb));
  // --in-memory conflicts with --no-huge (legacy memory); a per-process prefix keeps
  // concurrent agents (and tests running in parallel) apart either way.
  if (!options.no_huge) {
    args.push_back("--in-memory");
  }
  args.push_back(absl::StrCat("--file-prefix=netrig", getpid()));
  if (options.pci_allow.empty()) {
    args.push_back("--no-pci");
  }
  for (const std::string& pci : options.pci_allow) {
    args.push_back("-a");
    args.push_back(pci);
  }
  for (const std::string& vdev : options.vdevs) {
    args.push_back("--vdev");
    args.push_back(vdev);
  }
  args.push_back(absl::StrCat("--log-level=", options.log_level));
  args.push_back("--no-telemetry");
  for (const std::string& extra : options.extra_args) {
    args.push_back(extra);
  }
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
  if (rc < 0) {
    return absl::InternalError(absl::StrCat("DPDK EAL init failed (", rte_strerror(rte_errno),
                                            "); arguments: ", absl::StrJoin(args, " ")));
  }
  g_eal_initialised = true;
  auto session = std::unique_ptr<EalSession>(new EalSession());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { session->workers_.push_back(lcore); }
  return session;
}

EalSession::~EalSession() {
  const std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace netrig::agent::io
