#include "agent/control/standalone.h"

#include <algorithm>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/control/agent_runtime.h"
#include "agent/control/plan_compiler.h"
#include "lib/common/status_macros.h"

namespace netrig::agent::control {
namespace {

absl::StatusOr<absl::Duration> ParseDurationField(const std::string& text, absl::Duration dflt,
                                                  const std::string& field) {
  if (text.empty()) {
    return dflt;
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a duration (examples: 5s, 500ms, 1m)"));
  }
  return d;
}

}  // namespace

absl::Status ValidateRun(const v1::StandaloneRun& run) {
  RETURN_IF_ERROR(ValidatePorts(run.ports()));
  if (run.streams_size() == 0) {
    return absl::InvalidArgumentError("streams: at least one stream is needed");
  }
  std::vector<std::string> names;
  for (const auto& p : run.ports()) names.push_back(p.name());
  for (int i = 0; i < run.streams_size(); ++i) {
    RETURN_IF_ERROR(ValidateStream(run.streams(i), absl::StrCat("streams[", i, "]"), names));
  }
  RETURN_IF_ERROR(ParseDurationField(run.duration(), absl::Seconds(5), "duration").status());
  RETURN_IF_ERROR(ParseDurationField(run.drain(), absl::Milliseconds(500), "drain").status());
  RETURN_IF_ERROR(ParseDurationField(run.late_threshold(), absl::InfiniteDuration(),
                                     "late_threshold").status());
  return absl::OkStatus();
}

absl::StatusOr<v1::StandaloneResult> RunStandalone(const v1::StandaloneRun& run,
                                                   const RunOptions& options) {
  RETURN_IF_ERROR(ValidateRun(run));
  ASSIGN_OR_RETURN(absl::Duration duration,
                   ParseDurationField(run.duration(), absl::Seconds(5), "duration"));
  ASSIGN_OR_RETURN(absl::Duration drain,
                   ParseDurationField(run.drain(), absl::Milliseconds(500), "drain"));
  ASSIGN_OR_RETURN(absl::Duration late, ParseDurationField(run.late_threshold(),
                                                           absl::InfiniteDuration(),
                                                           "late_threshold"));
  // The streams are known up front: size each port's mbufs for its largest frame.
  google::protobuf::RepeatedPtrField<v1::PortConfig> ports = run.ports();
  for (int i = 0; i < run.streams_size(); ++i) {
    ASSIGN_OR_RETURN(std::vector<uint32_t> sizes,
                     StreamSizes(run.streams(i), absl::StrCat("streams[", i, "]")));
    for (auto& p : ports) {
      if (p.name() == run.streams(i).tx_port() && p.max_frame_bytes() == 0) {
        p.set_max_frame_bytes(std::max<uint32_t>(1518, *std::max_element(sizes.begin(), sizes.end())));
      } else if (p.name() == run.streams(i).tx_port()) {
        p.set_max_frame_bytes(std::max(p.max_frame_bytes(), *std::max_element(sizes.begin(), sizes.end())));
      }
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<AgentRuntime> runtime,
                   AgentRuntime::Create(ports, options.runtime));
  v1::TrialStart trial;
  trial.set_trial_id("standalone");
  *trial.mutable_streams() = run.streams();
  trial.set_duration_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(duration)));
  trial.set_drain_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(drain)));
  trial.set_late_threshold_ns(
      late == absl::InfiniteDuration() ? 0 : static_cast<uint64_t>(absl::ToInt64Nanoseconds(late)));
  ASSIGN_OR_RETURN(TrialOutcome outcome, runtime->RunTrial(trial, options.interrupt));
  v1::StandaloneResult result;
  for (const v1::PortCapability& pc : runtime->PortCapabilities()) *result.add_ports() = pc;
  *result.mutable_stats() = std::move(outcome.stats);
  *result.mutable_counters() = outcome.counters;
  result.set_duration_s(absl::ToDoubleSeconds(duration));
  result.set_poll_mode(runtime->poll_mode());
  result.set_interrupted(outcome.interrupted);
  return result;
}

std::string FormatJson(const v1::StandaloneResult& result) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(result, &out, opts);
  return out;
}

namespace {
std::string Us(uint64_t ns) { return absl::StrFormat("%.2f", static_cast<double>(ns) / 1000.0); }
}  // namespace

std::string FormatTable(const v1::StandaloneResult& r, int max_flow_rows) {
  std::string out;
  absl::StrAppendFormat(&out, "ports:\n");
  for (const auto& p : r.ports()) {
    absl::StrAppendFormat(&out, "  %-10s %-14s %-12s %s  %.0f Mb/s\n", p.name(), p.pmd(),
                          p.device().empty() ? "-" : p.device(), p.mac(),
                          static_cast<double>(p.speed_bps()) / 1e6);
  }
  absl::StrAppendFormat(&out,
                        "\nstreams (duration %.3f s, %s polling%s):\n"
                        "  %-10s %6s %12s %12s %12s %10s %9s %6s %6s %9s %9s %9s %9s\n",
                        r.duration_s(), r.poll_mode(), r.interrupted() ? ", INTERRUPTED" : "",
                        "stream", "flows", "tx", "rx-unique", "lost", "loss%", "rx-Mb/s", "dup",
                        "reord", "lat-min", "lat-avg", "lat-p99", "lat-max");
  for (const auto& s : r.stats().streams()) {
    const double loss = s.tx_packets() ? 100.0 * static_cast<double>(s.lost()) /
                                             static_cast<double>(s.tx_packets())
                                       : 0;
    absl::StrAppendFormat(&out, "  %-10s %6u %12u %12u %12d %10.4f %9.2f %6u %6u %9s %9s %9s %9s\n",
                          s.stream(), s.flows(), s.tx_packets(), s.unique_packets(), s.lost(), loss,
                          s.rx_bits_per_second() / 1e6, s.duplicates(), s.reordered(),
                          Us(s.latency_min_ns()), Us(s.latency_avg_ns()), Us(s.latency_p99_ns()),
                          Us(s.latency_max_ns()));
  }
  absl::StrAppendFormat(&out, "  (latency in microseconds; rates over the arrival span)\n");
  const int nflows = r.stats().flows_size();
  absl::StrAppendFormat(&out,
                        "\nflows%s:\n  %-8s %-10s %10s %10s %8s %6s %6s %6s %9s %9s %9s %9s %10s\n",
                        nflows > max_flow_rows ? absl::StrFormat(" (first %d of %d)", max_flow_rows, nflows) : "",
                        "flow", "stream", "tx", "rx", "lost", "dup", "reord", "late", "lat-min",
                        "lat-avg", "lat-max", "jitter", "max-gap-us");
  for (int i = 0; i < nflows && i < max_flow_rows; ++i) {
    const auto& f = r.stats().flows(i);
    absl::StrAppendFormat(&out, "  %-8u %-10s %10u %10u %8d %6u %6u %6u %9s %9s %9s %9s %10s\n",
                          f.flow_id(), f.stream(), f.tx_packets(), f.unique_packets(), f.lost(),
                          f.duplicates(), f.reordered(), f.late(), Us(f.latency_min_ns()),
                          Us(f.latency_avg_ns()), Us(f.latency_max_ns()), Us(f.jitter_ns()),
                          Us(f.max_gap_ns()));
  }
  const auto& c = r.counters();
  absl::StrAppendFormat(&out,
                        "\ncounters: rx %u, not-test %u, unknown-flow %u, tx-alloc-fail %u, "
                        "tx-ring-full %u, idle-sleeps %u\n",
                        c.rx_packets(), c.rx_not_probe(), c.rx_unknown_flow(), c.tx_alloc_fail(),
                        c.tx_ring_full(), c.idle_sleeps());
  return out;
}

}  // namespace netrig::agent::control
