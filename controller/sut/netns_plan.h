// The pure part of the netns SUT provider: name derivation, request validation and the
// ip/tc/sysctl command lines, so all of it can be tested without root or executing anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/sut/exec.h"
#include "controller/sut/sut_provider.h"
#include "lib/common/stable_hash.h"

namespace netrig::controller::sut {

inline constexpr char kNamespacePrefix[] = "nrsut-";
inline constexpr size_t kMaxRunIdLength = 128;
inline constexpr size_t kMaxNamespaceLength = 40;  // "nrsut-" + run id, hashed beyond this
inline constexpr size_t kMaxIfnameLength = 15;     // IFNAMSIZ - 1
inline constexpr size_t kMaxLinks = 16;

// Names derived from run ids use the FNV-1a hash of lib/common/stable_hash.h: stable across
// processes and builds (names must survive a controller restart).
using common::HashHex;
using common::StableHash;

// [A-Za-z0-9._-]{1,128}; InvalidArgument "sut.runId: ..." otherwise.
absl::Status ValidateRunId(const std::string& run_id);
// "nrsut-<run_id>" when that fits in kMaxNamespaceLength, else
// "nrsut-<first part of run_id>-<8 hex digits of its hash>". Requires a valid run id.
std::string NamespaceName(const std::string& run_id);
// A Linux interface name: 1..15 of [A-Za-z0-9._-], not "." / "..".
bool IsValidIfname(const std::string& name);
// Default agent-side interface name for link `index`: "nr<6 hex of run id hash>p<index>".
std::string DefaultPeerIfname(const std::string& run_id, size_t index);
// Locally administered unicast MAC derived from `seed` ("02:xx:xx:xx:xx:xx").
std::string DerivedMac(const std::string& seed);

// tc value syntax (units required): rate "100mbit" / "1gbit" / "12.5mbps", size "16kb" / "1500b"
// / "1mbit", time "10ms" / "1s" / "500us".
bool IsTcRate(const std::string& s);
bool IsTcSize(const std::string& s);
bool IsTcTime(const std::string& s);

// Validates the request and resolves everything that can be decided up front: the namespace
// and interface names, MACs (set explicitly at creation, so next hops are known before), the
// addresses and the template parameters with defaults applied. InvalidArgument on bad input,
// with a field path ("sut.template", "sut.parameters.rate", "sut.links[1].peerIfname").
absl::StatusOr<SutInstance> PlanInstance(const SutRequest& request);

// Commands that build `instance`, in order. Any failure means: destroy the namespace.
std::vector<Command> CreateCommands(const SutInstance& instance);
Command DestroyCommand(const std::string& namespace_name);
// ip -n <ns> link del dev <ifname> (removes a veth pair at once, both ends).
Command InNamespaceLinkDelCommand(const std::string& namespace_name, const std::string& ifname);
Command ListNamespacesCommand();
// ip link set dev <sut_ifname> up|down inside the SUT namespace.
Command LinkSetCommand(const SutInstance& instance, const SutLink& link, bool up);

// Readiness probes and their parsers.
Command LinkShowCommand(const SutInstance& instance, const SutLink& link);
Command ForwardingCommand(const SutInstance& instance);
Command QdiscShowCommand(const SutInstance& instance, const SutLink& link);
Command LoAliasCommand(const std::string& namespace_name);

struct LinkState {
  bool found = false;
  bool up = false;       // administratively UP
  bool carrier = false;  // LOWER_UP
};
// Parses `ip -o link show dev X` ("2: west@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> ...").
LinkState ParseLinkShow(const std::string& out);
// Names from `ip netns list` ("name (id: 3)" or "name" per line).
std::vector<std::string> ParseNetnsList(const std::string& out);
// The "alias <text>" of `ip -o link show dev lo`, or "" when there is none.
std::string ParseLinkAlias(const std::string& out);
// The qdisc the shaper template asks for ("tbf" / "htb"), or "" for the router.
std::string ExpectedQdisc(const SutInstance& instance);

}  // namespace netrig::controller::sut
