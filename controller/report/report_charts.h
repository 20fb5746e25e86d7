// The four charts of report.html, each an inline <svg class="chart"> with a fixed id:
//   chart-throughput  frame rate vs frame size: theoretical maximum and measured (RFC 2544 §26.1)
//   chart-latency     latency min/avg/max/p99 vs frame size (RFC 2544 §26.2 table, drawn)
//   chart-frameloss   frame loss % vs offered load %, both axes 0..100 (RFC 2544 §26.3)
//   chart-histogram   latency distribution of the latency trials, one panel per frame size
// Each renders "no data" when the run produced nothing to draw.
#pragma once

#include <string>

#include "controller/report/report_model.h"

namespace netrig::controller::report {

std::string ThroughputChart(const ReportModel& model);
std::string LatencyChart(const ReportModel& model);
std::string FrameLossChart(const ReportModel& model);
std::string LatencyHistogramChart(const ReportModel& model);

}  // namespace netrig::controller::report
