#include "controller/sut/frr_plan.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
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

namespace netrig::controller::sut {
namespace {

using Json = nlohmann::json;

std::string Quote(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

absl::Status Invalid(const std::string& param, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("sut.parameters.", param, ": ", message));
}

std::vector<std::string> Words(absl::string_view s) {
  return absl::StrSplit(s, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
}

// True when `words` starts with the words of `prefix`.
bool StartsWithWords(const std::vector<std::string>& words, absl::string_view prefix) {
  const std::vector<std::string> p = Words(prefix);
  if (p.size() > words.size()) return false;
  return std::equal(p.begin(), p.end(), words.begin());
}

struct DaemonRule {
  const char* prefix;  // leading words of the command ("router bgp")
  const char* daemon;
};

// Top-level commands (and section heads) that only one daemon takes. The supported daemons
// come first; the rest are named so that an error can say which daemon a line would need.
constexpr DaemonRule kTopLevelRules[] = {
    {"router bgp", "bgpd"},
    {"bgp", "bgpd"},
    {"router ospf", "ospfd"},
    {"ip route", "staticd"},
    {"ipv6 route", "staticd"},
    {"ip mroute", "staticd"},
    {"router ospf6", "ospf6d"},
    {"router rip", "ripd"},
    {"router ripng", "ripngd"},
    {"router isis", "isisd"},
    {"router openfabric", "fabricd"},
    {"router eigrp", "eigrpd"},
    {"router babel", "babeld"},
    {"router pim", "pimd"},
    {"router pim6", "pim6d"},
    {"mpls ldp", "ldpd"},
    {"bfd", "bfdd"},
    {"pbr-map", "pbrd"},
};

// Sub-commands (inside interface / vrf sections) that belong to one daemon.
constexpr DaemonRule kSectionRules[] = {
    {"ip ospf", "ospfd"},        {"ip route", "staticd"},
    {"ipv6 route", "staticd"},   {"ipv6 ospf6", "ospf6d"},
    {"ip rip", "ripd"},          {"ipv6 rip", "ripngd"},
    {"ip router isis", "isisd"}, {"ipv6 router isis", "isisd"},
    {"isis", "isisd"},           {"ip router openfabric", "fabricd"},
    {"openfabric", "fabricd"},   {"ip pim", "pimd"},
    {"ip igmp", "pimd"},         {"vrrp", "vrrpd"},
    {"pbr-policy", "pbrd"},      {"ip nhrp", "nhrpd"},
};

std::string MatchRule(std::vector<std::string> words, const DaemonRule* begin,
                      const DaemonRule* end) {
  if (!words.empty() && words[0] == "no") words.erase(words.begin());
  for (const DaemonRule* r = begin; r != end; ++r) {
    if (StartsWithWords(words, r->prefix)) return r->daemon;
  }
  return "";
}

// Parses a comma list, trimming whitespace and dropping empty items.
std::vector<std::string> CommaList(absl::string_view s) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(s, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

// "198.18.1.1/24" -> "198.18.1.0/24"; the address is already validated.
std::string NetworkOf(const std::string& cidr) {
  std::pair<std::string, std::string> parts = absl::StrSplit(cidr, absl::MaxSplits('/', 1));
  in_addr addr{};
  int prefix = 0;
  if (inet_pton(AF_INET, parts.first.c_str(), &addr) != 1 ||
      !absl::SimpleAtoi(parts.second, &prefix) || prefix < 0 || prefix > 32) {
    return cidr;
  }
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  addr.s_addr = htonl(ntohl(addr.s_addr) & mask);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return absl::StrCat(buf, "/", prefix);
}

std::string AddressOf(const std::string& cidr) {
  return std::string(absl::string_view(cidr).substr(0, cidr.find('/')));
}

bool IsSupportedDaemon(const std::string& d) {
  const auto& all = FrrSupportedDaemons();
  return std::find(all.begin(), all.end(), d) != all.end();
}

absl::Status ValidateConfigText(const std::string& config) {
  if (absl::StripAsciiWhitespace(config).empty()) {
    return Invalid(kFrrConfigParam, "empty (omit the parameter for the default configuration)");
  }
  if (config.size() > kMaxFrrConfigBytes) {
    return Invalid(kFrrConfigParam,
                   absl::StrCat(config.size(), " bytes; at most ", kMaxFrrConfigBytes));
  }
  int line = 1;
  for (char c : config) {
    if (c == '\n') ++line;
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      return Invalid(kFrrConfigParam, absl::StrCat("line ", line, ": control character 0x",
                                                   absl::Hex(u, absl::kZeroPad2)));
    }
  }
  return absl::OkStatus();
}

bool HasBgpNeighbor(const std::vector<FrrConfigLine>& lines) {
  for (const FrrConfigLine& l : lines) {
    if (absl::StartsWith(l.text, "neighbor ") && (l.daemon == "bgpd" || l.daemon.empty()))
      return true;
  }
  return false;
}

std::string StripFrrLogPrefix(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  // "2026/11/22 18:16:11 ZEBRA: " (date, time, daemon tag).
  const std::vector<absl::string_view> w = absl::StrSplit(line, absl::MaxSplits(' ', 3));
  if (w.size() == 4 && w[0].size() == 10 && w[0][4] == '/' && w[1].size() == 8 && w[1][2] == ':' &&
      absl::EndsWith(w[2], ":")) {
    line = w[3];
  }
  // "[NTCMZ-C8X80][EC 100663303] ".
  while (absl::StartsWith(line, "[")) {
    const size_t close = line.find(']');
    if (close == absl::string_view::npos) break;
    line = absl::StripLeadingAsciiWhitespace(line.substr(close + 1));
  }
  return std::string(line);
}

bool IsHarmlessNotice(absl::string_view line) {
  return absl::StrContains(line, "Disabling MPLS support") ||
         absl::StrContains(line, "option overrides -N option") ||
         absl::StrContains(line, "Can't open configuration file");
}

std::string JsonString(const Json& obj, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

absl::StatusOr<Json> ParseJsonObject(const std::string& text, const char* what) {
  if (absl::StripAsciiWhitespace(text).empty()) return Json::object();
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    std::string first(absl::StripAsciiWhitespace(text).substr(0, 120));
    return absl::UnavailableError(absl::StrCat(what, ": not JSON: ", first));
  }
  return j;
}

// Adds the daemons of the `daemons` parameter to `daemons`.
absl::Status AddGivenDaemons(const std::string& given, std::set<std::string>& daemons) {
  const std::string supported = absl::StrJoin(FrrSupportedDaemons(), ", ");
  const std::vector<std::string> items = CommaList(given);
  if (items.empty()) {
    return Invalid(kFrrDaemonsParam, absl::StrCat("empty (e.g. zebra,bgpd; from ", supported, ")"));
  }
  for (const std::string& d : items) {
    if (!IsSupportedDaemon(d)) {
      return Invalid(kFrrDaemonsParam, absl::StrCat(Quote(d), " is not one of ", supported));
    }
    daemons.insert(d);
  }
  return absl::OkStatus();
}

// Checks the config text and the daemons its lines need: with a `daemons` parameter (`given`)
// they must be in `daemons` already, without one they are added.
absl::Status CheckConfig(const std::string& config, const std::string* given,
                         std::set<std::string>& daemons) {
  if (absl::Status s = ValidateConfigText(config); !s.ok()) return s;
  for (const FrrConfigLine& l : AnalyzeFrrConfig(config)) {
    if (absl::StartsWith(l.text, "log file")) {
      return Invalid(kFrrConfigParam, absl::StrCat("line ", l.number, " (", l.text,
                                                   "): not allowed; every daemon logs to "
                                                   "<instance dir>/<daemon>.log"));
    }
    if (l.daemon.empty()) continue;
    if (!IsSupportedDaemon(l.daemon)) {
      return Invalid(kFrrConfigParam,
                     absl::StrCat("line ", l.number, " (", l.text, ") needs ", l.daemon,
                                  ", which frr-router does not run (it runs ",
                                  absl::StrJoin(FrrSupportedDaemons(), ", "), ")"));
    }
    if (given != nullptr && !daemons.count(l.daemon)) {
      return Invalid(kFrrDaemonsParam,
                     absl::StrCat(Quote(*given), " lacks ", l.daemon, ", which config line ",
                                  l.number, " (", l.text, ") needs"));
    }
    daemons.insert(l.daemon);
  }
  return absl::OkStatus();
}

// The waitFor conditions in canonical order, "daemons" always first; each must be reachable
// with the resolved daemons and config.
absl::StatusOr<std::vector<std::string>> ResolveWaitFor(const std::string* given,
                                                        const FrrParams& p) {
  std::set<std::string> wait = {kWaitDaemons};
  if (given != nullptr) {
    const std::vector<std::string> items = CommaList(*given);
    if (items.empty()) {
      return Invalid(kFrrWaitForParam, "empty (e.g. daemons, bgp-established, ospf-full)");
    }
    for (const std::string& w : items) {
      if (w != kWaitDaemons && w != kWaitBgpEstablished && w != kWaitOspfFull) {
        return Invalid(kFrrWaitForParam, absl::StrCat(Quote(w),
                                                      " is not one of daemons, "
                                                      "bgp-established, ospf-full"));
      }
      wait.insert(w);
    }
  }
  auto runs = [&](const char* d) {
    return std::find(p.daemons.begin(), p.daemons.end(), d) != p.daemons.end();
  };
  if (wait.count(kWaitBgpEstablished)) {
    if (!runs("bgpd")) {
      return Invalid(kFrrWaitForParam, "bgp-established needs bgpd in sut.parameters.daemons");
    }
    if (!HasBgpNeighbor(AnalyzeFrrConfig(p.config))) {
      return Invalid(kFrrWaitForParam, "bgp-established: the config has no BGP neighbor");
    }
  }
  if (wait.count(kWaitOspfFull) && !runs("ospfd")) {
    return Invalid(kFrrWaitForParam, "ospf-full needs ospfd in sut.parameters.daemons");
  }
  std::vector<std::string> out;
  for (const char* w : {kWaitDaemons, kWaitBgpEstablished, kWaitOspfFull}) {
    if (wait.count(w)) out.push_back(w);
  }
  return out;
}
}  // namespace

const std::vector<std::string>& FrrSupportedDaemons() {
  static const std::vector<std::string> kDaemons = {"zebra", "bgpd", "ospfd", "staticd"};
  return kDaemons;
}

std::vector<FrrConfigLine> AnalyzeFrrConfig(const std::string& config) {
  std::vector<FrrConfigLine> out;
  std::string section;         // current top-level section head
  std::string section_daemon;  // the daemon of that section
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(config, '\n')) {
    ++number;
    raw = absl::StripSuffix(raw, "\r");
    const std::string text(absl::StripAsciiWhitespace(raw));
    if (text.empty() || text[0] == '!' || text[0] == '#') continue;
    FrrConfigLine line;
    line.number = number;
    line.text = text;
    const std::vector<std::string> words = Words(text);
    const bool top_level = !raw.empty() && raw[0] != ' ' && raw[0] != '\t';
    if (top_level) {
      if (text == "exit" || text == "end") {
        section.clear();
        section_daemon.clear();
        line.section = text;
        out.push_back(std::move(line));
        continue;
      }
      // Every unindented line starts a new (possibly one-line) section, as in the output of
      // `show running-config`.
      section = text;
      section_daemon = MatchRule(words, std::begin(kTopLevelRules), std::end(kTopLevelRules));
      line.section = section;
      line.daemon = section_daemon;
    } else {
      line.section = section;
      line.daemon = MatchRule(words, std::begin(kSectionRules), std::end(kSectionRules));
      if (line.daemon.empty()) line.daemon = section_daemon;
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::string FrrStartupConfig(const std::string& config) {
  std::string defaults, hostname;
  for (const FrrConfigLine& l : AnalyzeFrrConfig(config)) {
    if (l.section != l.text) continue;  // top-level lines only
    const std::vector<std::string> words = Words(l.text);
    if (StartsWithWords(words, "frr defaults")) defaults = l.text + "\n";
    if (StartsWithWords(words, "hostname")) hostname = l.text + "\n";
  }
  return absl::StrCat("! read by the daemons at start; vtysh applies frr.conf\n", defaults,
                      hostname);
}

std::string DefaultFrrConfig(const std::string& hostname, const std::vector<SutLink>& links,
                             const std::vector<std::string>& daemons) {
  auto runs = [&](const char* d) {
    return std::find(daemons.begin(), daemons.end(), d) != daemons.end();
  };
  const std::string router_id = links.empty() ? "" : AddressOf(links[0].ipv4);
  std::string c = absl::StrCat("hostname ", hostname, "\n!\n");
  if (runs("ospfd")) {
    c += "router ospf\n";
    if (!router_id.empty()) absl::StrAppend(&c, " ospf router-id ", router_id, "\n");
    for (const SutLink& l : links) absl::StrAppend(&c, " network ", NetworkOf(l.ipv4), " area 0\n");
    c += "exit\n!\n";
  }
  if (runs("bgpd")) {
    absl::StrAppend(&c, "router bgp ", kDefaultBgpAsn, "\n");
    if (!router_id.empty()) absl::StrAppend(&c, " bgp router-id ", router_id, "\n");
    c += "exit\n!\n";
  }
  return c;
}

absl::StatusOr<FrrParams> ResolveFrrParams(const std::map<std::string, std::string>& parameters,
                                           const std::string& hostname,
                                           const std::vector<SutLink>& links) {
  for (const auto& [key, value] : parameters) {
    if (key != kFrrDaemonsParam && key != kFrrConfigParam && key != kFrrWaitForParam) {
      return Invalid(key, "unknown parameter (frr-router takes daemons, config, waitFor)");
    }
  }
  auto get = [&](const char* key) -> const std::string* {
    auto it = parameters.find(key);
    return it == parameters.end() ? nullptr : &it->second;
  };

  std::set<std::string> daemons = {"zebra"};
  if (const std::string* given = get(kFrrDaemonsParam)) {
    if (absl::Status s = AddGivenDaemons(*given, daemons); !s.ok()) return s;
  }
  FrrParams p;
  if (const std::string* config = get(kFrrConfigParam)) {
    if (absl::Status s = CheckConfig(*config, get(kFrrDaemonsParam), daemons); !s.ok()) return s;
    p.config = *config;
  } else if (get(kFrrDaemonsParam) == nullptr) {  // neither: OSPF on the links
    daemons.insert("ospfd");
  }
  for (const std::string& d : FrrSupportedDaemons()) {
    if (daemons.count(d)) p.daemons.push_back(d);
  }
  if (p.config.empty()) p.config = DefaultFrrConfig(hostname, links, p.daemons);

  absl::StatusOr<std::vector<std::string>> wait_for = ResolveWaitFor(get(kFrrWaitForParam), p);
  if (!wait_for.ok()) return wait_for.status();
  p.wait_for = *std::move(wait_for);
  return p;
}

std::map<std::string, std::string> FrrParamsToMap(const FrrParams& params) {
  return {{kFrrDaemonsParam, absl::StrJoin(params.daemons, ",")},
          {kFrrConfigParam, params.config},
          {kFrrWaitForParam, absl::StrJoin(params.wait_for, ",")}};
}

FrrParams FrrParamsOf(const SutInstance& instance) {
  FrrParams p;
  auto get = [&](const char* key) {
    auto it = instance.parameters.find(key);
    return it == instance.parameters.end() ? std::string() : it->second;
  };
  p.daemons = CommaList(get(kFrrDaemonsParam));
  p.config = get(kFrrConfigParam);
  p.wait_for = CommaList(get(kFrrWaitForParam));
  return p;
}

FrrPaths FrrPathsFor(const std::string& state_dir, const std::string& namespace_name) {
  std::string dir(absl::StripSuffix(state_dir, "/"));
  return FrrPaths{absl::StrCat(dir, "/", namespace_name)};
}

Command FrrStartCommand(const std::string& bin_dir, const std::string& namespace_name,
                        const FrrPaths& paths, const std::string& daemon) {
  const std::string binary = absl::StrCat(absl::StripSuffix(bin_dir, "/"), "/", daemon);
  // clang-format off
  return {"ip", "netns", "exec", namespace_name, binary,
          "-d",                            // returns once the daemon is up, or with its exit status
          "-f", paths.StartupConfig(),
          "-i", paths.Pid(daemon),
          "-z", paths.Zserv(),
          "--vty_socket", paths.dir,
          "--log", "file:" + paths.Log(daemon),
          "-P", "0"};                      // no TCP vty
  // clang-format on
}

Command VtyshCommand(const std::string& vtysh, const FrrPaths& paths,
                     std::vector<std::string> args) {
  Command c = {vtysh, "--vty_socket", paths.dir, "--config_dir", paths.dir};
  c.insert(c.end(), args.begin(), args.end());
  return c;
}

Command VtyshDryRunCommand(const std::string& vtysh, const FrrPaths& paths) {
  return VtyshCommand(vtysh, paths, {"-C", "-f", paths.Config()});
}

Command VtyshApplyCommand(const std::string& vtysh, const FrrPaths& paths) {
  return VtyshCommand(vtysh, paths, {"-f", paths.Config()});
}

Command VtyshShowCommand(const std::string& vtysh, const FrrPaths& paths, const std::string& show) {
  return VtyshCommand(vtysh, paths, {"-c", show});
}

Command ProcessListCommand() { return {"ps", "-ww", "-e", "-o", "pid=,args="}; }

Command KillCommand(const std::string& signal, const std::vector<int>& pids) {
  Command c = {"kill", "-" + signal};
  for (int pid : pids) c.push_back(std::to_string(pid));
  return c;
}

std::vector<FrrConfigError> ParseVtyshErrors(const std::string& out, const std::string& err,
                                             const std::vector<FrrConfigLine>& lines) {
  std::vector<FrrConfigError> errors;
  std::vector<std::string> reasons;  // "% ..." messages the daemons printed on their own lines
  for (const std::string* stream : {&err, &out}) {
    for (absl::string_view l : absl::StrSplit(*stream, '\n', absl::SkipWhitespace())) {
      l = absl::StripAsciiWhitespace(l);
      int number = 0;
      if (!absl::ConsumePrefix(&l, "line ")) {
        if (absl::StartsWith(l, "%")) reasons.emplace_back(l);
        continue;
      }
      const size_t colon = l.find(':');
      if (colon == absl::string_view::npos || !absl::SimpleAtoi(l.substr(0, colon), &number))
        continue;
      absl::string_view rest = absl::StripAsciiWhitespace(l.substr(colon + 1));
      FrrConfigError e;
      e.line = number;
      for (const FrrConfigLine& cl : lines) {
        if (cl.number == number) {
          e.daemon = cl.daemon;
          e.text = cl.text;
        }
      }
      // "Failure to communicate[13] to bgpd, line:  neighbor ..." (apply: the daemon refused it).
      if (absl::ConsumePrefix(&rest, "Failure to communicate")) {
        const size_t to = rest.find(" to ");
        const size_t comma = rest.find(',', to == absl::string_view::npos ? 0 : to);
        if (to != absl::string_view::npos && comma != absl::string_view::npos) {
          e.daemon = std::string(rest.substr(to + 4, comma - to - 4));
        }
      } else {
        // "% Unknown command[25]:  neighbor ..." (dry run / unknown in the daemon's node).
        const size_t bracket = rest.find('[');
        const size_t end = bracket != absl::string_view::npos ? bracket : rest.find(':');
        e.reason = std::string(absl::StripAsciiWhitespace(rest.substr(0, end)));
      }
      errors.push_back(std::move(e));
    }
  }
  // The daemons' messages follow the order of the refused lines.
  size_t next = 0;
  for (FrrConfigError& e : errors) {
    if (e.reason.empty() && next < reasons.size()) e.reason = reasons[next++];
  }
  if (next < reasons.size() && !errors.empty()) {
    std::vector<std::string> rest(reasons.begin() + static_cast<std::ptrdiff_t>(next),
                                  reasons.end());
    FrrConfigError& last = errors.back();
    last.reason =
        absl::StrCat(last.reason, last.reason.empty() ? "" : "; ", absl::StrJoin(rest, "; "));
  }
  return errors;
}

std::string DescribeConfigErrors(const std::vector<FrrConfigError>& errors) {
  std::vector<std::string> parts;
  for (const FrrConfigError& e : errors) {
    std::string s = e.daemon.empty() ? "" : e.daemon + ": ";
    absl::StrAppend(&s, "line ", e.line);
    if (!e.text.empty()) absl::StrAppend(&s, " (", e.text, ")");
    if (!e.reason.empty()) absl::StrAppend(&s, ": ", e.reason);
    parts.push_back(std::move(s));
  }
  return absl::StrJoin(parts, "; ");
}

std::vector<std::string> ParseShowDaemons(const std::string& out) { return Words(out); }

absl::StatusOr<std::vector<BgpNeighbor>> ParseBgpNeighbors(const std::string& json) {
  absl::StatusOr<Json> j = ParseJsonObject(json, "show bgp neighbors json");
  if (!j.ok()) return j.status();
  std::vector<BgpNeighbor> out;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (!it->is_object() || !it->contains("bgpState")) continue;
    out.push_back({it.key(), JsonString(*it, {"bgpState"})});
  }
  return out;
}

absl::StatusOr<std::vector<OspfNeighbor>> ParseOspfNeighbors(const std::string& json) {
  absl::StatusOr<Json> j = ParseJsonObject(json, "show ip ospf neighbor json");
  if (!j.ok()) return j.status();
  std::vector<OspfNeighbor> out;
  auto neighbors = j->find("neighbors");
  if (neighbors == j->end() || !neighbors->is_object()) return out;
  for (auto it = neighbors->begin(); it != neighbors->end(); ++it) {
    // One entry per adjacency (a list since FRR 7.5, one object before).
    std::vector<const Json*> entries;
    if (it->is_array()) {
      for (const Json& e : *it) entries.push_back(&e);
    } else {
      entries.push_back(&*it);
    }
    for (const Json* e : entries) {
      if (!e->is_object()) continue;
      OspfNeighbor n;
      n.router_id = it.key();
      n.state = JsonString(*e, {"nbrState", "state"});
      n.address = JsonString(*e, {"ifaceAddress", "address"});
      const std::string ifname = JsonString(*e, {"ifaceName"});
      n.ifname = ifname.substr(0, ifname.find(':'));
      out.push_back(std::move(n));
    }
  }
  return out;
}

std::vector<std::string> BgpNotReady(const std::vector<BgpNeighbor>& neighbors) {
  if (neighbors.empty()) return {"bgp: no neighbors configured"};
  std::vector<std::string> problems;
  for (const BgpNeighbor& n : neighbors) {
    if (n.state != "Established") {
      problems.push_back(absl::StrCat("bgp neighbor ", n.name, ": ",
                                      n.state.empty() ? "unknown state" : n.state,
                                      ", not Established"));
    }
  }
  return problems;
}

std::vector<std::string> OspfNotReady(const std::vector<OspfNeighbor>& neighbors) {
  if (neighbors.empty()) return {"ospf: no neighbors yet"};
  std::vector<std::string> problems;
  for (const OspfNeighbor& n : neighbors) {
    if (!absl::StartsWith(n.state, "Full")) {
      problems.push_back(absl::StrCat("ospf neighbor ", n.router_id, " (", n.address, " on ",
                                      n.ifname, "): ", n.state.empty() ? "unknown state" : n.state,
                                      ", not Full"));
    }
  }
  return problems;
}

std::vector<ProcessEntry> ParseProcessList(const std::string& out) {
  std::vector<ProcessEntry> list;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipWhitespace())) {
    line = absl::StripLeadingAsciiWhitespace(line);
    const size_t sp = line.find(' ');
    ProcessEntry e;
    if (!absl::SimpleAtoi(line.substr(0, sp), &e.pid) || e.pid <= 0) continue;
    if (sp != absl::string_view::npos)
      e.args = std::string(absl::StripAsciiWhitespace(line.substr(sp)));
    list.push_back(std::move(e));
  }
  return list;
}

std::vector<int> PidsWithMarker(const std::vector<ProcessEntry>& processes,
                                const std::string& marker) {
  std::vector<int> pids;
  for (const ProcessEntry& p : processes) {
    if (!marker.empty() && absl::StrContains(p.args, marker)) pids.push_back(p.pid);
  }
  return pids;
}

std::string FrrOutputTail(const std::string& text, size_t max_lines) {
  std::vector<std::string> kept;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::string clean = StripFrrLogPrefix(line);
    if (clean.empty() || IsHarmlessNotice(clean)) continue;
    kept.push_back(std::move(clean));
  }
  if (kept.size() > max_lines)
    kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(max_lines));
  return absl::StrJoin(kept, "; ");
}

}  // namespace netrig::controller::sut
