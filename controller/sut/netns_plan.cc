#include "controller/sut/netns_plan.h"

#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controller/sut/frr_plan.h"

namespace netrig::controller::sut {
namespace {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string Quote(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

// A decimal number (digits, optional fraction) followed by one of `units` (case-insensitive).
bool IsNumberWithUnit(const std::string& s, const std::set<std::string>& units, bool unit_required) {
  size_t i = 0;
  bool digits = false;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    ++i;
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool frac = false;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      frac = true;
    }
    if (!frac) return false;
  }
  if (!digits) return false;
  double value = 0;
  if (!absl::SimpleAtod(s.substr(0, i), &value) || value <= 0) return false;
  const std::string unit = absl::AsciiStrToLower(s.substr(i));
  if (unit.empty()) return !unit_required;
  return units.count(unit) > 0;
}

// Parses "a.b.c.d" into 4 octets.
bool ParseIpv4(const std::string& s, int octets[4]) {
  std::vector<std::string> parts = absl::StrSplit(s, '.');
  if (parts.size() != 4) return false;
  for (int i = 0; i < 4; ++i) {
    if (parts[i].empty() || parts[i].size() > 3) return false;
    for (char c : parts[i]) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    int v = 0;
    if (!absl::SimpleAtoi(parts[i], &v) || v > 255) return false;
    octets[i] = v;
  }
  return true;
}

std::string FormatIpv4(const int o[4]) { return absl::StrCat(o[0], ".", o[1], ".", o[2], ".", o[3]); }

absl::Status Invalid(const std::string& path, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

Command InNs(const std::string& ns, std::vector<std::string> rest) {
  Command c = {"ip", "-n", ns};
  c.insert(c.end(), rest.begin(), rest.end());
  return c;
}

Command Sysctl(const std::string& ns, std::vector<std::string> settings) {
  Command c = {"ip", "netns", "exec", ns, "sysctl", "-qw"};
  c.insert(c.end(), settings.begin(), settings.end());
  return c;
}

Command PeerIp(const SutLink& link, std::vector<std::string> rest) {
  Command c = {"ip"};
  if (!link.peer_namespace.empty()) {
    c.push_back("-n");
    c.push_back(link.peer_namespace);
  }
  c.insert(c.end(), rest.begin(), rest.end());
  return c;
}

}  // namespace

absl::Status ValidateRunId(const std::string& run_id) {
  if (run_id.empty()) return Invalid("sut.runId", "required");
  if (run_id.size() > kMaxRunIdLength) {
    return Invalid("sut.runId", absl::StrCat(run_id.size(), " characters; at most ", kMaxRunIdLength));
  }
  for (char c : run_id) {
    if (!IsIdChar(c)) {
      return Invalid("sut.runId", absl::StrCat(Quote(run_id), " may only use letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

std::string NamespaceName(const std::string& run_id) {
  const std::string prefix = kNamespacePrefix;
  if (prefix.size() + run_id.size() <= kMaxNamespaceLength) return prefix + run_id;
  // prefix + head + '-' + 8 hex digits == kMaxNamespaceLength
  const size_t head = kMaxNamespaceLength - prefix.size() - 9;
  return absl::StrCat(prefix, run_id.substr(0, head), "-", HashHex(run_id, 8));
}

bool IsValidIfname(const std::string& name) {
  if (name.empty() || name.size() > kMaxIfnameLength || name == "." || name == "..") return false;
  for (char c : name) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

std::string DefaultPeerIfname(const std::string& run_id, size_t index) {
  return absl::StrCat("nr", HashHex(run_id, 6), "p", index);
}

std::string DerivedMac(const std::string& seed) {
  const uint64_t h = StableHash(seed);
  char buf[18];
  std::snprintf(buf, sizeof(buf), "02:%02x:%02x:%02x:%02x:%02x", static_cast<unsigned>((h >> 32) & 0xff),
                static_cast<unsigned>((h >> 24) & 0xff), static_cast<unsigned>((h >> 16) & 0xff),
                static_cast<unsigned>((h >> 8) & 0xff), static_cast<unsigned>(h & 0xff));
  return buf;
}

bool IsTcRate(const std::string& s) {
  static const std::set<std::string> kUnits = {"bit", "kbit", "mbit", "gbit", "tbit",
                                               "bps", "kbps", "mbps", "gbps", "tbps",
                                               "kibit", "mibit", "gibit", "tibit",
                                               "kibps", "mibps", "gibps", "tibps"};
  return IsNumberWithUnit(s, kUnits, true);
}

bool IsTcSize(const std::string& s) {
  static const std::set<std::string> kUnits = {"b", "k", "kb", "m", "mb", "g", "gb",
                                               "kbit", "mbit", "gbit"};
  return IsNumberWithUnit(s, kUnits, false);
}

bool IsTcTime(const std::string& s) {
  static const std::set<std::string> kUnits = {"s", "sec", "secs", "ms", "msec", "msecs",
                                               "us", "usec", "usecs"};
  return IsNumberWithUnit(s, kUnits, true);
}

absl::StatusOr<SutInstance> PlanInstance(const SutRequest& request) {
  if (absl::Status s = ValidateRunId(request.run_id); !s.ok()) return s;
  SutInstance inst;
  inst.run_id = request.run_id;
  inst.template_name = request.template_name;
  inst.namespace_name = NamespaceName(request.run_id);

  // Template and its parameters.
  if (request.template_name == kTemplateLinuxRouter) {
    for (const auto& [key, value] : request.parameters) {
      return Invalid(absl::StrCat("sut.parameters.", key),
                     "unknown parameter (linux-router takes no parameters)");
    }
  } else if (request.template_name == kTemplateLinuxShaper) {
    std::map<std::string, std::string> p = {
        {"qdisc", "tbf"}, {"rate", "100mbit"}, {"burst", "16kb"}, {"latency", "10ms"}};
    for (const auto& [key, value] : request.parameters) {
      if (!p.count(key)) {
        return Invalid(absl::StrCat("sut.parameters.", key),
                       "unknown parameter (linux-shaper takes qdisc, rate, burst, latency)");
      }
      p[key] = value;
    }
    if (p["qdisc"] != "tbf" && p["qdisc"] != "htb") {
      return Invalid("sut.parameters.qdisc", absl::StrCat(Quote(p["qdisc"]), " is not tbf or htb"));
    }
    if (!IsTcRate(p["rate"])) {
      return Invalid("sut.parameters.rate",
                     absl::StrCat(Quote(p["rate"]), " is not a rate (e.g. 100mbit, 1gbit, 500kbit)"));
    }
    if (!IsTcSize(p["burst"])) {
      return Invalid("sut.parameters.burst",
                     absl::StrCat(Quote(p["burst"]), " is not a size (e.g. 16kb, 1500b, 1mb)"));
    }
    if (!IsTcTime(p["latency"])) {
      return Invalid("sut.parameters.latency",
                     absl::StrCat(Quote(p["latency"]), " is not a time (e.g. 10ms, 500us, 1s)"));
    }
    if (p["qdisc"] == "htb" && request.parameters.count("latency")) {
      return Invalid("sut.parameters.latency", "only the tbf qdisc takes a latency");
    }
    if (p["qdisc"] == "htb") p.erase("latency");
    inst.parameters = std::move(p);
  } else if (request.template_name != kTemplateFrrRouter) {
    return absl::InvalidArgumentError(
        absl::StrCat("sut.template: unknown template ", Quote(request.template_name),
                     " (known: linux-router, linux-shaper, frr-router)"));
  }

  // Links.
  if (request.links.empty()) return Invalid("sut.links", "at least one link is required");
  if (request.links.size() > kMaxLinks) {
    return Invalid("sut.links", absl::StrCat(request.links.size(), " links; at most ", kMaxLinks));
  }
  std::set<std::string> names, sut_ifnames, peer_keys;
  for (size_t i = 0; i < request.links.size(); ++i) {
    const SutLinkRequest& lr = request.links[i];
    const std::string path = absl::StrCat("sut.links[", i, "]");
    SutLink l;
    l.name = lr.name;
    if (l.name.empty()) return Invalid(path + ".name", "required");
    for (char c : l.name) {
      if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
            absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return Invalid(path + ".name", absl::StrCat(Quote(l.name), " may only use lowercase letters, digits, '-'"));
      }
    }
    if (!names.insert(l.name).second) return Invalid(path + ".name", absl::StrCat("duplicate link ", Quote(l.name)));

    l.sut_ifname = lr.sut_ifname;
    if (l.sut_ifname.empty()) l.sut_ifname = IsValidIfname(l.name) ? l.name : absl::StrCat("sut", i);
    if (!IsValidIfname(l.sut_ifname) || l.sut_ifname == "lo") {
      return Invalid(path + ".sutIfname", absl::StrCat(Quote(l.sut_ifname), " is not a valid interface name (1..15 of [A-Za-z0-9._-])"));
    }
    if (!sut_ifnames.insert(l.sut_ifname).second) {
      return Invalid(path + ".sutIfname", absl::StrCat("duplicate interface ", Quote(l.sut_ifname)));
    }

    l.peer_namespace = lr.peer_namespace;
    if (!l.peer_namespace.empty()) {
      bool ok = l.peer_namespace.size() <= 255 && l.peer_namespace != "." && l.peer_namespace != "..";
      for (char c : l.peer_namespace) ok = ok && IsIdChar(c);
      if (!ok) return Invalid(path + ".peerNamespace", absl::StrCat(Quote(l.peer_namespace), " is not a valid namespace name"));
      if (l.peer_namespace == inst.namespace_name) {
        return Invalid(path + ".peerNamespace", "must not be the SUT's own namespace");
      }
    }
    l.peer_ifname = lr.peer_ifname.empty() ? DefaultPeerIfname(request.run_id, i) : lr.peer_ifname;
    if (!IsValidIfname(l.peer_ifname) || l.peer_ifname == "lo") {
      return Invalid(path + ".peerIfname", absl::StrCat(Quote(l.peer_ifname), " is not a valid interface name (1..15 of [A-Za-z0-9._-])"));
    }
    if (!peer_keys.insert(l.peer_namespace + "/" + l.peer_ifname).second) {
      return Invalid(path + ".peerIfname", absl::StrCat("duplicate agent-side interface ", Quote(l.peer_ifname)));
    }

    // Addresses.
    if (lr.ipv4.empty()) {
      l.ipv4 = i == 0 ? "198.18.1.1/24" : i == 1 ? "198.19.1.1/24" : absl::StrCat("198.18.", i, ".1/24");
    } else {
      l.ipv4 = lr.ipv4;
    }
    int o[4];
    int prefix = 0;
    std::pair<std::string, std::string> cidr = absl::StrSplit(l.ipv4, absl::MaxSplits('/', 1));
    if (!ParseIpv4(cidr.first, o) || !absl::SimpleAtoi(cidr.second, &prefix) || prefix < 1 || prefix > 30) {
      return Invalid(path + ".ipv4", absl::StrCat(Quote(l.ipv4), " is not an IPv4 address/prefix (1..30), e.g. 198.18.1.1/24"));
    }
    if (lr.peer_ipv4.empty()) {
      int p[4] = {o[0], o[1], o[2], o[3] == 2 ? 1 : 2};
      l.peer_ipv4 = FormatIpv4(p);
    } else {
      int p[4];
      if (!ParseIpv4(lr.peer_ipv4, p)) {
        return Invalid(path + ".peerIpv4", absl::StrCat(Quote(lr.peer_ipv4), " is not an IPv4 address"));
      }
      l.peer_ipv4 = lr.peer_ipv4;
    }
    if (l.peer_ipv4 == cidr.first) return Invalid(path + ".peerIpv4", "must differ from the SUT address");

    l.sut_mac = DerivedMac(absl::StrCat(inst.namespace_name, "/", i, "/sut"));
    l.peer_mac = DerivedMac(absl::StrCat(inst.namespace_name, "/", i, "/peer"));
    inst.next_hops.push_back(NextHop{l.name, cidr.first, l.sut_mac});
    inst.links.push_back(std::move(l));
  }

  // frr-router's defaults depend on the links (OSPF networks, router id).
  if (request.template_name == kTemplateFrrRouter) {
    absl::StatusOr<FrrParams> frr =
        ResolveFrrParams(request.parameters, inst.namespace_name, inst.links);
    if (!frr.ok()) return frr.status();
    inst.parameters = FrrParamsToMap(*frr);
  }
  return inst;
}

std::vector<Command> CreateCommands(const SutInstance& inst) {
  const std::string& ns = inst.namespace_name;
  std::vector<Command> cmds;
  cmds.push_back({"ip", "netns", "add", ns});
  // The run id rides on lo's alias so ListOrphans can recover it from a hashed namespace name.
  cmds.push_back(InNs(ns, {"link", "set", "dev", "lo", "alias", inst.run_id}));
  cmds.push_back(InNs(ns, {"link", "set", "dev", "lo", "up"}));
  // Set before the links exist so they inherit rp_filter=0 and forwarding=1.
  cmds.push_back(Sysctl(ns, {"net/ipv4/conf/all/rp_filter=0", "net/ipv4/conf/default/rp_filter=0",
                             "net/ipv4/ip_forward=1", "net/ipv6/conf/all/forwarding=1"}));
  const std::string qdisc = ExpectedQdisc(inst);
  for (const SutLink& l : inst.links) {
    // The agent end is created where it belongs; the SUT end goes straight into the SUT netns.
    cmds.push_back(PeerIp(l, {"link", "add", l.peer_ifname, "address", l.peer_mac, "type", "veth",
                              "peer", "name", l.sut_ifname, "address", l.sut_mac, "netns", ns}));
    cmds.push_back(Sysctl(ns, {absl::StrCat("net/ipv4/conf/", l.sut_ifname, "/rp_filter=0")}));
    cmds.push_back(InNs(ns, {"addr", "add", l.ipv4, "dev", l.sut_ifname}));
    cmds.push_back(InNs(ns, {"link", "set", "dev", l.sut_ifname, "up"}));
    cmds.push_back(PeerIp(l, {"link", "set", "dev", l.peer_ifname, "up"}));
    // Agents do not answer ARP: a permanent neighbour entry for the agent's address.
    cmds.push_back(InNs(ns, {"neigh", "replace", l.peer_ipv4, "lladdr", l.peer_mac, "dev",
                             l.sut_ifname, "nud", "permanent"}));
    if (qdisc == "tbf") {
      cmds.push_back({"tc", "-n", ns, "qdisc", "add", "dev", l.sut_ifname, "root", "tbf", "rate",
                      inst.parameters.at("rate"), "burst", inst.parameters.at("burst"), "latency",
                      inst.parameters.at("latency")});
    } else if (qdisc == "htb") {
      cmds.push_back({"tc", "-n", ns, "qdisc", "add", "dev", l.sut_ifname, "root", "handle", "1:",
                      "htb", "default", "1"});
      cmds.push_back({"tc", "-n", ns, "class", "add", "dev", l.sut_ifname, "parent", "1:",
                      "classid", "1:1", "htb", "rate", inst.parameters.at("rate"), "ceil",
                      inst.parameters.at("rate"), "burst", inst.parameters.at("burst")});
    }
  }
  return cmds;
}

Command DestroyCommand(const std::string& namespace_name) {
  return {"ip", "netns", "del", namespace_name};
}

Command InNamespaceLinkDelCommand(const std::string& namespace_name, const std::string& ifname) {
  return InNs(namespace_name, {"link", "del", "dev", ifname});
}

Command ListNamespacesCommand() { return {"ip", "netns", "list"}; }

Command LinkSetCommand(const SutInstance& inst, const SutLink& link, bool up) {
  return InNs(inst.namespace_name, {"link", "set", "dev", link.sut_ifname, up ? "up" : "down"});
}

Command LinkShowCommand(const SutInstance& inst, const SutLink& link) {
  return InNs(inst.namespace_name, {"-o", "link", "show", "dev", link.sut_ifname});
}

Command ForwardingCommand(const SutInstance& inst) {
  return {"ip", "netns", "exec", inst.namespace_name, "sysctl", "-n", "net/ipv4/ip_forward"};
}

Command QdiscShowCommand(const SutInstance& inst, const SutLink& link) {
  return {"tc", "-n", inst.namespace_name, "qdisc", "show", "dev", link.sut_ifname};
}

Command LoAliasCommand(const std::string& namespace_name) {
  return InNs(namespace_name, {"-o", "link", "show", "dev", "lo"});
}

LinkState ParseLinkShow(const std::string& out) {
  LinkState st;
  const size_t open = out.find('<');
  const size_t close = out.find('>', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return st;
  st.found = true;
  for (absl::string_view flag : absl::StrSplit(absl::string_view(out).substr(open + 1, close - open - 1), ',')) {
    if (flag == "UP") st.up = true;
    if (flag == "LOWER_UP") st.carrier = true;
  }
  return st;
}

std::vector<std::string> ParseNetnsList(const std::string& out) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipWhitespace())) {
    line = absl::StripAsciiWhitespace(line);
    const size_t sp = line.find(' ');
    names.emplace_back(line.substr(0, sp));
  }
  return names;
}

std::string ParseLinkAlias(const std::string& out) {
  // `ip -o` joins lines with a backslash: "...\    alias run-1".
  const size_t pos = out.find(" alias ");
  if (pos == std::string::npos) return "";
  absl::string_view rest = absl::string_view(out).substr(pos + 7);
  const size_t end = rest.find_first_of("\\\n");
  return std::string(absl::StripAsciiWhitespace(rest.substr(0, end)));
}

std::string ExpectedQdisc(const SutInstance& inst) {
  if (inst.template_name != kTemplateLinuxShaper) return "";
  auto it = inst.parameters.find("qdisc");
  return it == inst.parameters.end() ? "tbf" : it->second;
}

}  // namespace netrig::controller::sut
