// The run-derived CCM KPIs (docs/metrics.md) as plain logic, fed finished runs in completion
// order: which run first tests a SUT version, first passes it at a level, is flagged (Fail or
// Regressed), and whether the next run of the same test on the same SUT version confirms or
// dismisses an earlier flag. No Prometheus here: ControllerMetrics turns the answers into
// counters, and the controller rebuilds them from the store at start.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::metrics {

// The label values and facts of one finished run.
struct RunFacts {
  std::string id;
  std::string test;     // metadata.name, else metadata.generateName: "the same test"
  std::string level;    // L1 | L2 | L3
  std::string suite;    // label netrig.io/suite, "none" when absent
  std::string sut;      // spec.sut.template, "static", or "none"
  std::string version;  // spec.sut.version; may be empty
  std::string trigger;  // label netrig.io/trigger, "manual" when absent
  std::string phase;
  std::string verdict;  // Pass | Fail | Regressed | Inconclusive | none
  std::optional<double> queue_wait_s;  // created -> started, when it started
  std::optional<double> duration_s;    // started -> completed, when it started
};

RunFacts FactsOf(const v1::Run& run);

// What one finished run changes.
struct KpiChange {
  bool new_version = false;          // first finished run against (sut, version)
  bool new_passed_version = false;   // first Pass of (sut, version) at this level
  bool flagged = false;              // verdict Fail or Regressed
  bool regression = false;           // verdict Regressed
  // An earlier flagged run of the same test and SUT version that this run resolves.
  std::optional<RunFacts> confirmed, dismissed;
};

class KpiTracker {
 public:
  KpiChange Observe(const RunFacts& run);

 private:
  using TestKey = std::tuple<std::string, std::string, std::string>;  // test, sut, version
  std::set<std::pair<std::string, std::string>> versions_;                    // sut, version
  std::set<std::tuple<std::string, std::string, std::string>> passed_;        // + level
  std::map<TestKey, RunFacts> open_flags_;
};

bool IsFlagged(const std::string& verdict);

}  // namespace netrig::controller::metrics
