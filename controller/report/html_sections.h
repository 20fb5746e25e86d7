// The second half of report.html: back-to-back and frame-loss tables, the per-trial table, the
// test parameters, the run fingerprint and the RFC 2544 reporting statements. Each returns one
// <section>; every string from the run is escaped.
#pragma once

#include <string>

#include "controller/report/report_model.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::report {

std::string BackToBackSection(const ReportModel& model);  // RFC 9004 §7 table
std::string FrameLossSection(const ReportModel& model);   // RFC 2544 §26.3 values
std::string TrialsSection(const v1::RunResults& results);
std::string ParametersSection(const v1::RunResults& results);
std::string FingerprintSection(const v1::RunFingerprint& fingerprint);
std::string StatementsSection(const Statements& statements);

}  // namespace netrig::controller::report
