// netrigctl commands as functions: arguments in, text on the given streams, exit code out.
// main.cc (through app.h) only parses the command line and wires the real terminal; tests call
// these against an in-process fake controller.
//
// Exit codes (also in `netrigctl --help` and docs/netrigctl.md):
//   0    success; for `run --wait`: the run Succeeded with verdict Pass (or no verdict)
//   1    the run finished with a failed verdict (Fail or Regressed)
//   2    error: invalid spec, unreadable file, controller unreachable or refusing, unknown run
//        id, cancel of a finished run, a run that Failed without a verdict, verdict Inconclusive
//   3    the run was Cancelled or Interrupted (controller restart)
//   130  `run --wait` stopped by a second Ctrl-C (the run may still be going)
#pragma once

#include <atomic>
#include <iostream>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/client.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailedVerdict = 1,
  kExitError = 2,
  kExitCancelled = 3,
  kExitAbandoned = 130,
};

enum class Output { kTable, kJson };

// Where a command reads and writes, and what it knows about its terminal.
struct Io {
  std::ostream& out;                       // results: ids, tables, JSON
  std::ostream& err;                       // errors, warnings, live progress
  std::istream* in = &std::cin;            // `-f -`
  bool tty = false;                        // err is a terminal: one updating progress line
  std::atomic<int>* interrupts = nullptr;  // Ctrl-C count, read while `run --wait` waits
  absl::Time now = absl::Now();            // for ages in tables
};

// Exit code for a finished run (see the table above).
int ExitCodeFor(const v1::TestRunStatus& status);
bool IsFinished(const std::string& phase);

// netrigctl validate -f FILE [-f FILE...]: local parse + validation with lib/spec, nothing sent.
// Errors "path: message" one per line on out (prefixed with the file name when several files
// are given), warnings on err; "valid" when everything is valid.
int Validate(const std::vector<std::string>& files, Io& io);

struct RunOptions {
  std::string file;
  bool wait = false;
  Output output = Output::kTable;
  // How long `--wait` keeps trying to re-attach to a run whose watch stream broke (controller
  // restart) before giving up with exit code 2.
  absl::Duration reconnect_window = absl::Seconds(60);
  absl::Duration poll_interval = absl::Milliseconds(50);  // Ctrl-C polling
  int max_trial_rows = -1;  // trial rows in the final table; -1: all, 0: none
  // metadata.labels["netrig.io/trigger"] unless the file sets it: "ci" under CI (the CI
  // environment variable is true), else "manual".
  std::string trigger;
};

// The trigger a submission gets by default: "ci" when `ci_env` (the CI variable) is true.
std::string DefaultTrigger(const char* ci_env);

// netrigctl run -f FILE [--wait] [-o table|json].
int Run(Client& client, const RunOptions& options, Io& io);
// The --wait part, also usable on an existing run id.
int WaitForRun(Client& client, const std::string& id, const RunOptions& options, Io& io);

int GetRuns(Client& client, const std::string& phase, Output output, Io& io);
int GetAgents(Client& client, Output output, Io& io);
int DescribeRun(Client& client, const std::string& id, Io& io);
int Results(Client& client, const std::string& id, Output output, Io& io);
int Cancel(Client& client, const std::string& id, const std::string& reason, Io& io);

}  // namespace netrig::cli
