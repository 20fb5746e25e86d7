// The run report: a finished benchmark run rendered as three files.
//
//   report.json  complete and machine-readable, schema "netrig.io/report/v1"
//                (docs/schemas/report-v1.schema.json);
//   junit.xml    one test case per benchmark x frame size x direction, for Jenkins / GitLab;
//   report.html  one self-contained page (inline CSS and SVG charts, no scripts, no external
//                assets) laid out like a commercial tester's report.
//
// Everything a report is made of comes from RunResults: run() holds the run record (spec and
// final status), trials() every trial, results() the metric rows, outcomes() one per benchmark
// x frame size x direction, fingerprint() the fingerprint. The renderers are pure functions of
// it; any RunResults (even an empty one) renders. See docs/reports.md.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::report {

inline constexpr char kSchemaVersion[] = "netrig.io/report/v1";

std::string RenderJson(const v1::RunResults& results);
std::string RenderJUnit(const v1::RunResults& results);
std::string RenderHtml(const v1::RunResults& results);

// Writes report.json, junit.xml and report.html into dir (created if missing); returns the
// paths in that order. Internal error naming the file when a write fails.
absl::StatusOr<std::vector<std::string>> WriteReports(const v1::RunResults& results,
                                                      const std::string& dir);

}  // namespace netrig::controller::report
