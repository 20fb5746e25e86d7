#include "controller/sut/frr_daemons.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "controller/sut/netns_plan.h"

namespace netrig::controller::sut {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, const std::string& content, fs::perms perms) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  std::error_code ec;
  fs::permissions(path, perms, ec);
  if (ec) return absl::InternalError(absl::StrCat("chmod ", path, ": ", ec.message()));
  return absl::OkStatus();
}

std::string Failure(const Command& argv, const ExecResult& r) {
  std::string detail = FrrOutputTail(r.err + "\n" + r.out, 3);
  return absl::StrCat("`", RenderCommand(argv), "` failed (exit ", r.exit_code, ")",
                      detail.empty() ? "" : ": ", detail);
}

}  // namespace

FrrDaemons::FrrDaemons(CommandRunner& runner, FrrOptions options, absl::Duration poll_interval)
    : runner_(runner), options_(std::move(options)), poll_interval_(poll_interval) {}

FrrPaths FrrDaemons::PathsFor(const std::string& namespace_name) const {
  return FrrPathsFor(options_.state_dir, namespace_name);
}

absl::Status FrrDaemons::CheckInstalled(const std::vector<std::string>& daemons) const {
  std::vector<std::string> binaries = {options_.vtysh};
  for (const std::string& d : daemons) binaries.push_back(absl::StrCat(options_.bin_dir, "/", d));
  for (const std::string& b : binaries) {
    if (access(b.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(b, " is not installed (frr-router needs FRR: apt-get install frr)"));
    }
  }
  return absl::OkStatus();
}

absl::Status FrrDaemons::Prepare(const SutInstance& inst) {
  const FrrPaths paths = PathsFor(inst.namespace_name);
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("mkdir ", options_.state_dir, ": ", ec.message()));
  if (!fs::create_directory(paths.dir, ec) || ec) {
    return absl::InternalError(
        absl::StrCat("mkdir ", paths.dir, ": ", ec ? ec.message() : "already exists"));
  }
  auto fail = [&](absl::Status s) {
    fs::remove_all(paths.dir, ec);
    return s;
  };
  fs::permissions(paths.dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                  ec);
  // vtysh (root) reads frr.conf; the daemons, already running as the frr user, daemons.conf.
  const fs::perms root_only =
      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read;
  const fs::perms readable = root_only | fs::perms::others_read;
  const std::string config = FrrParamsOf(inst).config;
  for (const auto& [path, content, perms] :
       std::vector<std::tuple<std::string, std::string, fs::perms>>{
           {paths.Config(), config, root_only},
           {paths.StartupConfig(), FrrStartupConfig(config), readable},
           {paths.VtyshConfig(), "service integrated-vtysh-config\n", root_only},
           {paths.RunId(), inst.run_id + "\n", root_only}}) {
    if (absl::Status s = WriteFile(path, content, perms); !s.ok()) return fail(s);
  }
  const Command chown = {"chown", options_.user + ":" + options_.group, paths.dir};
  if (ExecResult r = runner_.Run(chown); !r.ok())
    return fail(absl::InternalError(Failure(chown, r)));

  // FRR's own parser (vtysh knows every daemon's commands) before anything runs.
  const Command dry_run = VtyshDryRunCommand(options_.vtysh, paths);
  ExecResult r = runner_.Run(dry_run);
  if (r.ok()) return absl::OkStatus();
  const std::vector<FrrConfigError> errors =
      ParseVtyshErrors(r.out, r.err, AnalyzeFrrConfig(config));
  const std::string detail =
      errors.empty() ? FrrOutputTail(r.err + "\n" + r.out, 3) : DescribeConfigErrors(errors);
  return fail(absl::InvalidArgumentError(absl::StrCat(
      "sut.parameters.config: FRR rejected it (`vtysh -C` exit ", r.exit_code, "): ", detail)));
}

absl::Status FrrDaemons::Start(const SutInstance& inst) {
  const FrrPaths paths = PathsFor(inst.namespace_name);
  const FrrParams params = FrrParamsOf(inst);
  for (const std::string& d : params.daemons) {
    // With -d the command returns once the daemon is up, or with its exit status if it died.
    ExecResult r = runner_.Run(FrrStartCommand(options_.bin_dir, inst.namespace_name, paths, d));
    if (r.ok()) continue;
    std::string detail = FrrOutputTail(r.err + "\n" + r.out, 3);
    if (detail.empty()) detail = FrrOutputTail(ReadFile(paths.Log(d)), 3);
    return absl::InternalError(absl::StrCat(d, " failed to start (exit ", r.exit_code, ")",
                                            detail.empty() ? "" : ": ", detail));
  }

  // The integrated configuration, as FRR's init does it: vtysh sends each line to its daemons.
  ExecResult r = runner_.Run(VtyshApplyCommand(options_.vtysh, paths));
  if (!r.ok()) {
    const std::vector<FrrConfigError> errors =
        ParseVtyshErrors(r.out, r.err, AnalyzeFrrConfig(params.config));
    return absl::FailedPreconditionError(absl::StrCat(
        "the daemons rejected frr.conf (`vtysh -f` exit ", r.exit_code, "): ",
        errors.empty() ? FrrOutputTail(r.err + "\n" + r.out, 3) : DescribeConfigErrors(errors)));
  }

  // A daemon can still die on the configuration it was just given.
  const std::vector<std::string> running = RunningDaemons(paths);
  for (const std::string& d : params.daemons) {
    if (std::find(running.begin(), running.end(), d) != running.end()) continue;
    const std::string log = FrrOutputTail(ReadFile(paths.Log(d)), 3);
    return absl::InternalError(
        absl::StrCat(d, " exited right after start", log.empty() ? "" : ": ", log));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> FrrDaemons::OwnProcesses(const FrrPaths& paths) {
  const Command ps = ProcessListCommand();
  ExecResult r = runner_.Run(ps);
  if (!r.ok()) return absl::InternalError(Failure(ps, r));
  const std::vector<ProcessEntry> processes = ParseProcessList(r.out);
  std::set<int> pids;
  // The pid files first; a pid is only ours while its command line still names the instance
  // directory (pids are recycled).
  for (const std::string& d : FrrSupportedDaemons()) {
    int pid = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(paths.Pid(d))), &pid)) continue;
    for (const ProcessEntry& p : processes) {
      if (p.pid == pid && absl::StrContains(p.args, paths.Marker())) pids.insert(pid);
    }
  }
  // Then anything else started for this instance (a daemon whose pid file is gone).
  for (int pid : PidsWithMarker(processes, paths.Marker())) pids.insert(pid);
  pids.erase(getpid());
  return std::vector<int>(pids.begin(), pids.end());
}

absl::StatusOr<std::vector<int>> FrrDaemons::WaitForExit(const FrrPaths& paths,
                                                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::vector<int>> pids = OwnProcesses(paths);
    if (!pids.ok() || pids->empty() || absl::Now() >= deadline) return pids;
    absl::SleepFor(poll_interval_);
  }
}

absl::Status FrrDaemons::Stop(const std::string& namespace_name) {
  const FrrPaths paths = PathsFor(namespace_name);
  absl::StatusOr<std::vector<int>> pids = OwnProcesses(paths);
  if (pids.ok() && !pids->empty()) {
    (void)runner_.Run(KillCommand("TERM", *pids));
    pids = WaitForExit(paths, options_.stop_timeout);
    if (pids.ok() && !pids->empty()) {
      (void)runner_.Run(KillCommand("KILL", *pids));
      pids = WaitForExit(paths, absl::Seconds(1));
    }
  }
  if (!pids.ok()) return pids.status();
  if (!pids->empty()) {
    return absl::InternalError(absl::StrCat("FRR daemons of ", namespace_name,
                                            " survive SIGKILL: pids ", absl::StrJoin(*pids, " ")));
  }
  std::error_code ec;
  fs::remove_all(paths.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("rm -r ", paths.dir, ": ", ec.message()));
  return absl::OkStatus();
}

std::vector<std::string> FrrDaemons::RunningDaemons(const FrrPaths& paths) {
  // vtysh connects to every daemon whose vty socket answers; with none it exits non-zero.
  ExecResult r = runner_.Run(VtyshShowCommand(options_.vtysh, paths, "show daemons"));
  if (!r.ok()) return {};
  return ParseShowDaemons(r.out);
}

void FrrDaemons::ProbeCondition(const FrrPaths& paths, const std::string& condition,
                                std::vector<std::string>& problems) {
  const bool bgp = condition == kWaitBgpEstablished;
  const Command show = VtyshShowCommand(
      options_.vtysh, paths, bgp ? "show bgp neighbors json" : "show ip ospf neighbor json");
  ExecResult r = runner_.Run(show);
  if (!r.ok()) {
    problems.push_back(absl::StrCat(bgp ? "bgp: " : "ospf: ", Failure(show, r)));
    return;
  }
  std::vector<std::string> more;
  if (bgp) {
    absl::StatusOr<std::vector<BgpNeighbor>> n = ParseBgpNeighbors(r.out);
    more = n.ok() ? BgpNotReady(*n) : std::vector<std::string>{std::string(n.status().message())};
  } else {
    absl::StatusOr<std::vector<OspfNeighbor>> n = ParseOspfNeighbors(r.out);
    more = n.ok() ? OspfNotReady(*n) : std::vector<std::string>{std::string(n.status().message())};
  }
  problems.insert(problems.end(), more.begin(), more.end());
}

void FrrDaemons::Probe(const SutInstance& inst, std::vector<std::string>& problems) {
  const FrrPaths paths = PathsFor(inst.namespace_name);
  const FrrParams params = FrrParamsOf(inst);
  const std::vector<std::string> running = RunningDaemons(paths);
  bool all_running = true;
  for (const std::string& d : params.daemons) {
    if (std::find(running.begin(), running.end(), d) != running.end()) continue;
    problems.push_back(absl::StrCat(d, ": not running (no answer on ", paths.dir, "/", d, ".vty)"));
    all_running = false;
  }
  if (!all_running) return;  // the protocol state of a dead daemon says nothing
  for (const std::string& w : params.wait_for) {
    if (w != kWaitDaemons) ProbeCondition(paths, w, problems);
  }
}

std::map<std::string, std::string> FrrDaemons::ListInstanceDirs() const {
  std::map<std::string, std::string> dirs;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(options_.state_dir, ec)) {
    const std::string ns = e.path().filename().string();
    if (!absl::StartsWith(ns, kNamespacePrefix) || !e.is_directory(ec)) continue;
    std::string run_id(absl::StripAsciiWhitespace(ReadFile(PathsFor(ns).RunId())));
    if (!ValidateRunId(run_id).ok() || NamespaceName(run_id) != ns) {
      run_id = ns.substr(sizeof(kNamespacePrefix) - 1);
    }
    dirs[ns] = run_id;
  }
  return dirs;
}

}  // namespace netrig::controller::sut
