// RAII around rte_eal_init / rte_eal_cleanup. The EAL argument vector is derived from typed
// options; raw EAL strings only through `extra_args`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace netrig::agent::io {

struct EalOptions {
  std::vector<unsigned> lcores;        // first = main (control) lcore; the rest run workers
  bool no_huge = true;                 // anonymous memory instead of hugepages
  unsigned memory_mb = 1024;
  std::vector<std::string> vdevs;      // "net_ring0", "net_af_xdp0,iface=veth0,..."
  std::vector<std::string> pci_allow;  // PCI addresses; empty -> --no-pci
  std::string log_level = "notice";
  std::vector<std::string> extra_args;
};

// True when the kernel has free hugepages (then no_huge can be false).
bool HugepagesAvailable();

class EalSession {
 public:
  // Only one EAL per process: a second Create() fails with FailedPrecondition.
  static absl::StatusOr<std::unique_ptr<EalSession>> Create(const EalOptions& options);
  ~EalSession();
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;

  const std::vector<unsigned>& worker_lcores() const { return workers_; }

 private:
  EalSession() = default;
  std::vector<unsigned> workers_;
};

}  // namespace netrig::agent::io
