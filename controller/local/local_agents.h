// Local mode: the controller starts and supervises netrig-agent processes for the ports a
// virtual SUT exposes on this machine (veth ends in the controller's own namespace).
//
//   LocalAgents agents({.binary = "/usr/bin/netrig-agent", .controller = "127.0.0.1:7400"});
//   ASSIGN_OR_RETURN(LocalAgent a, agents.Start("run-1", {{"west", "nr1a2b3cp0", ...}}));
//   ... the agent registers with the controller as a.id and serves the run's trials ...
//   agents.Stop(a);
//
// Each agent is a child process with PR_SET_PDEATHSIG: when the controller dies (even with
// kill -9) its agents get SIGTERM, so nothing of a crashed controller keeps sending. PMD:
// net_af_xdp, and net_af_packet when the agent cannot open an AF_XDP socket on the interface.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netrig::controller::local {

struct LocalAgentsOptions {
  std::string binary;        // netrig-agent; empty: local mode is off
  std::string controller;    // host:port the agents dial
  std::string lcores = "0,1";
  std::string log_dir;       // agent-<id>.log goes here; empty: /tmp
  // Passed as --metrics-address (host:0: any free port; the agent reports what it bound).
  // Empty: the agents serve no metrics.
  std::string metrics_address;
  absl::Duration stop_grace = absl::Seconds(5);  // SIGTERM, then SIGKILL
};

struct LocalPort {
  std::string name;          // the spec's port role ("west"): the agent's port name
  std::string ifname;        // kernel interface (a veth end)
  uint64_t speed_bps = 0;    // 0: the interface's own
  std::string gateway_mac;   // the SUT interface it is cabled to
};

struct LocalAgent {
  std::string id;            // "local-<run id>"
  pid_t pid = -1;
  std::string pmd;
  std::string log_path;
};

// The netrig-agent next to `self_exe` (build tree: ../agent/netrig-agent; install: same
// directory), else "" .
std::string FindAgentBinary(const std::string& self_exe);

class LocalAgents {
 public:
  explicit LocalAgents(LocalAgentsOptions options);

  bool enabled() const { return !options_.binary.empty(); }
  // Set once before the first Start (the controller's port is known after it binds).
  void set_controller(const std::string& target) { options_.controller = target; }
  const LocalAgentsOptions& options() const { return options_; }

  // Starts one agent serving every port of a run with `pmd`. It is running when this returns;
  // whether it registered is for the caller to wait on (the registry).
  absl::StatusOr<LocalAgent> Start(const std::string& run_id, const std::vector<LocalPort>& ports,
                                   const std::string& pmd = "net_af_xdp") const;
  // True while the process exists (reaps it when it has exited; `exit_status` then says how).
  bool Running(LocalAgent& agent, std::string* exit_status = nullptr) const;
  // SIGTERM, wait up to stop_grace, SIGKILL; reaps. Idempotent.
  void Stop(LocalAgent& agent) const;
  // The last `max_bytes` of the agent's log (for error messages).
  static std::string LogTail(const LocalAgent& agent, size_t max_bytes = 600);

  // The argv Start uses (exposed for tests).
  std::vector<std::string> Command(const std::string& id, const std::vector<LocalPort>& ports,
                                   const std::string& pmd) const;

 private:
  LocalAgentsOptions options_;
};

}  // namespace netrig::controller::local
