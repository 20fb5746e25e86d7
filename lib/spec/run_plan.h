// The typed, validated form of a TestRun spec that the controller executes. Produced only by
// CompileTestRun (lib/spec/testrun.h): every field holds a checked value with defaults applied.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace netrig::spec {

enum class Level { kL1, kL2, kL3 };  // L1 runs first (scheduler priority)

enum class Rfc2544Test { kThroughput, kLatency, kFrameLoss, kBackToBack };
enum class L3 { kIpv4, kIpv6 };

struct PortPlan {
  std::string name;                           // role ("west")
  std::string agent_pool = "default";
  std::string agent_name;                     // empty: any agent of the pool
  std::map<std::string, std::string> agent_labels;
  uint64_t speed_bps = 0;                     // 0: any speed
  std::string pmd;                            // empty: any driver
};

struct TrafficPlan {
  std::string from;                           // port names
  std::string to;
  uint32_t flows = 1;
  bool bidirectional = false;
};

struct Rfc2544Plan {
  std::vector<Rfc2544Test> tests;             // in the order given, no duplicates
  std::vector<uint32_t> frame_sizes;          // bytes incl. FCS, in the order given
  absl::Duration trial_duration = absl::Seconds(60);
  double loss_tolerance_pct = 0;              // > 0 is a tester extension (RFC 2544 is zero loss)
  double resolution_pct = 0.1;                // binary-search resolution, percent of line rate
  double min_rate_pct = 0;
  double max_rate_pct = 100;
  L3 l3 = L3::kIpv4;
  std::vector<TrafficPlan> traffic;
  struct Latency {                            // RFC 2544 §26.2
    uint32_t trials = 20;
    absl::Duration duration = absl::Seconds(120);
  } latency;
  struct FrameLoss {                          // RFC 2544 §26.3
    double step_pct = 10;
  } frame_loss;
  struct BackToBack {                         // RFC 2544 §26.4, RFC 9004
    uint32_t trials = 50;
    absl::Duration max_burst_duration = absl::Seconds(2);
    absl::Duration trial_duration = absl::Seconds(2);
  } back_to_back;
  struct Waits {                              // RFC 2544 §23 d) e)
    absl::Duration drain = absl::Seconds(2);
    absl::Duration settle = absl::Seconds(5);
  } waits;

  bool Has(Rfc2544Test t) const;
};

struct SutPlan {
  bool is_static = false;
  std::string template_name;                  // when !is_static
  std::string version;
  std::map<std::string, std::string> parameters;
  std::string static_name;                    // when is_static
  std::string mgmt_address;
  std::map<std::string, std::string> events;
};

struct VerdictPlan {
  enum class Baseline { kNone, kLastPass, kRun };
  Baseline baseline = Baseline::kNone;
  std::string baseline_run_id;                // when kRun
  double max_regression_pct = 5;
};

struct RunPlan {
  std::string name;
  std::string namespace_name = "default";
  std::map<std::string, std::string> labels;
  Level level = Level::kL1;
  SutPlan sut;
  std::vector<PortPlan> ports;
  Rfc2544Plan rfc2544;                        // the only methodology so far
  VerdictPlan verdict;
  absl::Duration budget = absl::InfiniteDuration();  // no limit unless spec.budget is set
  // Deviations from the RFCs the spec asks for (short trials, loss tolerance, fewer latency
  // trials...): allowed, but results must be labelled with them. "path: what and why".
  std::vector<std::string> deviations;
};

const char* LevelName(Level level);            // "L1"
const char* TestName(Rfc2544Test test);        // "throughput", "frameLoss"...
const char* L3Name(L3 l3);                     // "ipv4"

}  // namespace netrig::spec
