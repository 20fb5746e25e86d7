// SUT lifecycle for the controller: create -> wait ready -> inject events -> destroy.
//
// A SutProvider builds the System Under Test a run needs when the run is scheduled and removes
// it when the run ends (success, failure, cancellation). After a controller crash the next
// start calls ListOrphans with the ids of the runs still live and destroys the rest.
//
//   NetnsSutProvider p;                                   // controller/sut/netns_provider.h
//   ASSIGN_OR_RETURN(SutInstance sut, p.Create(request));
//   RETURN_IF_ERROR(p.WaitReady(sut, absl::Seconds(10)));
//   ... run the benchmark, p.InjectEvent(sut, {"link-down", "west"}) ...
//   p.Destroy(sut);                                       // idempotent
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netrig::controller::sut {

inline constexpr char kTemplateLinuxRouter[] = "linux-router";
inline constexpr char kTemplateLinuxShaper[] = "linux-shaper";
inline constexpr char kTemplateFrrRouter[] = "frr-router";  // linux-router + FRR daemons

// One link between the SUT and an agent port (a veth pair for the netns provider).
struct SutLinkRequest {
  std::string name;            // role name ("west"); events address links by it
  std::string peer_namespace;  // where the agent-side end goes; empty: the controller's own
  std::string peer_ifname;     // agent-side interface name; empty: derived (unique per run)
  std::string sut_ifname;      // SUT-side interface name; empty: the link name or "sut<i>"
  std::string ipv4;            // SUT-side address/prefix; empty: 198.18.1.1/24, 198.19.1.1/24
  std::string peer_ipv4;       // the agent's address (no prefix); empty: the SUT's with .2
};

struct SutRequest {
  std::string run_id;                             // [A-Za-z0-9._-]{1,128}
  std::string template_name;                      // linux-router | linux-shaper | frr-router
  std::map<std::string, std::string> parameters;  // template parameters
  std::vector<SutLinkRequest> links;
};

struct SutLink {
  std::string name;
  std::string sut_ifname;
  std::string sut_mac;
  std::string ipv4;            // SUT side, with prefix ("198.18.1.1/24")
  std::string peer_namespace;
  std::string peer_ifname;
  std::string peer_mac;
  std::string peer_ipv4;       // without prefix
};

// Where the agent on a link must send frames to reach the other side through the SUT.
struct NextHop {
  std::string link;            // link name
  std::string ipv4;            // the gateway address (the SUT interface address, no prefix)
  std::string mac;             // the gateway MAC (the SUT interface MAC)
};

struct SutInstance {
  std::string run_id;
  std::string template_name;
  std::string namespace_name;  // "nrsut-<run_id>" (hashed when the run id is long)
  std::map<std::string, std::string> parameters;  // resolved, defaults applied
  std::vector<SutLink> links;
  std::vector<NextHop> next_hops;  // one per link, same order
};

struct SutEvent {
  std::string type;            // link-down | link-up
  std::string link;            // link name
};

class SutProvider {
 public:
  virtual ~SutProvider();
  // Builds the SUT. On failure everything made so far is removed again.
  virtual absl::StatusOr<SutInstance> Create(const SutRequest& request) = 0;
  // Polls the readiness probe until it passes or `timeout` elapses (DeadlineExceeded naming
  // what is not ready).
  virtual absl::Status WaitReady(const SutInstance& instance, absl::Duration timeout) = 0;
  // Called once WaitReady succeeded: fills what is only known when the SUT is up (the
  // kubernetes provider's addresses, MACs and next hops come from the cluster's CNI). The
  // netns provider decides everything in Create and keeps this default.
  virtual absl::Status Refresh(SutInstance& /*instance*/) { return absl::OkStatus(); }
  virtual absl::Status InjectEvent(const SutInstance& instance, const SutEvent& event) = 0;
  // Removes the SUT. Idempotent: an instance that is already gone is OK.
  virtual absl::Status Destroy(const SutInstance& instance) = 0;
  // Run ids of instances that exist but whose run is not in `live_run_ids`.
  virtual absl::StatusOr<std::vector<std::string>> ListOrphans(
      const std::set<std::string>& live_run_ids) = 0;
};

}  // namespace netrig::controller::sut
