// report.json: the complete, machine-readable report. The shape is fixed by
// docs/schemas/report-v1.schema.json; a change that is not backwards compatible needs a new
// schemaVersion (and a new schema file), additions need the schema updated in the same change.
#include <cmath>
#include <nlohmann/json.hpp>

#include "controller/report/report.h"
#include "controller/report/report_model.h"

namespace netrig::controller::report {
namespace {

using nlohmann::json;

// Measured values are numbers; a non-finite one (never expected) becomes null instead of
// making the document invalid JSON.
json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
// A value that is unknown when zero (a theoretical maximum without a link speed).
json PositiveOrNull(double v) { return std::isfinite(v) && v > 0 ? json(v) : json(nullptr); }
// Optional text (timestamps): null when absent rather than "".
json TextOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json RunJson(const RunSummary& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"namespace", s.namespace_name},
          {"level", s.level},
          {"phase", s.phase},
          {"verdict", s.verdict},
          {"summary", s.summary},
          {"reason", s.reason},
          {"createdTime", TextOrNull(s.created_time)},
          {"startTime", TextOrNull(s.start_time)},
          {"completionTime", TextOrNull(s.completion_time)},
          {"durationSeconds", s.duration_s ? Num(*s.duration_s) : json(nullptr)},
          {"specHash", s.spec_hash}};
}

json SpecObject(const v1::TestRun& test_run) {
  json spec = json::parse(SpecJson(test_run, false), nullptr, /*allow_exceptions=*/false);
  return spec.is_object() ? spec : json::object();
}

json CalibrationJson(const v1::Calibration& c) {
  return {{"direction", c.direction()},
          {"frameSize", c.frame_size()},
          {"durationSeconds", Num(c.duration_s())},
          {"maxTxFps", Num(c.max_tx_fps())},
          {"maxTxPercentLineRate", Num(c.max_tx_percent_line_rate())},
          {"floorOfferedFps", Num(c.floor_offered_fps())},
          {"floorRxFrames", c.floor_rx_frames()},
          {"latencyFloorMinNs", c.latency_floor_min_ns()},
          {"latencyFloorAvgNs", c.latency_floor_avg_ns()},
          {"latencyFloorP99Ns", c.latency_floor_p99_ns()},
          {"error", c.error()}};
}

json FingerprintJson(const v1::RunFingerprint& fp) {
  json agents = json::array();
  for (const v1::AgentFingerprint& a : fp.agents()) {
    agents.push_back({{"id", a.id()}, {"version", a.version()}, {"workerCores", a.worker_cores()}});
  }
  json ports = json::array();
  for (const v1::PortFingerprint& p : fp.ports()) {
    ports.push_back({{"role", p.role()},
                     {"agentId", p.agent_id()},
                     {"agentPort", p.agent_port()},
                     {"pmd", p.pmd()},
                     {"device", p.device()},
                     {"speedBps", p.speed_bps()},
                     {"mac", p.mac()},
                     {"gatewayMac", p.gateway_mac()}});
  }
  json calibration = json::array();
  for (const v1::Calibration& c : fp.calibration()) {
    calibration.push_back(CalibrationJson(c));
  }
  json parameters = json::object();
  for (const auto& [key, value] : fp.sut_parameters()) {
    parameters[key] = value;  // json objects are ordered by key: stable output
  }
  return {{"specHash", fp.spec_hash()},
          {"sutTemplate", fp.sut_template()},
          {"sutVersion", fp.sut_version()},
          {"sutParameters", parameters},
          {"sutProvider", fp.sut_provider()},
          {"sutInstance", fp.sut_instance()},
          {"agents", agents},
          {"ports", ports},
          {"calibration", calibration},
          {"controllerVersion", fp.controller_version()},
          {"host", fp.host()}};
}

json BucketsJson(const std::vector<HistogramBucket>& buckets) {
  json out = json::array();
  for (const HistogramBucket& b : buckets) {
    out.push_back({{"lowerNs", b.lower_ns}, {"upperNs", b.upper_ns}, {"count", b.count}});
  }
  return out;
}

json FrameSizeJson(const FrameSizeResult& f) {
  json out = {{"frameSize", f.frame_size},
              {"maxTheoreticalFps", PositiveOrNull(f.max_theoretical_fps)},
              {"throughput", nullptr},
              {"latency", nullptr},
              {"frameLoss", json::array()},
              {"backToBack", nullptr},
              {"latencyHistogram", BucketsJson(f.latency_histogram)}};
  if (const auto& t = f.throughput) {
    out["throughput"] = {{"fps", Num(t->fps)},
                         {"l2Mbps", Num(t->l2_mbps)},
                         {"percentLineRate", Num(t->percent_line_rate)},
                         {"maxTheoreticalFps", PositiveOrNull(t->max_theoretical_fps)},
                         {"trials", t->trials}};
  }
  if (const auto& l = f.latency) {
    out["latency"] = {{"minNs", Num(l->min_ns)},
                      {"avgNs", Num(l->avg_ns)},
                      {"maxNs", Num(l->max_ns)},
                      {"p99Ns", Num(l->p99_ns)},
                      {"pdvP99Ns", Num(l->pdv_p99_ns)},
                      {"rateFps", Num(l->rate_fps)},
                      {"ratePercent", Num(l->rate_percent)}};
  }
  for (const LossPoint& p : f.frame_loss) {
    out["frameLoss"].push_back(
        {{"offeredPercent", Num(p.offered_percent)}, {"lossPercent", Num(p.loss_percent)}});
  }
  if (const auto& b = f.back_to_back) {
    out["backToBack"] = {{"avgFrames", Num(b->avg_frames)},
                         {"minFrames", Num(b->min_frames)},
                         {"maxFrames", Num(b->max_frames)},
                         {"stddevFrames", Num(b->stddev_frames)},
                         {"correctedBufferTimeSeconds", Num(b->corrected_buffer_time_s)}};
  }
  return out;
}

json ResultsJson(const std::vector<DirectionResult>& directions) {
  json out = json::array();
  for (const DirectionResult& d : directions) {
    json sizes = json::array();
    for (const FrameSizeResult& f : d.frame_sizes) {
      sizes.push_back(FrameSizeJson(f));
    }
    out.push_back({{"direction", d.direction}, {"frameSizes", sizes}});
  }
  return out;
}

json OutcomeJson(const v1::TestOutcome& o) {
  return {{"test", o.test()},
          {"frameSize", o.frame_size()},
          {"direction", o.direction()},
          {"state", o.state()},
          {"reason", o.reason()},
          {"trials", o.trials()},
          {"durationSeconds", Num(o.duration_s())}};
}

json TrialJson(const v1::TrialRecord& t) {
  return {{"index", t.index()},
          {"test", t.test()},
          {"frameSize", t.frame_size()},
          {"direction", t.direction()},
          {"offeredRatePercent", Num(t.offered_rate_percent())},
          {"offeredFps", Num(t.offered_fps())},
          {"burstFrames", t.burst_frames()},
          {"txFrames", t.tx_frames()},
          {"rxFrames", t.rx_frames()},
          {"rxFps", Num(t.rx_fps())},
          {"lossPercent", Num(t.loss_percent())},
          {"passed", t.passed()},
          {"valid", t.valid()},
          {"invalidReason", t.invalid_reason()},
          {"latencyMinNs", t.latency_min_ns()},
          {"latencyAvgNs", t.latency_avg_ns()},
          {"latencyMaxNs", t.latency_max_ns()},
          {"latencyP99Ns", t.latency_p99_ns()},
          {"pdvP99Ns", t.pdv_p99_ns()},
          {"startedTime", TextOrNull(t.started_time())},
          {"note", t.note()},
          {"latencyHistogram",
           {{"subBucketBits", t.latency_histogram().sub_bucket_bits()},
            {"buckets", BucketsJson(HistogramBuckets(t.latency_histogram()))}}}};
}

json StatementsJson(const Statements& s) {
  return {{"latencyDefinition", s.latency_definition},
          {"frameFormat", s.frame_format},
          {"searchMethod", s.search_method},
          {"latencyMethod", s.latency_method},
          {"frameLossMethod", s.frame_loss_method},
          {"backToBackMethod", s.back_to_back_method},
          {"lineRate", s.line_rate},
          {"deviations", s.deviations}};
}

}  // namespace

std::string RenderJson(const v1::RunResults& results) {
  const ReportModel model = BuildModel(results);
  json outcomes = json::array();
  for (const v1::TestOutcome& o : results.outcomes()) {
    outcomes.push_back(OutcomeJson(o));
  }
  json trials = json::array();
  for (const v1::TrialRecord& t : results.trials()) {
    trials.push_back(TrialJson(t));
  }
  const json doc = {{"schemaVersion", kSchemaVersion},
                    {"run", RunJson(model.run)},
                    {"spec", SpecObject(results.run().test_run())},
                    {"fingerprint", FingerprintJson(results.fingerprint())},
                    {"results", ResultsJson(model.directions)},
                    {"outcomes", outcomes},
                    {"trials", trials},
                    {"statements", StatementsJson(model.statements)}};
  // Invalid UTF-8 in a user string is replaced rather than thrown about (no exceptions here).
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace netrig::controller::report
