// Checks dashboards/ against the contract in docs/metrics.md: the Grafana dashboards (structure,
// variables, data sources, panel ids and layout, every expression referencing only documented
// metrics or recording rules and parsing as PromQL), the Prometheus rules and their promtool unit
// tests, the example scrape configuration and scripts/dashboards-configmap.sh.
// promtool (Debian package prometheus) and python3 are run when installed; tests that need them
// skip otherwise. Text is scanned with plain string operations (no std::regex on large input).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kSource = NETRIG_SOURCE_DIR;
const std::string kDashboards = kSource + "/dashboards";
const std::string kRules = kDashboards + "/rules/netrig.rules.yaml";
const std::string kRuleTests = kDashboards + "/rules/netrig.rules.test.yaml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }  // paths without quotes

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool HaveProgram(const std::string& name) {
  return RunCommand("command -v " + name + " >/dev/null").exit_code == 0;
}

#define REQUIRE_PROGRAM(name)                                                   \
  if (!HaveProgram(name)) {                                                     \
    GTEST_SKIP() << name << " is not installed (scripts/setup.sh installs it)"; \
  }

// ------------------------------------------------------------------------- metric name scanning

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':';
}

// Every token that starts with netrig_ or netrig: (a metric or recording rule name) in `text`.
std::vector<std::string> NetrigNames(const std::string& text) {
  std::vector<std::string> names;
  for (size_t i = text.find("netrig"); i != std::string::npos; i = text.find("netrig", i + 1)) {
    if (i > 0 && IsNameChar(text[i - 1])) continue;
    const size_t after = i + 6;
    if (after >= text.size() || (text[after] != '_' && text[after] != ':')) continue;
    size_t end = after;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    names.push_back(text.substr(i, end - i));
    i = end - 1;
  }
  return names;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The names docs/metrics.md defines, and the recording rules of the rules file.
struct Catalog {
  std::set<std::string> documented;
  std::set<std::string> histograms;  // documented histograms: _bucket, _sum, _count exist
  // "`netrig_agent_port_tx_packets_total`, `..._tx_bytes_total`": (previous name, suffix).
  std::vector<std::pair<std::string, std::string>> elided;
  std::set<std::string> recorded;
  std::set<std::string> documented_alerts;

  bool Documented(const std::string& name) const {
    if (documented.count(name) > 0) return true;
    for (const auto& [previous, suffix] : elided) {
      if (!EndsWith(name, suffix)) continue;
      const std::string prefix = name.substr(0, name.size() - suffix.size());
      if (!prefix.empty() && StartsWith(previous, prefix) && previous.size() > prefix.size() &&
          previous[prefix.size()] == '_') {
        return true;
      }
    }
    return false;
  }

  bool Known(const std::string& name) const {
    if (Documented(name) || recorded.count(name) > 0) return true;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (EndsWith(name, suffix) &&
          histograms.count(name.substr(0, name.size() - suffix.size())) > 0) {
        return true;
      }
    }
    return false;
  }
};

void AddDocumentation(const std::string& markdown, Catalog& c) {
  std::istringstream lines(markdown);
  std::string line;
  std::string last_full;
  bool in_alerts = false;
  while (std::getline(lines, line)) {
    if (StartsWith(line, "## ")) in_alerts = line == "## Alerts";
    const bool histogram_row = line.find("| histogram |") != std::string::npos;
    // Backtick spans of the line, in order.
    for (size_t open = line.find('`'); open != std::string::npos;) {
      const size_t close = line.find('`', open + 1);
      if (close == std::string::npos) break;
      const std::string span = line.substr(open + 1, close - open - 1);
      open = line.find('`', close + 1);
      if (StartsWith(span, "...") && !last_full.empty()) {
        c.elided.emplace_back(last_full, span.substr(3));
        continue;
      }
      if (in_alerts && StartsWith(span, "Netrig")) c.documented_alerts.insert(span);
      for (const std::string& name : NetrigNames(span)) {
        c.documented.insert(name);
        if (histogram_row) c.histograms.insert(name);
        if (name.find(':') == std::string::npos) last_full = name;
      }
    }
  }
}

// Values of `key: value` lines (first word of the value), e.g. every `record:` of a rules file.
std::vector<std::string> KeyValues(const std::string& yaml_text, const std::string& key) {
  std::vector<std::string> values;
  std::istringstream lines(yaml_text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t i = line.find_first_not_of(" -");
    if (i == std::string::npos || line.compare(i, key.size() + 1, key + ":") != 0) continue;
    i = line.find_first_not_of(' ', i + key.size() + 1);
    if (i == std::string::npos) continue;
    size_t end = i;
    while (end < line.size() && line[end] != ' ' && line[end] != '#') ++end;
    values.push_back(line.substr(i, end - i));
  }
  return values;
}

Catalog LoadCatalog() {
  Catalog c;
  AddDocumentation(ReadFile(kSource + "/docs/metrics.md"), c);
  for (const std::string& r : KeyValues(ReadFile(kRules), "record")) c.recorded.insert(r);
  return c;
}

// ---------------------------------------------------------------------------- dashboard checks

// How the automated dashboard check substitutes variables before evaluating an expression.
const std::vector<std::pair<std::string, std::string>> kSubstitutions = {
    {"$__rate_interval", "30s"},
    {"$__range", "1h"},
    {"$__interval", "15s"},
    {"$level", ".*"},
    {"$suite", ".*"},
    {"$sut", ".*"},
    {"$run", "run-0123456789"},
    {"$agent", ".*"},
    {"$pool", ".*"},
};

std::string Substitute(std::string expr) {
  for (const auto& [from, to] : kSubstitutions) {
    for (size_t i = expr.find(from); i != std::string::npos; i = expr.find(from, i + to.size())) {
      expr.replace(i, from.size(), to);
    }
  }
  return expr;
}

// `$name` / `${name}` references in `text`.
std::set<std::string> VariableReferences(const std::string& text) {
  std::set<std::string> vars;
  for (size_t i = text.find('$'); i != std::string::npos; i = text.find('$', i + 1)) {
    size_t start = i + 1;
    const bool braced = start < text.size() && text[start] == '{';
    if (braced) ++start;
    size_t end = start;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_')) {
      ++end;
    }
    vars.insert(text.substr(start, end - start));
  }
  return vars;
}

bool IsDatasourceVariable(const json& ds) {
  if (ds.is_string()) return ds == "${datasource}";
  return ds.is_object() && ds.value("uid", "") == "${datasource}" &&
         ds.value("type", "prometheus") == "prometheus";
}

void CollectPanels(const json& panels, std::vector<json>& out) {
  if (!panels.is_array()) return;
  for (const json& p : panels) {
    out.push_back(p);
    if (p.contains("panels")) CollectPanels(p["panels"], out);  // collapsed rows
  }
}

struct DashboardSpec {
  std::string file;
  std::string uid;
  std::set<std::string> variables;        // besides datasource
  std::set<std::string> multi_variables;  // multi, includeAll, allValue ".*"
  std::vector<std::string> required;      // names some panel expression must reference
};

void PrintTo(const DashboardSpec& spec, std::ostream* os) { *os << spec.file; }

const std::vector<DashboardSpec>& Specs() {
  static const std::vector<DashboardSpec> specs = {
      {"ccm-kpis.json",
       "netrig-ccm-kpis",
       {"level", "suite", "sut"},
       {"level", "suite", "sut"},
       {"netrig_runs_total", "netrig:run_pass:ratio", "netrig_run_duration_seconds_sum",
        "netrig_run_duration_seconds_count", "netrig_sut_versions_tested_total",
        "netrig_sut_versions_passed_total", "netrig_failures_confirmed_total",
        "netrig_failures_dismissed_total", "netrig_regressions_detected_total",
        "netrig:ct_infrastructure_up", "netrig:agent_pool_available:ratio",
        "netrig_run_queue_wait_seconds_bucket"}},
      {"run-detail.json",
       "netrig-run-detail",
       {"run"},
       {},
       {"netrig_run_stream_offered_frames_per_second",
        "netrig_run_stream_received_frames_per_second", "netrig_run_stream_loss_ratio",
        "netrig_run_stream_latency_seconds", "netrig_run_progress_ratio",
        "netrig_agent_port_tx_packets_total", "netrig_agent_port_rx_packets_total",
        "netrig_agent_port_rx_missed_packets_total"}},
      {"agent-fleet.json",
       "netrig-agent-fleet",
       {"pool", "agent"},
       {"pool", "agent"},
       {"netrig_agents", "netrig_agent_port_tx_packets_total", "netrig_agent_port_rx_bytes_total",
        "netrig_agent_port_rx_missed_packets_total", "netrig_agent_lcore_busy_seconds_total",
        "netrig_agent_active_streams", "netrig_agent_session_state", "netrig_agent_trials_total",
        "netrig_store_up", "netrig_grpc_server_handled_total"}},
  };
  return specs;
}

struct Expression {
  std::string where;  // "panel 3 target A"
  std::string expr;
};

// Every PromQL expression of the dashboard: panel targets and the selector inside each
// label_values(selector, label) variable query.
std::vector<Expression> Expressions(const json& d) {
  std::vector<Expression> out;
  std::vector<json> panels;
  CollectPanels(d.value("panels", json::array()), panels);
  for (const json& p : panels) {
    for (const json& t : p.value("targets", json::array())) {
      out.push_back({"panel " + p.value("id", json(0)).dump() + " target " + t.value("refId", ""),
                     t.value("expr", "")});
    }
  }
  const json variables =
      d.contains("templating") ? d["templating"].value("list", json::array()) : json::array();
  for (const json& v : variables) {
    if (v.value("type", "") != "query") continue;
    const std::string q =
        v["query"].is_string() ? v["query"].get<std::string>() : v["query"].value("query", "");
    const std::string fn = "label_values(";
    const size_t comma = q.rfind(',');
    if (StartsWith(q, fn) && comma != std::string::npos && comma > fn.size()) {
      out.push_back({"variable " + v.value("name", ""), q.substr(fn.size(), comma - fn.size())});
    }
  }
  return out;
}

std::vector<std::string> DashboardProblems(const json& d, const DashboardSpec& spec,
                                           const Catalog& catalog) {
  std::vector<std::string> problems;
  auto fail = [&](const std::string& what) { problems.push_back(spec.file + ": " + what); };
  if (!d.is_object()) {
    fail("not a JSON object");
    return problems;
  }
  if (d.value("uid", "") != spec.uid) fail("uid is not " + spec.uid);
  if (d.value("title", "").empty()) fail("no title");
  if (!d.contains("schemaVersion") || !d["schemaVersion"].is_number_integer() ||
      d["schemaVersion"].get<int>() < 39) {
    fail("schemaVersion missing or < 39");
  }

  // Variables.
  const json variables =
      d.contains("templating") ? d["templating"].value("list", json::array()) : json::array();
  std::set<std::string> defined;
  bool datasource_variable = false;
  for (const json& v : variables) {
    const std::string name = v.value("name", "");
    if (!defined.insert(name).second) fail("variable " + name + " defined twice");
    if (name == "datasource") {
      datasource_variable =
          v.value("type", "") == "datasource" && v.value("query", "") == "prometheus";
      continue;
    }
    if (spec.variables.count(name) == 0) fail("unexpected variable " + name);
    if (v.value("type", "") != "query") fail("variable " + name + " is not a query variable");
    if (!v.contains("datasource") || !IsDatasourceVariable(v["datasource"])) {
      fail("variable " + name + " does not use ${datasource}");
    }
    const std::string q = v.contains("query") && v["query"].is_string()
                              ? v["query"].get<std::string>()
                              : v.value("query", json::object()).value("query", "");
    if (!StartsWith(q, "label_values(") || q.back() != ')' ||
        q.find(", " + name + ")") == std::string::npos) {
      fail("variable " + name + " query is not label_values(<selector>, " + name + "): " + q);
    }
    if (spec.multi_variables.count(name) > 0 &&
        (!v.value("multi", false) || !v.value("includeAll", false) ||
         v.value("allValue", "") != ".*")) {
      fail("variable " + name + " is not multi/includeAll with allValue .*");
    }
  }
  if (!datasource_variable) fail("no datasource variable of type datasource (prometheus)");
  for (const std::string& name : spec.variables) {
    if (defined.count(name) == 0) fail("variable " + name + " missing");
  }

  // Panels.
  std::vector<json> panels;
  CollectPanels(d.value("panels", json::array()), panels);
  if (panels.empty()) fail("no panels");
  std::set<int> ids;
  std::vector<std::pair<int, json>> boxes;
  for (const json& p : panels) {
    const std::string title = p.value("title", "");
    if (!p.contains("id") || !p["id"].is_number_integer()) {
      fail("panel " + title + " has no integer id");
      continue;
    }
    const int id = p["id"].get<int>();
    const std::string where = "panel " + std::to_string(id) + " (" + title + ")";
    if (!ids.insert(id).second) fail("duplicate panel id " + std::to_string(id));
    const json g = p.value("gridPos", json::object());
    bool grid_ok = true;
    for (const char* k : {"h", "w", "x", "y"}) {
      if (!g.contains(k) || !g[k].is_number_integer() || g[k].get<int>() < 0) grid_ok = false;
    }
    if (!grid_ok || g["w"].get<int>() == 0 || g["h"].get<int>() == 0 ||
        g["x"].get<int>() + g["w"].get<int>() > 24) {
      fail(where + ": bad gridPos " + g.dump());
    } else {
      boxes.emplace_back(id, g);
    }
    if (p.value("type", "") == "row") continue;
    if (title.empty()) fail(where + ": no title");
    if (!p.contains("datasource") || !IsDatasourceVariable(p["datasource"])) {
      fail(where + ": datasource is not ${datasource}");
    }
    if (p.value("fieldConfig", json::object())
            .value("defaults", json::object())
            .value("unit", "")
            .empty()) {
      fail(where + ": no unit");
    }
    const json targets = p.value("targets", json::array());
    if (targets.empty()) fail(where + ": no targets");
    std::set<std::string> refs;
    for (const json& t : targets) {
      const std::string ref = t.value("refId", "");
      if (ref.empty() || !refs.insert(ref).second) fail(where + ": missing or duplicate refId");
      if (t.value("expr", "").empty()) fail(where + " target " + ref + ": empty expr");
      if (!t.contains("datasource") || !IsDatasourceVariable(t["datasource"])) {
        fail(where + " target " + ref + ": datasource is not ${datasource}");
      }
    }
  }
  for (size_t i = 0; i < boxes.size(); ++i) {
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const json& a = boxes[i].second;
      const json& b = boxes[j].second;
      const bool apart = a["x"].get<int>() + a["w"].get<int>() <= b["x"].get<int>() ||
                         b["x"].get<int>() + b["w"].get<int>() <= a["x"].get<int>() ||
                         a["y"].get<int>() + a["h"].get<int>() <= b["y"].get<int>() ||
                         b["y"].get<int>() + b["h"].get<int>() <= a["y"].get<int>();
      if (!apart) {
        fail("panels " + std::to_string(boxes[i].first) + " and " + std::to_string(boxes[j].first) +
             " overlap");
      }
    }
  }

  // Expressions: documented names only, known variables only.
  std::set<std::string> referenced;
  static const std::set<std::string> kBuiltins = {"__range", "__rate_interval", "__interval"};
  for (const Expression& e : Expressions(d)) {
    for (const std::string& name : NetrigNames(e.expr)) {
      referenced.insert(name);
      if (!catalog.Known(name)) {
        fail(e.where + ": " + name + " is neither in docs/metrics.md nor a recording rule");
      }
    }
    for (const std::string& var : VariableReferences(e.expr)) {
      if (kBuiltins.count(var) == 0 &&
          (spec.variables.count(var) == 0 || defined.count(var) == 0)) {
        fail(e.where + ": unknown variable $" + var);
      }
    }
    const std::string substituted = Substitute(e.expr);
    if (substituted.find('$') != std::string::npos) {
      fail(e.where + ": variables left after substitution: " + substituted);
    }
  }
  for (const std::string& name : spec.required) {
    if (referenced.count(name) == 0) fail("no panel shows " + name);
  }
  return problems;
}

json LoadDashboard(const std::string& file) {
  return json::parse(ReadFile(kDashboards + "/" + file), nullptr, /*allow_exceptions=*/false);
}

// A dashboard that satisfies DashboardProblems, for the checker's own tests.
json MinimalDashboard() {
  const json ds = {{"type", "prometheus"}, {"uid", "${datasource}"}};
  return {{"uid", "netrig-run-detail"},
          {"title", "t"},
          {"schemaVersion", 39},
          {"templating",
           {{"list",
             {{{"name", "datasource"}, {"type", "datasource"}, {"query", "prometheus"}},
              {{"name", "run"},
               {"type", "query"},
               {"datasource", ds},
               {"query", "label_values(netrig_run_stream_offered_frames_per_second, run)"}}}}}},
          {"panels",
           {{{"id", 1},
             {"type", "timeseries"},
             {"title", "rates"},
             {"datasource", ds},
             {"gridPos", {{"h", 8}, {"w", 12}, {"x", 0}, {"y", 0}}},
             {"fieldConfig", {{"defaults", {{"unit", "pps"}}}}},
             {"targets",
              {{{"refId", "A"},
                {"datasource", ds},
                {"expr", "sum(netrig_run_stream_offered_frames_per_second{run=\"$run\"})"}}}}}}}};
}

const DashboardSpec kMinimalSpec = {"minimal.json", "netrig-run-detail", {"run"}, {}, {}};

// ------------------------------------------------------------------------------------- tests

TEST(DashboardsCatalogTest, ReadsTheDocumentedNames) {
  const Catalog c = LoadCatalog();
  EXPECT_THAT(c.documented, Contains("netrig_runs_total"));
  EXPECT_THAT(c.documented, Contains("netrig:ct_infrastructure_up"));
  EXPECT_THAT(c.histograms, Contains("netrig_run_queue_wait_seconds"));
  EXPECT_THAT(c.documented_alerts, Contains("NetrigAgentDown"));
  EXPECT_TRUE(c.Known("netrig_agent_port_rx_bytes_total"));  // elided as `..._rx_bytes_total`
  EXPECT_TRUE(c.Known("netrig_run_queue_wait_seconds_bucket"));
  EXPECT_TRUE(c.Known("netrig:agent_lcore_busy:ratio_rate1m"));  // recording rule only
  EXPECT_FALSE(c.Known("netrig_agent_port_rx_furlongs_total"));
  EXPECT_FALSE(c.Known("netrig_runs_total_bucket"));  // a counter has no buckets
  EXPECT_FALSE(c.Known("netrig_agent_port_bytes_total"));
  EXPECT_FALSE(c.Known("netrig:made_up:ratio"));
}

TEST(DashboardsCheckerTest, AcceptsAMinimalDashboard) {
  EXPECT_THAT(DashboardProblems(MinimalDashboard(), kMinimalSpec, LoadCatalog()), IsEmpty());
}

TEST(DashboardsCheckerTest, RejectsBrokenDashboards) {
  const Catalog c = LoadCatalog();
  auto problems = [&](const std::function<void(json&)>& breakit) {
    json d = MinimalDashboard();
    breakit(d);
    std::string all;
    for (const std::string& p : DashboardProblems(d, kMinimalSpec, c)) all += p + "\n";
    return all;
  };
  EXPECT_THAT(problems([](json& d) { d["schemaVersion"] = 27; }), HasSubstr("schemaVersion"));
  EXPECT_THAT(problems([](json& d) { d["templating"]["list"].erase(0); }),
              HasSubstr("no datasource variable"));
  EXPECT_THAT(problems([](json& d) { d["panels"].push_back(d["panels"][0]); }),
              HasSubstr("duplicate panel id 1"));
  EXPECT_THAT(problems([](json& d) {
                json p = d["panels"][0];
                p["id"] = 2;
                p["gridPos"]["x"] = 6;
                d["panels"].push_back(p);
              }),
              HasSubstr("overlap"));
  EXPECT_THAT(problems([](json& d) { d["panels"][0]["targets"][0]["expr"] = ""; }),
              HasSubstr("empty expr"));
  EXPECT_THAT(problems([](json& d) { d["panels"][0]["targets"][0]["datasource"]["uid"] = "abc"; }),
              HasSubstr("target A: datasource is not ${datasource}"));
  EXPECT_THAT(problems([](json& d) { d["panels"][0]["datasource"] = "Prometheus"; }),
              HasSubstr("datasource is not ${datasource}"));
  EXPECT_THAT(problems([](json& d) {
                d["panels"][0]["targets"][0]["expr"] = "rate(netrig_run_frames_total[5m])";
              }),
              HasSubstr("netrig_run_frames_total is neither"));
  EXPECT_THAT(problems([](json& d) {
                d["panels"][0]["targets"][0]["expr"] = "netrig_run_progress_ratio{run=\"$job\"}";
              }),
              HasSubstr("unknown variable $job"));
  EXPECT_THAT(problems([](json& d) { d["panels"][0]["fieldConfig"] = json::object(); }),
              HasSubstr("no unit"));
  EXPECT_THAT(problems([](json& d) { d["templating"]["list"][1]["query"] = "netrig_runs_total"; }),
              HasSubstr("not label_values"));
}

class DashboardTest : public ::testing::TestWithParam<DashboardSpec> {};

TEST_P(DashboardTest, ParsesAndFollowsTheContract) {
  const json d = LoadDashboard(GetParam().file);
  ASSERT_FALSE(d.is_discarded()) << GetParam().file << " is not valid JSON";
  EXPECT_THAT(DashboardProblems(d, GetParam(), LoadCatalog()), IsEmpty());
}

// Every expression, with the variables substituted as the automated evaluation does, parses as
// PromQL: promtool check rules on a generated rule file with one recording rule per expression.
TEST_P(DashboardTest, ExpressionsParseAsPromQL) {
  REQUIRE_PROGRAM("promtool");
  const json d = LoadDashboard(GetParam().file);
  ASSERT_FALSE(d.is_discarded());
  const std::vector<Expression> exprs = Expressions(d);
  ASSERT_FALSE(exprs.empty());
  const std::string path =
      ::testing::TempDir() + "netrig_dashboard_exprs_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << "groups:\n  - name: dashboard\n    rules:\n";
    for (size_t i = 0; i < exprs.size(); ++i) {
      // A JSON string is a YAML double-quoted scalar.
      out << "      - record: netrig_dashboard_check:expr" << i
          << "\n        expr: " << json(Substitute(exprs[i].expr)).dump() << "\n";
    }
  }
  const CommandResult r = RunCommand("promtool check rules " + Quote(path));
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SUCCESS: " + std::to_string(exprs.size()) + " rules found"));
}

INSTANTIATE_TEST_SUITE_P(Dashboards, DashboardTest, ::testing::ValuesIn(Specs()),
                         [](const ::testing::TestParamInfo<DashboardSpec>& info) {
                           std::string name = info.param.uid.substr(std::string("netrig-").size());
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(DashboardsTest, UidsAreUnique) {
  std::set<std::string> uids;
  for (const DashboardSpec& s : Specs()) {
    const json d = LoadDashboard(s.file);
    ASSERT_FALSE(d.is_discarded());
    EXPECT_TRUE(uids.insert(d.value("uid", "")).second) << s.file;
  }
}

// ----------------------------------------------------------------------------------- rules

TEST(RulesTest, DefineEveryDocumentedRecordingRuleAndAlert) {
  const Catalog c = LoadCatalog();
  const YAML::Node rules = YAML::LoadFile(kRules);
  std::set<std::string> records, alerts;
  for (const YAML::Node& group : rules["groups"]) {
    ASSERT_TRUE(group["name"]) << "group without name";
    for (const YAML::Node& rule : group["rules"]) {
      const std::string expr = rule["expr"].as<std::string>("");
      EXPECT_FALSE(expr.empty());
      for (const std::string& name : NetrigNames(expr)) {
        EXPECT_TRUE(c.Known(name)) << name << " in " << expr;
      }
      if (rule["record"]) {
        EXPECT_TRUE(records.insert(rule["record"].as<std::string>()).second);
        continue;
      }
      const std::string alert = rule["alert"].as<std::string>("");
      EXPECT_TRUE(alerts.insert(alert).second) << alert;
      EXPECT_TRUE(rule["for"]) << alert << " has no for";
      const std::string severity = rule["labels"]["severity"].as<std::string>("");
      EXPECT_TRUE(severity == "critical" || severity == "warning") << alert;
      EXPECT_FALSE(rule["annotations"]["summary"].as<std::string>("").empty()) << alert;
      EXPECT_FALSE(rule["annotations"]["description"].as<std::string>("").empty()) << alert;
    }
  }
  // The documented KPIs plus the two helpers the dashboards use.
  std::set<std::string> expected_records = {"netrig:controller_up",
                                            "netrig:agent_lcore_busy:ratio_rate1m"};
  for (const std::string& name : c.documented) {
    if (name.find(':') != std::string::npos) expected_records.insert(name);
  }
  EXPECT_EQ(records, expected_records);
  EXPECT_EQ(alerts, c.documented_alerts);
  EXPECT_EQ(alerts.size(), 5u);
}

// The promtool unit tests cover every alert firing and not firing, and every recording rule.
TEST(RulesTest, UnitTestsCoverEveryRuleAndAlert) {
  const YAML::Node tests = YAML::LoadFile(kRuleTests);
  std::map<std::string, std::pair<int, int>> alert_cases;  // alert -> (firing, not firing)
  std::string tested_exprs;
  for (const YAML::Node& t : tests["tests"]) {
    for (const YAML::Node& a : t["alert_rule_test"]) {
      auto& counts = alert_cases[a["alertname"].as<std::string>()];
      (a["exp_alerts"].size() > 0 ? counts.first : counts.second)++;
    }
    for (const YAML::Node& e : t["promql_expr_test"]) {
      tested_exprs += e["expr"].as<std::string>() + "\n";
    }
  }
  for (const std::string& alert : LoadCatalog().documented_alerts) {
    EXPECT_GT(alert_cases[alert].first, 0) << alert << " has no firing case";
    EXPECT_GT(alert_cases[alert].second, 0) << alert << " has no not-firing case";
  }
  for (const std::string& record : KeyValues(ReadFile(kRules), "record")) {
    const std::vector<std::string> names = NetrigNames(tested_exprs);
    EXPECT_THAT(names, Contains(record)) << record << " has no promql_expr_test";
  }
}

TEST(RulesTest, PromtoolCheckRules) {
  REQUIRE_PROGRAM("promtool");
  const CommandResult r = RunCommand("promtool check rules " + Quote(kRules));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(RulesTest, PromtoolUnitTestsPass) {
  REQUIRE_PROGRAM("promtool");
  const CommandResult r = RunCommand("cd " + Quote(kDashboards + "/rules") +
                                     " && promtool test rules " + Quote(kRuleTests));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SUCCESS"));
}

TEST(PrometheusConfigTest, PromtoolCheckConfig) {
  REQUIRE_PROGRAM("promtool");
  const CommandResult r =
      RunCommand("cd " + Quote(kDashboards) + " && promtool check config prometheus.example.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1 rule files found"));
}

TEST(PrometheusConfigTest, ScrapesControllerAndAgentsAndLoadsTheRules) {
  const YAML::Node config = YAML::LoadFile(kDashboards + "/prometheus.example.yaml");
  std::map<std::string, YAML::Node> jobs;
  for (const YAML::Node& job : config["scrape_configs"]) {
    jobs[job["job_name"].as<std::string>()] = job;
  }
  ASSERT_EQ(jobs.count("netrig-controller"), 1u);
  ASSERT_EQ(jobs.count("netrig-agents"), 1u);
  EXPECT_EQ(jobs["netrig-controller"]["metrics_path"].as<std::string>("/metrics"), "/metrics");
  EXPECT_EQ(jobs["netrig-controller"]["static_configs"][0]["targets"][0].as<std::string>(),
            "127.0.0.1:7401");
  EXPECT_EQ(jobs["netrig-agents"]["http_sd_configs"][0]["url"].as<std::string>(),
            "http://127.0.0.1:7401/v1/prometheus/targets");
  EXPECT_EQ(config["rule_files"][0].as<std::string>(), "rules/netrig.rules.yaml");
}

TEST(GrafanaProvisioningTest, ProviderAndDatasource) {
  const YAML::Node providers = YAML::LoadFile(kDashboards + "/provisioning/dashboards.yaml");
  EXPECT_EQ(providers["apiVersion"].as<int>(), 1);
  EXPECT_EQ(providers["providers"][0]["type"].as<std::string>(), "file");
  EXPECT_EQ(providers["providers"][0]["options"]["path"].as<std::string>(),
            "/var/lib/grafana/dashboards/netrig");
  const YAML::Node ds = YAML::LoadFile(kDashboards + "/provisioning/datasource.yaml");
  EXPECT_EQ(ds["datasources"][0]["type"].as<std::string>(), "prometheus");
  EXPECT_FALSE(ds["datasources"][0]["url"].as<std::string>("").empty());
}

// ------------------------------------------------------------------------- configmap script

TEST(DashboardsConfigMapTest, EmbedsEveryDashboardAndTheRulesVerbatim) {
  REQUIRE_PROGRAM("python3");
  const CommandResult r =
      RunCommand("bash " + Quote(kSource + "/scripts/dashboards-configmap.sh") + " -n monitoring");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const DashboardSpec& s : Specs()) {
    EXPECT_THAT(r.output,
                HasSubstr("name: netrig-dashboard-" + s.file.substr(0, s.file.size() - 5)));
    EXPECT_THAT(r.output, HasSubstr("\"uid\": \"" + s.uid + "\""));
  }
  std::map<std::string, YAML::Node> maps;
  for (const YAML::Node& doc : YAML::LoadAll(r.output)) {
    ASSERT_EQ(doc["kind"].as<std::string>(), "ConfigMap");
    EXPECT_EQ(doc["apiVersion"].as<std::string>(), "v1");
    EXPECT_EQ(doc["metadata"]["namespace"].as<std::string>(), "monitoring");
    maps[doc["metadata"]["name"].as<std::string>()] = doc;
  }
  EXPECT_EQ(maps.size(), Specs().size() + 1);
  for (const DashboardSpec& s : Specs()) {
    const std::string name = "netrig-dashboard-" + s.file.substr(0, s.file.size() - 5);
    ASSERT_EQ(maps.count(name), 1u) << name;
    const YAML::Node& m = maps[name];
    EXPECT_EQ(m["metadata"]["labels"]["grafana_dashboard"].as<std::string>(), "1");
    EXPECT_EQ(m["data"][s.file].as<std::string>(""), ReadFile(kDashboards + "/" + s.file))
        << s.file << " is not embedded verbatim";
  }
  ASSERT_EQ(maps.count("netrig-prometheus-rules"), 1u);
  EXPECT_EQ(maps["netrig-prometheus-rules"]["data"]["netrig.rules.yaml"].as<std::string>(""),
            ReadFile(kRules));
}

TEST(DashboardsConfigMapTest, RejectsUnknownArguments) {
  const CommandResult r =
      RunCommand("bash " + Quote(kSource + "/scripts/dashboards-configmap.sh") + " --bogus");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
