// The RFC 2544 reporting statements of a run: which latency definition, frame format and
// search method were used, and where the run departed from the RFCs' recommendations. RFC 2544
// requires each of them in the report (§7 configuration, §8 frame formats, §26.2 latency
// definition, §24 trial length); RFC 9004 §7 adds the back-to-back search parameters.
#pragma once

#include "controller/report/report_model.h"
#include "proto/netrig/v1/controller.pb.h"

namespace netrig::controller::report {

// Statements for the run's spec with the defaults applied (lib/spec compiles the spec, so the
// report states exactly the values the controller ran with), plus the deviations lib/spec
// recorded and those visible in the results (invalid trials, unreadable histograms).
Statements BuildStatements(const v1::RunResults& results);

}  // namespace netrig::controller::report
