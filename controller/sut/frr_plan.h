// The pure part of the frr-router template: parameter resolution, a light analysis of the
// frr.conf text (which daemon each line needs), the daemon and vtysh command lines, and the
// parsers of their output. Nothing here executes anything, so all of it is unit-tested.
//
// Recipe (controller/sut/frr_daemons.h runs it): every instance gets a directory
// <state dir>/<namespace>/ holding frr.conf, vtysh.conf, the daemons' pid files, logs, vty
// sockets and the zserv socket. The daemons start inside the SUT namespace reading only
// daemons.conf (the `frr defaults` and `hostname` lines of frr.conf, which FRR takes at start
// only), then `vtysh -f frr.conf` applies the integrated configuration, as FRR's own init script
// does with `vtysh -b`. The instance directory appears in every daemon's command line, which is
// how leftovers are found after a crash.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/sut/exec.h"
#include "controller/sut/sut_provider.h"

namespace netrig::controller::sut {

// Parameter names.
inline constexpr char kFrrDaemonsParam[] = "daemons";
inline constexpr char kFrrConfigParam[] = "config";
inline constexpr char kFrrWaitForParam[] = "waitFor";

// waitFor conditions.
inline constexpr char kWaitDaemons[] = "daemons";
inline constexpr char kWaitBgpEstablished[] = "bgp-established";
inline constexpr char kWaitOspfFull[] = "ospf-full";

inline constexpr size_t kMaxFrrConfigBytes = 64 * 1024;
inline constexpr char kDefaultBgpAsn[] = "65000";

// The daemons frr-router can run, in start order (zebra first: the others connect to it).
const std::vector<std::string>& FrrSupportedDaemons();

// frr-router's parameters, resolved.
struct FrrParams {
  std::vector<std::string> daemons;   // start order, zebra first
  std::string config;                 // frr.conf text
  std::vector<std::string> wait_for;  // "daemons" first
};

// Validates `parameters` against the links and applies the defaults:
//   daemons  default: zebra + what the config needs, or zebra,ospfd without a config;
//   config   default: DefaultFrrConfig(hostname, links, daemons);
//   waitFor  default: daemons.
// InvalidArgument with a field path ("sut.parameters.daemons: ...") on bad input.
absl::StatusOr<FrrParams> ResolveFrrParams(const std::map<std::string, std::string>& parameters,
                                           const std::string& hostname,
                                           const std::vector<SutLink>& links);
// The resolved parameters as SutInstance.parameters stores them, and back.
std::map<std::string, std::string> FrrParamsToMap(const FrrParams& params);
FrrParams FrrParamsOf(const SutInstance& instance);

// hostname, then OSPF area 0 on every link (ospfd) and a BGP instance with AS 65000 and no
// neighbours (bgpd). Router ids are the first link's address.
std::string DefaultFrrConfig(const std::string& hostname, const std::vector<SutLink>& links,
                             const std::vector<std::string>& daemons);

// One line of frr.conf with the daemon it needs ("" when any daemon, or zebra, takes it).
struct FrrConfigLine {
  int number = 0;    // 1-based
  std::string text;  // without surrounding whitespace
  std::string
      section;         // the top-level line it belongs to ("router bgp 65001"), itself if top-level
  std::string daemon;  // "bgpd", "ospfd", "staticd", an unsupported one ("ripd"), or ""
};
std::vector<FrrConfigLine> AnalyzeFrrConfig(const std::string& config);

// What the daemons read at start (daemons.conf): the top-level `frr defaults` and `hostname`
// lines of `config`. vtysh applies everything else; these two only work at start (vtysh keeps a
// hostname to itself, and the defaults profile is chosen before any other command).
std::string FrrStartupConfig(const std::string& config);

// Paths of one instance's files, all in <state_dir>/<namespace>/.
struct FrrPaths {
  std::string dir;
  std::string Config() const { return dir + "/frr.conf"; }
  std::string StartupConfig() const { return dir + "/daemons.conf"; }
  std::string VtyshConfig() const { return dir + "/vtysh.conf"; }
  std::string RunId() const { return dir + "/run-id"; }
  std::string Zserv() const { return dir + "/zserv.api"; }
  std::string Pid(const std::string& daemon) const { return dir + "/" + daemon + ".pid"; }
  std::string Log(const std::string& daemon) const { return dir + "/" + daemon + ".log"; }
  // Appears in the command line of every daemon of the instance, and of no other process.
  std::string Marker() const { return dir + "/"; }
};
FrrPaths FrrPathsFor(const std::string& state_dir, const std::string& namespace_name);

// ip netns exec <ns> <bin_dir>/<daemon> -d -f <dir>/daemons.conf -i <pid> -z <zserv>
//   --vty_socket <dir> --log file:<log> -P 0
Command FrrStartCommand(const std::string& bin_dir, const std::string& namespace_name,
                        const FrrPaths& paths, const std::string& daemon);
// vtysh --vty_socket <dir> --config_dir <dir> <args...>
Command VtyshCommand(const std::string& vtysh, const FrrPaths& paths,
                     std::vector<std::string> args);
Command VtyshDryRunCommand(const std::string& vtysh, const FrrPaths& paths);  // -C -f frr.conf
Command VtyshApplyCommand(const std::string& vtysh, const FrrPaths& paths);   // -f frr.conf
Command VtyshShowCommand(const std::string& vtysh, const FrrPaths& paths, const std::string& show);
Command ProcessListCommand();  // ps -ww -e -o pid=,args=
Command KillCommand(const std::string& signal, const std::vector<int>& pids);  // kill -<sig> pids

// A config line FRR refused, from vtysh's output.
struct FrrConfigError {
  int line = 0;
  std::string daemon;  // who refused it, or whose section it is in; may be empty
  std::string text;    // the config line
  std::string reason;  // FRR's words ("% Unknown command", "% Configure the peer-group first")
};
// Errors of `vtysh -C -f` (dry run) or `vtysh -f` (apply): "line N: ..." lines on stderr and
// "% ..." messages from the daemons on stdout. `lines` is the config's analysis.
std::vector<FrrConfigError> ParseVtyshErrors(const std::string& out, const std::string& err,
                                             const std::vector<FrrConfigLine>& lines);
// "bgpd: line 3 (neighbor 198.18.1.2 remote-az 65002): % Unknown command; ..."
std::string DescribeConfigErrors(const std::vector<FrrConfigError>& errors);

// Daemon names from `vtysh -c "show daemons"` (" zebra ospfd bgpd").
std::vector<std::string> ParseShowDaemons(const std::string& out);

struct BgpNeighbor {
  std::string name;   // address or interface
  std::string state;  // "Established", "Active", ...
};
// `show bgp neighbors json`: {"198.18.1.2": {"bgpState": "Active", ...}, ...}.
absl::StatusOr<std::vector<BgpNeighbor>> ParseBgpNeighbors(const std::string& json);

struct OspfNeighbor {
  std::string router_id;
  std::string address;
  std::string ifname;
  std::string state;  // "Full/DR", "ExStart/-", ...
};
// `show ip ospf neighbor json`: {"neighbors": {"<router id>": [{"nbrState": ..., ...}]}}.
absl::StatusOr<std::vector<OspfNeighbor>> ParseOspfNeighbors(const std::string& json);

// What keeps a waitFor condition from being met; empty when it is met.
std::vector<std::string> BgpNotReady(const std::vector<BgpNeighbor>& neighbors);
std::vector<std::string> OspfNotReady(const std::vector<OspfNeighbor>& neighbors);

struct ProcessEntry {
  int pid = 0;
  std::string args;
};
std::vector<ProcessEntry> ParseProcessList(const std::string& out);
// Pids whose command line contains `marker`.
std::vector<int> PidsWithMarker(const std::vector<ProcessEntry>& processes,
                                const std::string& marker);

// The last `max_lines` meaningful lines of a daemon's stderr or log, joined with "; ": FRR's log
// prefix ("2026/01/02 03:04:05 BGP: [XXXXX-XXXXX][EC 123] ") and known-harmless notices removed.
std::string FrrOutputTail(const std::string& text, size_t max_lines);

}  // namespace netrig::controller::sut
