// SutProvider on Linux network namespaces: the SUT is a namespace "nrsut-<run id>" forwarding
// between veth links whose agent ends go into the agents' namespaces. Templates:
//   linux-router  IPv4/IPv6 forwarding between the links, rp_filter off, a permanent neighbour
//                 entry for each agent address (the agents do not answer ARP);
//   linux-shaper  the same plus a qdisc on the egress of every SUT interface: tbf (rate, burst,
//                 latency) or htb (one default class at rate/ceil = rate, burst);
//   frr-router    linux-router plus FRR daemons (zebra, bgpd, ospfd, staticd) running inside the
//                 namespace with the configuration from the template parameters
//                 (controller/sut/frr_plan.h, frr_daemons.h).
// Built with ip/tc/sysctl, run without a shell through a CommandRunner. Needs root.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/sut/exec.h"
#include "controller/sut/frr_daemons.h"
#include "controller/sut/netns_plan.h"
#include "controller/sut/sut_provider.h"

namespace netrig::controller::sut {

struct NetnsSutOptions {
  absl::Duration poll_interval = absl::Milliseconds(50);  // WaitReady, daemon stop
  FrrOptions frr;
};

class NetnsSutProvider : public SutProvider {
 public:
  NetnsSutProvider();  // runs commands for real (ExecRunner)
  explicit NetnsSutProvider(std::unique_ptr<CommandRunner> runner,
                            absl::Duration poll_interval = absl::Milliseconds(50));
  NetnsSutProvider(std::unique_ptr<CommandRunner> runner, NetnsSutOptions options);

  absl::StatusOr<SutInstance> Create(const SutRequest& request) override;
  absl::Status WaitReady(const SutInstance& instance, absl::Duration timeout) override;
  absl::Status InjectEvent(const SutInstance& instance, const SutEvent& event) override;
  absl::Status Destroy(const SutInstance& instance) override;
  absl::StatusOr<std::vector<std::string>> ListOrphans(
      const std::set<std::string>& live_run_ids) override;

  // One readiness check: OK, or Unavailable naming everything that is not ready yet.
  absl::Status ProbeReady(const SutInstance& instance);

 private:
  ExecResult Run(const Command& argv);
  absl::StatusOr<std::vector<std::string>> ListNamespaces();
  absl::Status DestroyNamespace(const std::string& namespace_name,
                                const std::vector<SutLink>& links);
  // Stops the FRR daemons (unless the template never has any), then removes the namespace.
  absl::Status Teardown(const std::string& namespace_name, const std::string& template_name,
                        const std::vector<SutLink>& links);

  absl::Mutex mu_;  // serializes namespace creation/removal
  std::unique_ptr<CommandRunner> runner_;
  absl::Duration poll_interval_;
  FrrDaemons frr_;
};

}  // namespace netrig::controller::sut
