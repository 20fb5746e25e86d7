// The FRR daemons of frr-router instances: instance directory, start, configuration, readiness
// probe and stop. Used by NetnsSutProvider, which serializes Prepare/Start/Stop; commands run
// through its CommandRunner, files are written directly under FrrOptions::state_dir.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/sut/exec.h"
#include "controller/sut/frr_plan.h"
#include "controller/sut/sut_provider.h"

namespace netrig::controller::sut {

struct FrrOptions {
  std::string state_dir = "/run/netrig/sut";  // <state_dir>/<namespace>/ per instance
  std::string bin_dir = "/usr/lib/frr";       // zebra, bgpd, ospfd, staticd (Debian's frr)
  std::string vtysh = "/usr/bin/vtysh";
  // Owner of the instance directory: the daemons start as root and drop to this user, which must
  // be able to create its pid file and sockets there.
  std::string user = "frr";
  std::string group = "frr";
  absl::Duration stop_timeout = absl::Seconds(3);           // SIGTERM, then SIGKILL
  absl::Duration probe_interval = absl::Milliseconds(200);  // WaitReady's poll period
};

class FrrDaemons {
 public:
  FrrDaemons(CommandRunner& runner, FrrOptions options, absl::Duration poll_interval);

  const FrrOptions& options() const { return options_; }
  FrrPaths PathsFor(const std::string& namespace_name) const;

  // FailedPrecondition naming the first missing binary.
  absl::Status CheckInstalled(const std::vector<std::string>& daemons) const;
  // Creates the instance directory (frr.conf, vtysh.conf, run-id) and checks frr.conf with
  // vtysh's dry run: InvalidArgument "sut.parameters.config: ..." naming the refused lines. On
  // error nothing is left.
  absl::Status Prepare(const SutInstance& instance);
  // Starts the daemons inside the SUT namespace (zebra first), applies frr.conf and checks that
  // every daemon still answers. Internal "<daemon> failed to start (exit N): <its last words>",
  // FailedPrecondition when a daemon refuses a config line. The caller cleans up with Stop.
  absl::Status Start(const SutInstance& instance);
  // Kills the instance's daemons (pid files, then any process naming the instance directory) and
  // removes the directory. Idempotent; knows the instance by its namespace name only.
  absl::Status Stop(const std::string& namespace_name);
  // Appends what keeps the instance from being ready: daemons that do not answer vtysh, then the
  // waitFor conditions.
  void Probe(const SutInstance& instance, std::vector<std::string>& problems);

  // Namespace name -> run id, for every instance directory under state_dir.
  std::map<std::string, std::string> ListInstanceDirs() const;

 private:
  // Pids of the instance's processes, sorted.
  absl::StatusOr<std::vector<int>> OwnProcesses(const FrrPaths& paths);
  // Polls until the instance has no process left or `timeout` passes; returns what is left.
  absl::StatusOr<std::vector<int>> WaitForExit(const FrrPaths& paths, absl::Duration timeout);
  std::vector<std::string> RunningDaemons(const FrrPaths& paths);
  void ProbeCondition(const FrrPaths& paths, const std::string& condition,
                      std::vector<std::string>& problems);

  CommandRunner& runner_;
  FrrOptions options_;
  absl::Duration poll_interval_;
};

}  // namespace netrig::controller::sut
