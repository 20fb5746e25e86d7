#include "controller/report/statements.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/spec/run_plan.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"

namespace netrig::controller::report {
namespace {

using spec::HumanDuration;
using spec::Rfc2544Plan;
using spec::Rfc2544Test;

// absl::StrCat prints doubles in their shortest form: 0.1 -> "0.1", 100 -> "100".
std::string Pct(double v) { return absl::StrCat(v, "%"); }

struct CompiledSpec {
  Rfc2544Plan plan;  // defaults applied
  std::vector<std::string> deviations;
};

// The stored spec compiled the way the controller compiled it before the run. The status is
// dropped first: it does not change what ran and must not keep the statements from rendering.
CompiledSpec Compile(const v1::TestRun& stored) {
  v1::TestRun run = stored;
  run.clear_status();
  CompiledSpec out;
  absl::StatusOr<spec::RunPlan> plan = spec::CompileTestRun(run);
  if (plan.ok()) {
    out.plan = plan->rfc2544;
    out.deviations = plan->deviations;
  } else {
    out.deviations.push_back(absl::StrCat("the stored spec does not compile (",
                                          plan.status().message(),
                                          "); the method statements show RFC 2544 defaults"));
  }
  return out;
}

std::string FrameFormat(const Rfc2544Plan& plan) {
  const bool v6 = plan.l3 == spec::L3::kIpv6;
  return absl::StrCat(
      "RFC 2544 Appendix C UDP test frames over ", v6 ? "IPv6" : "IPv4",
      " on Ethernet II, carrying the netrig signature (flow id, sequence number, transmit "
      "timestamp) in the UDP payload; addresses from the benchmarking range ",
      v6 ? "2001:2::/48 (RFC 5180)" : "198.18.0.0/15 (RFC 2544 App. C.2.2)", "; frame sizes ",
      plan.frame_sizes.empty() ? "as listed in the results" : absl::StrJoin(plan.frame_sizes, ", "),
      " bytes including the FCS (RFC 1242 §3.5).");
}

std::string SearchMethod(const Rfc2544Plan& plan) {
  const double tol = plan.loss_tolerance_pct;
  return absl::StrCat("Throughput (RFC 2544 §26.1): binary search between ", Pct(plan.min_rate_pct),
                      " and ", Pct(plan.max_rate_pct),
                      " of the theoretical maximum frame rate, first trial at ",
                      Pct(plan.max_rate_pct), ", resolution ", Pct(plan.resolution_pct),
                      " of line rate, loss tolerance ", Pct(tol),
                      tol == 0 ? " (zero loss, RFC 1242 §3.17)"
                               : " (a tester extension: RFC 2544 throughput is the zero-loss rate)",
                      "; every trial lasts ", HumanDuration(plan.trial_duration), ".");
}

std::string LatencyMethod(const Rfc2544Plan& plan) {
  if (!plan.Has(Rfc2544Test::kLatency)) {
    return "Latency (RFC 2544 §26.2) was not requested.";
  }
  return absl::StrCat(
      "Latency (RFC 2544 §26.2): ", plan.latency.trials, " trials of ",
      HumanDuration(plan.latency.duration),
      " per frame size at the throughput rate of that size. Every frame is timestamped rather "
      "than one tagged frame per trial; each trial contributes its mean, and the reported "
      "average is the mean over the trials (min/max are the extremes over all trials, p99 and "
      "PDV p99 the mean of the trials' values).");
}

std::string FrameLossMethod(const Rfc2544Plan& plan) {
  if (!plan.Has(Rfc2544Test::kFrameLoss)) {
    return "Frame loss rate (RFC 2544 §26.3) was not requested.";
  }
  return absl::StrCat("Frame loss rate (RFC 2544 §26.3): first trial at ", Pct(plan.max_rate_pct),
                      " of the theoretical maximum rate, then down in steps of ",
                      Pct(plan.frame_loss.step_pct),
                      " until two successive trials have no loss; loss % = (sent - received) * "
                      "100 / sent; trials of ",
                      HumanDuration(plan.trial_duration), ".");
}

std::string BackToBackMethod(const Rfc2544Plan& plan) {
  if (!plan.Has(Rfc2544Test::kBackToBack)) {
    return "Back-to-back frames (RFC 2544 §26.4, RFC 9004) were not requested.";
  }
  return absl::StrCat(
      "Back-to-back frames (RFC 2544 §26.4 as updated by RFC 9004): N = ", plan.back_to_back.trials,
      " independent binary searches of the burst length per frame size, minimum step 1 frame, "
      "upper limit the burst that lasts ",
      HumanDuration(plan.back_to_back.max_burst_duration), " at line rate, each burst followed by ",
      HumanDuration(plan.back_to_back.trial_duration),
      " idle. Reported: average (the benchmark), minimum, maximum, sample standard deviation "
      "and the corrected DUT buffer time = avg / Rmax * (1 - throughput / Rmax).");
}

// Deviations only the results show: trials that were discarded, calibrations that failed,
// histograms the report cannot read.
void ResultDeviations(const v1::RunResults& results, std::vector<std::string>& out) {
  int invalid = 0;
  int unreadable = 0;
  for (const v1::TrialRecord& t : results.trials()) {
    invalid += t.valid() ? 0 : 1;
    unreadable += KnownHistogramLayout(t.latency_histogram()) ? 0 : 1;
  }
  if (invalid > 0) {
    out.push_back(absl::StrCat(invalid, " trial", invalid == 1 ? " was" : "s were",
                               " invalid and not used (reason in the trial table)"));
  }
  if (unreadable > 0) {
    out.push_back(absl::StrCat(unreadable, " latency histogram", unreadable == 1 ? "" : "s",
                               " use an unknown bucket layout and are left out"));
  }
  for (const v1::Calibration& c : results.fingerprint().calibration()) {
    if (!c.error().empty()) {
      out.push_back(absl::StrCat("calibration ", c.direction(), " ", c.frame_size(),
                                 " B could not be measured: ", c.error()));
    }
  }
}

}  // namespace

Statements BuildStatements(const v1::RunResults& results) {
  CompiledSpec compiled = Compile(results.run().test_run());
  const Rfc2544Plan& plan = compiled.plan;
  Statements s;
  s.latency_definition =
      "Store-and-forward latency as measured by the tester (RFC 1242 §3.8, RFC 2544 §26.2): "
      "the sending agent timestamps each test frame when it transmits it and the receiving "
      "agent timestamps it on arrival; latency = arrival time - transmit time. The tester's own "
      "path is included; the latency floor in the run fingerprint measures it.";
  s.frame_format = FrameFormat(plan);
  s.search_method = SearchMethod(plan);
  s.latency_method = LatencyMethod(plan);
  s.frame_loss_method = FrameLossMethod(plan);
  s.back_to_back_method = BackToBackMethod(plan);
  s.line_rate =
      "Theoretical maximum frame rate = link speed / (8 * (frame size + 20)), the 20 bytes being "
      "preamble, SFD and minimum inter-frame gap (RFC 2544 App. B, RFC 5180 App. A); the link "
      "speed of a direction is the slower of its two ports.";
  s.deviations = std::move(compiled.deviations);
  ResultDeviations(results, s.deviations);
  return s;
}

}  // namespace netrig::controller::report
